"""The audit trail: append-only, hash-chained per victim (docs/architecture.md, "The record
machinery").

hash = sha256(prev_hash || canonical event), where the canonical event is compact, key-sorted
JSON of the fields below. Anyone can recompute it from audit.json in a pack.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlmodel import Session, col, select

from app.models.audit import (
    GENESIS_HASH,
    AuditActor,
    AuditChain,
    AuditEvent,
    AuditEventPublic,
    AuditVerification,
)
from app.models.organisation import Organisation
from app.models.share import Share
from app.models.types import utcnow
from app.models.user import User
from app.services import identities

# What the victim reads, after "You" or the actor's name.
_PHRASES: dict[str, str] = {
    "account.created": "created this account",
    "account.password_changed": "changed the password",
    "session.created": "signed in",
    "session.ended": "signed out",
    "session.revoked": "signed out another device",
    "incident.created": "logged an incident",
    "incident.amended": "amended an incident",
    "incident.withdrawn": "withdrew an incident",
    "impact_note.created": "wrote an impact note",
    "impact_note.amended": "amended an impact note",
    "impact_note.withdrawn": "withdrew an impact note",
    "police_report.created": "recorded a police report",
    "police_report.amended": "amended a police report",
    "police_report.withdrawn": "withdrew a police report",
    "evidence.uploaded": "uploaded a file",
    "evidence.amended": "changed a file's description or incidents",
    "evidence.withdrawn": "withdrew a file",
    "evidence.downloaded": "downloaded a file",
    "evidence.viewed": "looked at a file's details",
    "incident.viewed": "looked at an incident",
    "case.viewed": "viewed your timeline",
    "case.summary_viewed": "saw how many records your log has and when it last changed",
    "share.created": "shared your log with an advocate",
    "share.revoked": "stopped sharing your log with an advocate",
    "note.created": "wrote a note on your case",
    "pack.exported": "exported an evidence pack",
}


def canonical_event(event: AuditEvent) -> bytes:
    fields: dict[str, Any] = {
        "victim_id": str(event.victim_id),
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": str(event.target_id) if event.target_id else None,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_event(event)).hexdigest()


def record(
    db: Session,
    *,
    victim_id: uuid.UUID,
    actor: User,
    action: str,
    target_kind: str | None = None,
    target_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Append an event to the victim's chain, in the caller's transaction."""
    chain = db.exec(
        select(AuditChain).where(AuditChain.victim_id == victim_id).with_for_update()
    ).first()
    if chain is None:
        chain = AuditChain(victim_id=victim_id)
    event = AuditEvent(
        victim_id=victim_id,
        seq=chain.last_seq + 1,
        at=utcnow(),
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        prev_hash=chain.last_hash,
        hash="",
    )
    event.hash = chain_hash(chain.last_hash, event)
    chain.last_seq, chain.last_hash = event.seq, event.hash
    db.add(chain)
    db.add(event)
    db.flush()
    return event


def record_own(db: Session, user: User, action: str) -> None:
    """An account event on the user's own chain. Only victims keep a chain: staff accounts'
    sign-ins touch no victim's data."""
    if user.role == "victim":
        record(
            db,
            victim_id=user.id,
            actor=user,
            action=action,
            target_kind="account",
            target_id=user.id,
        )


def page(
    db: Session, victim_id: uuid.UUID, *, limit: int, after_seq: int | None, newest_first: bool
) -> list[AuditEventPublic]:
    statement = (
        select(AuditEvent, User, Organisation)
        .outerjoin(User, col(User.id) == col(AuditEvent.actor_id))
        .outerjoin(Organisation, col(Organisation.id) == col(User.organisation_id))
    )
    statement = statement.where(AuditEvent.victim_id == victim_id)
    if after_seq is not None:
        statement = statement.where(
            col(AuditEvent.seq) < after_seq if newest_first else col(AuditEvent.seq) > after_seq
        )
    order = col(AuditEvent.seq).desc() if newest_first else col(AuditEvent.seq)
    rows = db.exec(statement.order_by(order).limit(limit)).all()
    advocates = _share_advocates(db, [event for event, _, _ in rows])
    return [
        to_public(
            event,
            identities.name_of(db, actor) if actor else None,
            victim_id,
            organisation,
            advocates.get(event.target_id),
        )
        for event, actor, organisation in rows
    ]


def _share_advocates(db: Session, events: Sequence[AuditEvent]) -> dict[uuid.UUID | None, str]:
    """For share events, who the share was with ("Sam (Crossroads)"), in one query."""
    share_ids = {e.target_id for e in events if e.target_kind == "share" and e.target_id}
    if not share_ids:
        return {}
    rows = db.exec(
        select(Share.id, User.id, User.display_name, Organisation.name)
        .join(User, col(User.id) == col(Share.advocate_id))
        .outerjoin(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(col(Share.id).in_(share_ids))
    ).all()
    described: dict[uuid.UUID | None, str] = {}
    for share_id, advocate_id, stored_name, organisation in rows:
        name = identities.name_from(db, advocate_id, stored_name)
        described[share_id] = f"{name} ({organisation})" if organisation else name
    return described


def to_public(
    event: AuditEvent,
    actor_name: str | None,
    victim_id: uuid.UUID,
    organisation: Organisation | None = None,
    shared_with: str | None = None,
) -> AuditEventPublic:
    return AuditEventPublic(
        seq=event.seq,
        at=event.at,
        actor=AuditActor(
            id=event.actor_id,
            role=event.actor_role,
            display_name=actor_name,
        ),
        action=event.action,
        target_kind=event.target_kind,
        target_id=event.target_id,
        prev_hash=event.prev_hash,
        hash=event.hash,
        description=describe(event, actor_name, victim_id, organisation, shared_with),
    )


def describe(
    event: AuditEvent,
    actor_name: str | None,
    victim_id: uuid.UUID,
    organisation: Organisation | None = None,
    shared_with: str | None = None,
) -> str:
    phrase = _PHRASES.get(event.action, event.action.replace(".", " ").replace("_", " "))
    if shared_with and event.action in ("share.created", "share.revoked"):
        phrase = phrase.replace("an advocate", shared_with)
    if event.actor_id == victim_id:
        who = "You"
    elif actor_name is not None:
        # The actor's name as identities.name_of reads it (None: the account is gone).
        who = f"{actor_name} ({organisation.name})" if organisation else actor_name
    else:
        who = "Someone whose account has since been removed"
    return f"{who} {phrase}."


def verify_events(events: Sequence[AuditEvent] | Any, head: str | None) -> AuditVerification:
    """Recompute a chain from its first event. `head` is the chain's recorded last hash."""
    prev, count = GENESIS_HASH, 0
    for count, event in enumerate(events, start=1):
        if event.seq != count or event.prev_hash != prev or chain_hash(prev, event) != event.hash:
            return AuditVerification(valid=False, count=count, head=prev, broken_at=count)
        prev = event.hash
    if head is not None and head != prev:
        # Events were removed from the end (or the head was tampered with).
        return AuditVerification(valid=False, count=count, head=prev, broken_at=count + 1)
    return AuditVerification(valid=True, count=count, head=prev)


def verify(db: Session, victim_id: uuid.UUID) -> AuditVerification:
    chain = db.exec(select(AuditChain).where(AuditChain.victim_id == victim_id)).first()
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.victim_id == victim_id)
        .order_by(col(AuditEvent.seq))
        .execution_options(yield_per=500)
    )
    return verify_events(events, chain.last_hash if chain else GENESIS_HASH)
