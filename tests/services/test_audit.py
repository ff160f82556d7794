"""The audit service: append-only events, hash-chained per victim, and their verification."""

import hashlib
import json
import uuid
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, delete, select, update

from app.models.audit import GENESIS_HASH, AuditChain, AuditEvent
from app.models.user import Role, User
from app.services import accounts, audit, identities
from tests.factories.accounts import STRONG_PASSWORD, new_email


def _user(db: Session, role: Role = Role.victim, name: str = "Robin") -> User:
    return accounts.create(
        db, email=new_email(), password=STRONG_PASSWORD, display_name=name, role=role
    )


def _chain_of(db: Session, victim: User, length: int) -> list[AuditEvent]:
    return [
        audit.record(
            db,
            victim_id=victim.id,
            actor=victim,
            action="incident.created",
            target_kind="incident",
            target_id=uuid.uuid4(),
        )
        for _ in range(length)
    ]


def _stored(db: Session, victim: User) -> list[AuditEvent]:
    db.expire_all()
    statement = select(AuditEvent).where(AuditEvent.victim_id == victim.id)
    return list(db.exec(statement.order_by(col(AuditEvent.seq))).all())


def _expected_hash(prev_hash: str, event: AuditEvent) -> str:
    """The formula in docs/architecture.md ("The record machinery"), written out independently
    of the service."""
    canonical: dict[str, Any] = {
        "action": event.action,
        "actor_id": str(event.actor_id),
        "actor_role": event.actor_role,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "seq": event.seq,
        "target_id": str(event.target_id) if event.target_id else None,
        "target_kind": event.target_kind,
        "victim_id": str(event.victim_id),
    }
    body = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def test_events_are_numbered_and_chained_per_victim(db: Session) -> None:
    alice, bob = _user(db), _user(db)

    alices = _chain_of(db, alice, 3)
    bobs = _chain_of(db, bob, 2)

    assert [e.seq for e in alices] == [1, 2, 3]
    assert [e.seq for e in bobs] == [1, 2]
    assert alices[0].prev_hash == bobs[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in alices[1:]] == [e.hash for e in alices[:-1]]
    chain = db.exec(select(AuditChain).where(AuditChain.victim_id == alice.id)).one()
    assert (chain.last_seq, chain.last_hash) == (3, alices[-1].hash)


def test_each_hash_is_sha256_of_the_previous_hash_and_the_canonical_event(db: Session) -> None:
    victim = _user(db)
    _chain_of(db, victim, 3)
    audit.record_own(db, victim, "session.created")

    prev = GENESIS_HASH
    for event in _stored(db, victim):
        assert event.prev_hash == prev
        assert event.hash == _expected_hash(prev, event)
        prev = event.hash


def test_an_empty_trail_verifies(db: Session) -> None:
    victim = _user(db)
    result = audit.verify(db, victim.id)
    assert (result.valid, result.count, result.head, result.broken_at) == (
        True,
        0,
        GENESIS_HASH,
        None,
    )


def test_an_untouched_trail_verifies(db: Session) -> None:
    victim = _user(db)
    events = _chain_of(db, victim, 4)
    result = audit.verify(db, victim.id)
    assert (result.valid, result.count, result.head) == (True, 4, events[-1].hash)


@pytest.mark.parametrize(
    "change",
    [
        {"action": "incident.viewed"},
        {"target_id": uuid.uuid4()},
        {"target_kind": "evidence"},
        {"actor_id": uuid.uuid4()},
        {"actor_role": "admin"},
        {"seq": 99},
        {"prev_hash": "1" * 64},
        {"hash": "2" * 64},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_change_to_a_stored_event_is_detected(db: Session, change: dict[str, Any]) -> None:
    victim = _user(db)
    _chain_of(db, victim, 3)

    db.exec(
        update(AuditEvent)
        .where(col(AuditEvent.victim_id) == victim.id, col(AuditEvent.seq) == 2)
        .values(**change)
    )
    db.expire_all()

    result = audit.verify(db, victim.id)
    assert result.valid is False
    assert result.broken_at == 2


def test_a_moved_timestamp_is_detected(db: Session) -> None:
    victim = _user(db)
    events = _chain_of(db, victim, 3)
    db.exec(
        update(AuditEvent)
        .where(col(AuditEvent.id) == events[0].id)
        .values(at=events[0].at - timedelta(days=1))
    )
    db.expire_all()
    assert audit.verify(db, victim.id).broken_at == 1


@pytest.mark.parametrize("seq", [1, 2, 3])
def test_a_deleted_event_is_detected(db: Session, seq: int) -> None:
    victim = _user(db)
    _chain_of(db, victim, 3)

    db.exec(
        delete(AuditEvent).where(col(AuditEvent.victim_id) == victim.id, col(AuditEvent.seq) == seq)
    )
    db.expire_all()

    assert audit.verify(db, victim.id).valid is False


def test_tampering_with_one_chain_leaves_the_others_valid(db: Session) -> None:
    alice, bob = _user(db), _user(db)
    _chain_of(db, alice, 2)
    _chain_of(db, bob, 2)
    db.exec(update(AuditEvent).where(col(AuditEvent.victim_id) == alice.id).values(action="x"))
    db.expire_all()
    assert audit.verify(db, alice.id).valid is False
    assert audit.verify(db, bob.id).valid is True


def test_only_victims_keep_a_trail_of_their_own(db: Session) -> None:
    victim, advocate = _user(db), _user(db, Role.advocate, "Sam")
    audit.record_own(db, victim, "session.created")
    audit.record_own(db, advocate, "session.created")
    assert [e.action for e in _stored(db, victim)] == ["session.created"]
    assert _stored(db, advocate) == []


def test_events_are_described_as_plain_sentences(db: Session) -> None:
    victim, advocate = _user(db), _user(db, Role.advocate, "Sam")
    own = audit.record(db, victim_id=victim.id, actor=victim, action="incident.withdrawn")
    theirs = audit.record(db, victim_id=victim.id, actor=advocate, action="session.created")

    assert audit.describe(own, "Robin", victim.id) == "You withdrew an incident."
    assert audit.describe(theirs, identities.name_of(db, advocate), victim.id) == "Sam signed in."
    assert audit.describe(theirs, None, victim.id) == (
        "Someone whose account has since been removed signed in."
    )


def test_the_public_form_carries_who_did_it(db: Session) -> None:
    victim = _user(db)
    (event,) = _chain_of(db, victim, 1)
    (public,) = audit.page(db, victim.id, limit=10, after_seq=None, newest_first=True)
    assert public.seq == 1
    assert public.actor.model_dump() == {
        "id": victim.id,
        "role": "victim",
        "display_name": "Robin",
    }
    assert public.hash == event.hash
    assert public.description == "You logged an incident."
