"""Exporting a pack: who may, what goes in, and the audit event that says it happened."""

import uuid
from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session

from app.errors import Forbidden
from app.export.content import PackFilters, collect
from app.export.decrypt import decrypted
from app.export.pack import Pack, build
from app.keys import Keys
from app.models.share import Share
from app.models.types import utcnow
from app.models.user import User
from app.services import audit, data_keys, evidence
from app.storage import BlobStore
from app.storage.crypto import HEADER_SIZE


def export_pack(
    db: Session,
    victim: User,
    actor: User,
    filters: PackFilters,
    *,
    store: BlobStore,
    keys: Keys,
    share: Share | None = None,
) -> Pack:
    """Everything is read inside the request's transaction; only the file bytes stream later."""
    if share is not None and not share.can_export:
        raise Forbidden("This person has not allowed you to export their log.")
    generated_at: datetime = utcnow()
    audit.record(
        db,
        victim_id=victim.id,
        actor=actor,
        action="pack.exported",
        target_kind="share" if share else "account",
        target_id=share.id if share else victim.id,
    )
    content = collect(db, victim, actor, filters, notes_of_share=share.id if share else None)
    data_key = data_keys.data_key_for(db, victim.id, keys) if content.evidence else b""
    rows = content.evidence_rows

    if rows:
        # A store that does not answer fails the pack here, before any header goes out (a
        # 503, app/api/faults.py), rather than part-way through a 200.
        first = next(iter(rows.values()))
        store.read_at(evidence.blob_key(first.blob_id), 0, HEADER_SIZE)

    def evidence_bytes(evidence_id: uuid.UUID) -> Iterator[bytes]:
        row = rows[evidence_id]
        return decrypted(store, evidence.blob_key(row.blob_id), data_key, row.size)

    return build(
        content,
        signing_key=keys.signing_key,
        generated_at=generated_at,
        evidence_bytes=evidence_bytes,
    )
