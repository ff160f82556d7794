"""Seeding a victim's log straight into the server's database, fast.

Small logs go through the services themselves (`incidents.create`, one transaction per batch):
exactly what the API would write. Large ones (100,000 items) are written in bulk in the same
shapes — the incident row from the kind's own `write`, revision 1 from the same snapshot, the
search document from the kind's `search_text`, and an audit event per record on the victim's
hash chain — and `check_shapes` compares one bulk-written incident with one the service wrote,
so the two cannot drift apart unnoticed.
"""

import functools
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Engine, insert, text
from sqlmodel import Session, SQLModel, col, select

from app.db import transaction
from app.models.audit import AuditChain, AuditEvent
from app.models.codes import Behaviour, Channel
from app.models.incident import Incident, IncidentCreate, IncidentFields
from app.models.record import RecordRevision
from app.models.types import utcnow
from app.models.user import User
from app.services import audit, incidents, sealing, search
from app.services import records as records_service

# Words whose share of items is known, for the search benchmark.
COMMON_WORD = "car"  # about a quarter of items
MEDIUM_WORD = "doorstep"  # one item in fifty
RARE_WORD = "lighthouse"  # one item in a thousand
ABSENT_WORD = "zeppelin"  # none

_PLACES = [
    "outside the house",
    "at the bus stop on Mill Lane",
    "in the supermarket car park",
    "outside my work",
    "at the school gates",
    "near the station",
    "in the park by the river",
    "at my mum's",
]
_ACTS = [
    "was waiting {place} when I came out",
    "sent another message saying he knows where I am",
    "walked past {place} three times in ten minutes",
    "left flowers {place} with no note",
    "phoned from a withheld number and said nothing",
    "posted about me again on social media",
    "asked my friend where I would be on Saturday",
    "followed me {place} and then home",
]
_AFTER = [
    "I felt sick and could not sleep.",
    "I told my neighbour and she saw him too.",
    "I rang 101 and was given a reference.",
    "I stayed inside for the rest of the day.",
    "My daughter was with me and was frightened.",
]


def _description(rng: random.Random, index: int) -> str:
    place = rng.choice(_PLACES)
    parts = ["He " + rng.choice(_ACTS).format(place=place) + "."]
    if index % 4 == 0:
        parts.append(f"His {COMMON_WORD} was parked across the road with the engine running.")
    if index % 50 == 3:
        parts.append(f"There was a parcel on the {MEDIUM_WORD} addressed to me in his writing.")
    if index % 1000 == 7:
        parts.append(f"He was standing by the old {RARE_WORD} where we used to walk.")
    parts.append(rng.choice(_AFTER))
    return " ".join(parts)


@functools.cache
def _template(variant: int) -> IncidentFields:
    """One of a thousand incidents' words; every thousandth item repeats them with a new time
    (so each search word keeps its share of items)."""
    rng = random.Random(variant)
    return IncidentFields.model_validate(
        {
            "occurred_at": datetime(2020, 1, 1, tzinfo=UTC),
            "behaviours": rng.sample(list(Behaviour), k=rng.randint(1, 3)),
            "channel": rng.choice(list(Channel)) if variant % 3 else None,
            "location": rng.choice(_PLACES) if variant % 2 else None,
            "description": _description(rng, variant),
            "witnesses": "My neighbour, Sam" if variant % 7 == 0 else None,
            "feelings": "Frightened and on edge." if variant % 5 == 0 else None,
        }
    )


def incident_fields(index: int, count: int) -> IncidentFields:
    """The index-th of `count` incidents, spread evenly over the last five years, written at
    UTC+1 or UTC."""
    first = datetime.now(UTC) - timedelta(days=5 * 365)
    span = timedelta(days=5 * 365 - 1)
    moment = (first + span * (index / max(count, 1))).astimezone(
        timezone(timedelta(minutes=60 if index % 2 else 0))
    )
    return _template(index % 1000).model_copy(update={"occurred_at": moment})


def load_user(db: Session, user_id: uuid.UUID) -> User:
    user = db.exec(select(User).where(User.id == user_id)).one()
    return user


def through_services(
    engine: Engine, victim_id: uuid.UUID, count: int, *, batch: int = 500
) -> list[uuid.UUID]:
    """`count` incidents made by the incident service, one transaction per batch."""
    made: list[uuid.UUID] = []
    for first in range(0, count, batch):
        with transaction(engine, writes=True) as db:
            victim = load_user(db, victim_id)
            for index in range(first, min(first + batch, count)):
                fields = incident_fields(index, count)
                record, _ = incidents.create(db, victim, IncidentCreate(**fields.model_dump()))
                made.append(record.id)
    return made


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _incident_row(
    db: Session, victim: User, fields: IncidentFields, now: datetime
) -> dict[str, Any]:
    """The incident row records.create would insert (without the cost of a table model: its
    constructor dominates a bulk load)."""
    record = SimpleNamespace(
        id=uuid.uuid4(),
        owner_id=victim.id,
        recorded_at=now,
        updated_at=now,
        revision=1,
        withdrawn_at=None,
        withdrawn_reason=None,
    )
    incidents.KIND.write(db, cast(Incident, record), fields)
    return vars(record)


