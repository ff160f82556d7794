"""Evidence: files kept byte-exact, hashed and encrypted as they arrive (docs/architecture.md,
"Evidence: from the phone to the blob store").

A file comes in through Ingest, whichever way it was uploaded: every chunk is counted against
the limits, hashed, checked for its type once the first bytes are in, encrypted and written to
the blob store. The blob becomes visible only on commit, and the evidence record only after the
whole file is in and its hash matches what the client said, so a failed or refused upload
leaves nothing behind.
"""

import hashlib
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session, col, delete, func, select

from app.db import after_commit
from app.errors import (
    ChecksumMismatch,
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from app.models.evidence import Evidence, EvidenceFields, EvidenceIncident, EvidencePublic
from app.models.types import utcnow
from app.models.upload import Upload
from app.models.user import User
from app.services import file_metadata, incidents, records, sealing
from app.services.media_types import SNIFF_BYTES, MediaType, sniff
from app.storage import BlobStore, BlobWriter, write_blob
from app.storage.crypto import StreamEncryptor
from app.storage.reader import BlobReader
from app.storage.staging import staging_for

MAX_FILENAME = 255


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    quota_bytes: int


def blob_key(blob_id: uuid.UUID) -> str:
    return blob_id.hex


def thumbnail_key(blob_id: uuid.UUID) -> str:
    return blob_id.hex + ".thumb"


def clean_filename(name: str | None) -> str:
    """A name fit to show: no folders, no control or direction-changing characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    kept = "".join(
        c
        for c in unicodedata.normalize("NFC", base)
        if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co")
    ).strip(" .")
    if len(kept) > MAX_FILENAME:
        stem, dot, ext = kept.rpartition(".")
        kept = (
            (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext)
            if dot and len(ext) <= 16
            else kept[:MAX_FILENAME]
        )
    return kept or "unnamed"


def valid_sha256(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput("sha256 must be 64 hexadecimal characters.", field="sha256")
    return value


def bytes_in_use(
    db: Session, owner_id: uuid.UUID, *, except_upload: uuid.UUID | None = None
) -> int:
    """What counts against the quota: kept evidence and uploads still arriving."""
    kept = db.exec(
        select(func.coalesce(func.sum(Evidence.size), 0)).where(Evidence.owner_id == owner_id)
    ).one()
    pending = select(func.coalesce(func.sum(Upload.length), 0)).where(Upload.owner_id == owner_id)
    if except_upload is not None:
        pending = pending.where(col(Upload.id) != except_upload)
    return int(kept) + int(db.exec(pending).one())


def check_room(
    db: Session, owner_id: uuid.UUID, limits: Limits, incoming: int, **kw: uuid.UUID | None
) -> None:
    if incoming > limits.max_file_bytes:
        raise PayloadTooLarge(f"Files can be up to {limits.max_file_bytes} bytes.")
    if bytes_in_use(db, owner_id, **kw) + incoming > limits.quota_bytes:
        raise PayloadTooLarge("There is no more room for files in this account.")


class Ingest:
    """One file arriving, a chunk at a time, from multipart or tus."""

    def __init__(self, writer: BlobWriter, data_key: bytes, room: int) -> None:
        self._writer = writer
        self._encryptor = StreamEncryptor(data_key)
        self._room = room
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self.size = 0
        self.media_type: MediaType | None = None
        writer.write(self._encryptor.start())

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self._room:
            raise PayloadTooLarge("This file is larger than the room left for files.")
        self._hash.update(data)
        if self.media_type is None:
            self._head += data[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._identify()
        if out := self._encryptor.update(data):
            self._writer.write(out)

    def _identify(self) -> None:
        if not self._head:
            raise InvalidInput("The file is empty.", field="file")
        self.media_type = sniff(bytes(self._head))
        if self.media_type is None:
            raise UnsupportedMediaType(
                "This app keeps photos, video, audio, PDFs, text, CSV call logs and emails."
            )

    def finish(self) -> str:
        """Close the stream and return the SHA-256 of what arrived (still uncommitted)."""
        if self.media_type is None:
            self._identify()
        self._writer.write(self._encryptor.finish())
        return self._hash.hexdigest()


@dataclass(frozen=True)
class Arrived:
    """A file that is wholly in the store (committed) and may become evidence."""

    evidence_id: uuid.UUID
    blob_id: uuid.UUID
    original_filename: str
    media_type: MediaType
    size: int
    sha256: str
    client_sha256: str | None


def read_incident_links(
    db: Session, evidence_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    if not evidence_ids:
        return {}
    rows = db.exec(
        select(EvidenceIncident.evidence_id, EvidenceIncident.incident_id).where(
            col(EvidenceIncident.evidence_id).in_(evidence_ids)
        )
    ).all()
    links: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for evidence_id, incident_id in rows:
        links[evidence_id].append(incident_id)
    return {key: sorted(value) for key, value in links.items()}


TABLE = Evidence.__tablename__
# Set when the file is kept and never changed (bound to revision 0); the description follows
# the record's revisions.
SEALED_ONCE = ("original_filename", "sha256")


def _open(sealer: sealing.Sealer, row: Evidence | Row[Any], name: str, revision: int = 0) -> str:
    return sealer.opened(
        getattr(row, name), table=TABLE, row_id=row.id, field=name, revision=revision
    )


def public_of(
    sealer: sealing.Sealer, row: Evidence | Row[Any], incident_ids: list[uuid.UUID]
) -> dict[str, Any]:
    """The evidence's read model: its public fields (JSON names) from the table model or a row
    of its columns, sealed text opened."""
    return {
        **records.server_fields(sealer, TABLE, row),
        "description": _open(sealer, row, "description", row.revision),
        "incident_ids": incident_ids,
        "original_filename": _open(sealer, row, "original_filename"),
        "media_type": row.media_type,
        "size": row.size,
        "sha256": _open(sealer, row, "sha256"),
        "client_sha256_matches": row.client_sha256_matches,
        "captured_at": row.captured_at.astimezone(UTC) if row.captured_at else None,
        "uploaded_at": row.recorded_at,
        "metadata": sealer.open_json(
            row.file_metadata, table=TABLE, row_id=row.id, field="file_metadata"
        ),
        "has_thumbnail": row.thumbnail_size is not None,
    }


def file_name(db: Session, evidence: Evidence) -> str:
    return _open(sealing.sealer(db, evidence.owner_id), evidence, "original_filename")


def file_sha256(db: Session, evidence: Evidence) -> str:
    return _open(sealing.sealer(db, evidence.owner_id), evidence, "sha256")


def _read(db: Session, evidence: Evidence) -> EvidenceFields:
    return EvidenceFields.model_construct(
        description=_open(
            sealing.sealer(db, evidence.owner_id), evidence, "description", evidence.revision
        ),
        incident_ids=read_incident_links(db, [evidence.id]).get(evidence.id, []),
    )


def _write(db: Session, evidence: Evidence, fields: EvidenceFields) -> None:
    sealer = sealing.sealer(db, evidence.owner_id)
    description = sealer.seal(
        fields.description,
        table=TABLE,
        row_id=evidence.id,
        field="description",
        revision=evidence.revision,
    )
    assert description is not None
    evidence.description = description
    if evidence.revision == 1:
        for name in SEALED_ONCE:
            setattr(
                evidence,
                name,
                sealer.seal(getattr(evidence, name), table=TABLE, row_id=evidence.id, field=name),
            )
        evidence.file_metadata = sealer.seal_json(
            evidence.file_metadata, table=TABLE, row_id=evidence.id, field="file_metadata"
        )


def _link(db: Session, evidence: Evidence, fields: EvidenceFields) -> None:
    wanted = set(fields.incident_ids)
    incidents.require_owned(db, evidence.owner_id, wanted)
    db.exec(delete(EvidenceIncident).where(col(EvidenceIncident.evidence_id) == evidence.id))
    for incident_id in sorted(wanted):
        db.add(EvidenceIncident(evidence_id=evidence.id, incident_id=incident_id))
    db.flush()


KIND = records.RecordKind(
    name="evidence",
    model=Evidence,
    fields=EvidenceFields,
    read=_read,
    write=_write,
    search_text=lambda fields: fields.description,
    after_write=_link,
    created_verb="uploaded",
)


def reader(store: BlobStore, evidence: Evidence, data_key: bytes) -> BlobReader:
    return BlobReader(store, blob_key(evidence.blob_id), data_key, evidence.size)


@dataclass(frozen=True)
class Examined:
    """What was learned from a file's own bytes: its claimed capture time and details, and the
    size of the thumbnail stored beside it (None when it has none)."""

    claims: file_metadata.FileClaims
    thumbnail_size: int | None


def examine(store: BlobStore, arrived: Arrived, data_key: bytes) -> Examined:
    """Read metadata and make the thumbnail. Decoding an image is slow, so callers do this
    before their write transaction, not inside it; the thumbnail is removed with the blob if
    the file is then refused (discard_blobs)."""

    # A fresh reader for each parser: a parser may close the file it was given.
    def plaintext() -> BlobReader:
        return BlobReader(store, blob_key(arrived.blob_id), data_key, arrived.size)

    if arrived.media_type.mime.startswith("image/"):
        claims, preview = file_metadata.examine_image(plaintext())
    else:
        claims, preview = file_metadata.read_claims(plaintext(), arrived.media_type.mime), None
    if preview is not None:
        write_blob(store, thumbnail_key(arrived.blob_id), _encrypted(data_key, preview))
    return Examined(claims, len(preview) if preview is not None else None)


def keep(
    db: Session,
    owner: User,
    arrived: Arrived,
    fields: EvidenceFields,
    examined: Examined,
) -> tuple[Evidence, bool]:
    """Record a file that has arrived and been examined. On any refusal the caller removes the
    blob and its thumbnail (discard_blobs)."""
    if arrived.client_sha256 is not None and arrived.client_sha256 != arrived.sha256:
        raise ChecksumMismatch(
            "The file's SHA-256 is not the one your device worked out, so it was not kept. "
            "Try the upload again."
        )
    existing = db.exec(
        records.scoped(KIND, owner.id).where(Evidence.id == arrived.evidence_id)
    ).first()
    if existing is not None:
        if file_sha256(db, existing) != arrived.sha256:
            raise Conflict("Different evidence was already saved with this id.")
        return existing, False
    uploaded_at = utcnow()
    evidence, created = records.create(
        db,
        KIND,
        owner,
        fields,
        arrived.evidence_id,
        columns={
            "blob_id": arrived.blob_id,
            "original_filename": arrived.original_filename,
            "media_type": arrived.media_type.mime,
            "size": arrived.size,
            "sha256": arrived.sha256,
            "client_sha256_matches": True if arrived.client_sha256 else None,
            "captured_at": examined.claims.captured_at,
            "file_metadata": examined.claims.details,
            "thumbnail_size": examined.thumbnail_size,
            "timeline_at": examined.claims.captured_at or uploaded_at,
        },
    )
    return evidence, created


def _encrypted(data_key: bytes, data: bytes) -> list[bytes]:
    encryptor = StreamEncryptor(data_key)
    return [encryptor.start(), encryptor.update(data), encryptor.finish()]


def discard_blobs(store: BlobStore, blob_id: uuid.UUID) -> None:
    store.delete(blob_key(blob_id))
    store.delete(thumbnail_key(blob_id))


def erase_all(db: Session, owner_id: uuid.UUID, store: BlobStore) -> None:
    """With the account: the blobs go once the erasure has committed. The data key is deleted
    in the same transaction, so even a blob that outlives this (a backup) is unreadable."""
    ids = list(db.exec(select(Evidence.blob_id).where(Evidence.owner_id == owner_id)).all())
    pending = db.exec(select(Upload).where(Upload.owner_id == owner_id)).all()
    ids += [upload.id for upload in pending]
    # Uploads still arriving have staging data too; their rows go with the account, so
    # nothing could expire it later.
    staged = [(upload.id.hex, dict(upload.staging_state)) for upload in pending]
    staging = staging_for(store)

    def remove() -> None:
        for blob_id in ids:
            discard_blobs(store, blob_id)
        for upload_key, state in staged:
            staging.discard(upload_key, state)

    after_commit(db, remove)


def to_public(db: Session, items: Sequence[Evidence]) -> list[EvidencePublic]:
    links = read_incident_links(db, [e.id for e in items])
    return [
        EvidencePublic.model_validate(
            public_of(sealing.sealer(db, evidence.owner_id), evidence, links.get(evidence.id, []))
        )
        for evidence in items
    ]