def _bulk_write(db: Session, victim: User, batch: Sequence[IncidentFields]) -> list[uuid.UUID]:
    chain = db.exec(
        select(AuditChain).where(AuditChain.victim_id == victim.id).with_for_update()
    ).first() or AuditChain(victim_id=victim.id)
    kind, action = incidents.KIND.name, f"{incidents.KIND.name}.{incidents.KIND.created_verb}"
    sealer = sealing.sealer(db, victim.id)
    records, revisions, documents, events = [], [], [], []
    for fields in batch:
        now = utcnow()
        record = _incident_row(db, victim, fields, now)
        record_id: uuid.UUID = record["id"]
        records.append(record)
        revisions.append(
            {
                "record_kind": kind,
                "record_id": record_id,
                "revision": 1,
                "owner_id": victim.id,
                "at": now,
                "by_id": victim.id,
                "data": sealer.seal_json(
                    fields.model_dump(mode="json"),
                    table=records_service.REVISIONS_TABLE,
                    row_id=record_id,
                    field=kind,
                    revision=1,
                ),
            }
        )
        documents.append(
            search.document(
                kind=kind,
                record_id=record_id,
                owner_id=victim.id,
                body=sealer.search_document(incidents.KIND.search_text(fields)),
            )
        )
        event = SimpleNamespace(
            id=uuid.uuid4(),
            victim_id=victim.id,
            seq=chain.last_seq + 1,
            at=now,
            actor_id=victim.id,
            actor_role=victim.role,
            action=action,
            target_kind=kind,
            target_id=record_id,
            prev_hash=chain.last_hash,
            hash="",
        )
        event.hash = audit.chain_hash(chain.last_hash, cast(AuditEvent, event))
        chain.last_seq, chain.last_hash = event.seq, event.hash
        events.append(vars(event))
    tables = SQLModel.metadata.tables
    db.execute(insert(tables["incidents"]), records)
    db.execute(insert(tables["record_revisions"]), revisions)
    db.execute(search.index_statement(), documents)  # what search.index runs, at once
    db.execute(insert(tables["audit_events"]), events)
    db.add(chain)
    db.flush()
    return [row["id"] for row in records]


def _chunks(count: int, size: int) -> Iterator[range]:
    for first in range(0, count, size):
        yield range(first, min(first + size, count))


def in_bulk(
    engine: Engine, victim_id: uuid.UUID, count: int, *, batch: int = 5000
) -> list[uuid.UUID]:
    """`count` incidents in the services' shapes, one transaction per batch."""
    made: list[uuid.UUID] = []
    for indexes in _chunks(count, batch):
        fields = [incident_fields(index, count) for index in indexes]
        with transaction(engine, writes=True) as db:
            made += _bulk_write(db, load_user(db, victim_id), fields)
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by the time a real log had grown this large.
        with engine.begin() as connection:
            for table in ("incidents", "record_revisions", "search_documents", "audit_events"):
                connection.execute(text(f"ANALYZE {table}"))
    return made


def _stored(db: Session, record_id: uuid.UUID) -> dict[str, Any]:
    incident = db.exec(select(Incident).where(Incident.id == record_id)).one()
    revision = db.exec(select(RecordRevision).where(RecordRevision.record_id == record_id)).one()
    key: Any = record_id.hex if db.get_bind().dialect.name == "sqlite" else record_id
    document = db.execute(
        text("SELECT kind, body FROM search_documents WHERE record_id = :r"), {"r": key}
    ).one()
    event = db.exec(select(AuditEvent).where(AuditEvent.target_id == record_id)).one()
    varying = {"id", "recorded_at", "updated_at", "record_id", "at", "seq", "hash", "prev_hash"}
    # Sealed values differ each time (a fresh nonce): compared opened.
    sealed = {*incidents.SEALED, "data"}
    opened = incidents.read(db, incident).model_dump(mode="json")
    return {
        "incident": {k: v for k, v in _columns(incident).items() if k not in varying | sealed},
        "fields": opened,
        "revision": {k: v for k, v in _columns(revision).items() if k not in varying | sealed},
        "revision_data": records_service.revisions(db, incidents.KIND, incident)[0].model_dump(
            exclude={"at", "by"}
        ),
        "search_document": tuple(document),
        "audit_event": {
            k: v for k, v in _columns(event).items() if k not in varying | {"target_id"}
        },
    }


def check_shapes(engine: Engine, victim_id: uuid.UUID) -> None:
    """Write one incident through the service and the same one in bulk; they must match."""
    fields = incident_fields(0, 1)
    with transaction(engine, writes=True) as db:
        victim = load_user(db, victim_id)
        by_service, _ = incidents.create(db, victim, IncidentCreate(**fields.model_dump()))
        (by_bulk,) = _bulk_write(db, victim, [fields])
    with transaction(engine, writes=False) as db:
        service_rows, bulk_rows = _stored(db, by_service.id), _stored(db, by_bulk)
        verification = audit.verify(db, victim_id)
    if service_rows != bulk_rows:
        raise AssertionError(
            f"bulk seeding no longer writes what the service does:\n{service_rows}\n{bulk_rows}"
        )
    if not verification.valid:
        raise AssertionError("bulk seeding broke the victim's audit chain")


def count_items(engine: Engine, victim_id: uuid.UUID) -> int:
    with transaction(engine, writes=False) as db:
        return len(db.exec(select(col(Incident.id)).where(Incident.owner_id == victim_id)).all())
