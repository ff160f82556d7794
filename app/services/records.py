"""What incidents, impact notes and police reports share: owner-scoped loading, idempotent
creates with client ids, revisions that keep every earlier version, withdrawal, the audit
event and the search index. Each domain module describes its record with a RecordKind."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import Conflict, NotFound
from app.models.record import Actor, OwnedRecord, RecordRevision, RevisionPublic
from app.models.types import utcnow
from app.models.user import User
from app.services import audit, identities, sealing, search

R = TypeVar("R", bound=OwnedRecord)
F = TypeVar("F", bound=BaseModel)


@dataclass(frozen=True)
class RecordKind(Generic[R, F]):
    name: str  # the noun in audit actions, timeline items and revisions: "incident"
    model: type[R]
    fields: type[F]  # what the victim writes (IncidentFields, …)
    # The record's current fields, opened (the kind's read model: the one place its columns
    # are read and its sealed text opened).
    read: Callable[[Session, R], F]
    # Put fields on the record's columns, sealed for the record's current revision.
    write: Callable[[Session, R, F], None]
    search_text: Callable[[F], str]
    # Rows beyond the record's own (police report links), after the record is flushed.
    after_write: Callable[[Session, R, F], None] | None = None
    # The audit verb for a new record ("evidence.uploaded" reads better than "created").
    created_verb: str = "created"


def scoped(
    kind: RecordKind[R, F], owner_id: uuid.UUID, *, include_withdrawn: bool = True
) -> SelectOfScalar[R]:
    """Every query for a victim's records starts here."""
    statement = select(kind.model).where(kind.model.owner_id == owner_id)
    if not include_withdrawn:
        statement = statement.where(col(kind.model.withdrawn_at).is_(None))
    return statement


def get_owned(db: Session, kind: RecordKind[R, F], owner_id: uuid.UUID, record_id: uuid.UUID) -> R:
    record = db.exec(scoped(kind, owner_id).where(kind.model.id == record_id)).first()
    if record is None:
        raise NotFound(f"No such {kind.name.replace('_', ' ')}.")
    return record


def _snapshot(fields: BaseModel) -> dict[str, Any]:
    return fields.model_dump(mode="json")


REVISIONS_TABLE = "record_revisions"


def _save_revision(db: Session, kind: RecordKind[R, F], record: R, actor: User, fields: F) -> None:
    # The snapshot is sealed whole, bound to the record, its kind and the revision's number.
    data = sealing.sealer(db, record.owner_id).seal_json(
        _snapshot(fields),
        table=REVISIONS_TABLE,
        row_id=record.id,
        field=kind.name,
        revision=record.revision,
    )
    db.add(
        RecordRevision(
            record_kind=kind.name,
            record_id=record.id,
            revision=record.revision,
            owner_id=record.owner_id,
            at=record.updated_at,
            by_id=actor.id,
            data=data,
        )
    )


def _opened(db: Session, revision: RecordRevision) -> dict[str, Any]:
    data: dict[str, Any] = sealing.sealer(db, revision.owner_id).open_json(
        revision.data,
        table=REVISIONS_TABLE,
        row_id=revision.record_id,
        field=revision.record_kind,
        revision=revision.revision,
    )
    return data


def _first_revision(db: Session, kind: RecordKind[R, F], record: R) -> dict[str, Any]:
    first = db.exec(
        select(RecordRevision).where(
            RecordRevision.record_kind == kind.name,
            RecordRevision.record_id == record.id,
            RecordRevision.owner_id == record.owner_id,
            RecordRevision.revision == 1,
        )
    ).one()
    return _opened(db, first)


def id_in_use(db: Session, record_id: uuid.UUID) -> bool:
    """Ids are one space across every kind of record: the search index and the audit trail
    know a record by its id alone, so two records must never share one."""
    return any(
        db.exec(select(model.id).where(model.id == record_id)).first() is not None
        for model in OwnedRecord.__subclasses__()
        if hasattr(model, "__table__")
    )


def _repeated(db: Session, kind: RecordKind[R, F], existing: R, fields: F) -> R:
    """The record a create repeats, if it was made with the same content."""
    # Compared through the same schema so formatting differences do not count.
    first = kind.fields.model_validate(_first_revision(db, kind, existing))
    if _snapshot(first) != _snapshot(fields):
        raise Conflict("A different record was already saved with this id.")
    return existing


def create(
    db: Session,
    kind: RecordKind[R, F],
    owner: User,
    fields: F,
    record_id: uuid.UUID | None,
    columns: dict[str, Any] | None = None,
) -> tuple[R, bool]:
    """Create a record; returns it and whether it is new.

    Repeating a create with the same id and content gives back the record made the first time
    (an offline outbox retrying); the same id with other content is a conflict. An id that
    belongs to someone else is a conflict that says nothing about them.
    """
    if record_id is not None:
        existing = db.exec(scoped(kind, owner.id).where(kind.model.id == record_id)).first()
        if existing is not None:
            return _repeated(db, kind, existing, fields), False
        if id_in_use(db, record_id):
            # Someone else's record, or one of another kind: say nothing about which.
            raise Conflict("This id cannot be used. Make a new one.")
    now = utcnow()
    record = kind.model(
        owner_id=owner.id, recorded_at=now, updated_at=now, revision=1, **(columns or {})
    )
    if record_id is not None:
        record.id = record_id
    kind.write(db, record, fields)
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError as error:
        # The same create sent twice at once (an outbox retrying while its first try was still
        # in flight) loses the race here on PostgreSQL: the winner's record is now visible.
        made = db.exec(scoped(kind, owner.id).where(kind.model.id == record.id)).first()
        if record_id is not None and made is not None:
            return _repeated(db, kind, made, fields), False
        raise Conflict("This id cannot be used. Make a new one.") from error
    _finish_write(db, kind, record, owner, fields)
    audit.record(
        db,
        victim_id=owner.id,
        actor=owner,
        action=f"{kind.name}.{kind.created_verb}",
        target_kind=kind.name,
        target_id=record.id,
    )
    return record, True


def _finish_write(db: Session, kind: RecordKind[R, F], record: R, actor: User, fields: F) -> None:
    if kind.after_write is not None:
        kind.after_write(db, record, fields)
    _save_revision(db, kind, record, actor, fields)
    search.index(
        db,
        kind=kind.name,
        record_id=record.id,
        owner_id=record.owner_id,
        body=sealing.sealer(db, record.owner_id).search_document(kind.search_text(fields)),
    )
    db.flush()


def amend(db: Session, kind: RecordKind[R, F], owner: User, record: R, changes: BaseModel) -> R:
    """Apply the fields sent (and only those) as a new revision; the old one is kept."""
    if record.withdrawn_at is not None:
        raise Conflict("A withdrawn record cannot be amended.")
    current = kind.read(db, record)
    merged = {**_snapshot(current), **changes.model_dump(mode="json", exclude_unset=True)}
    fields = kind.fields.model_validate(merged)
    if _snapshot(fields) == _snapshot(current):
        return record  # nothing changed, so no new revision
    record.revision += 1
    record.updated_at = utcnow()
    kind.write(db, record, fields)
    db.add(record)
    db.flush()
    _finish_write(db, kind, record, owner, fields)
    audit.record(
        db,
        victim_id=owner.id,
        actor=owner,
        action=f"{kind.name}.amended",
        target_kind=kind.name,
        target_id=record.id,
    )
    return record


def withdraw(db: Session, kind: RecordKind[R, F], owner: User, record: R, reason: str) -> R:
    """Hide a record from the timeline and packs, keeping it and saying why."""
    if record.withdrawn_at is not None:
        raise Conflict("This record is already withdrawn.")
    record.withdrawn_at = utcnow()
    record.withdrawn_reason = sealing.sealer(db, record.owner_id).seal(
        reason, table=str(record.__tablename__), row_id=record.id, field="withdrawn_reason"
    )
    db.add(record)
    db.flush()
    audit.record(
        db,
        victim_id=owner.id,
        actor=owner,
        action=f"{kind.name}.withdrawn",
        target_kind=kind.name,
        target_id=record.id,
    )
    return record


def server_fields(
    sealer: sealing.Sealer, table: str, record: OwnedRecord | Row[Any]
) -> dict[str, Any]:
    """What the server adds to every record it returns (from the table model, or from a row of
    its columns, as the timeline reads them)."""
    return {
        "id": record.id,
        "recorded_at": record.recorded_at,
        "updated_at": record.updated_at,
        "revision": record.revision,
        "withdrawn": record.withdrawn_at is not None,
        "withdrawn_reason": sealer.open(
            record.withdrawn_reason, table=table, row_id=record.id, field="withdrawn_reason"
        ),
    }


def revisions(db: Session, kind: RecordKind[R, F], record: R) -> list[RevisionPublic]:
    rows = db.exec(
        select(RecordRevision, User)
        .outerjoin(User, col(User.id) == col(RecordRevision.by_id))
        .where(
            RecordRevision.record_kind == kind.name,
            RecordRevision.record_id == record.id,
            RecordRevision.owner_id == record.owner_id,
        )
        .order_by(col(RecordRevision.revision))
    ).all()
    return [
        RevisionPublic(
            revision=revision.revision,
            at=revision.at,
            by=Actor(
                id=revision.by_id, display_name=identities.name_of(db, user) if user else None
            ),
            **_opened(db, revision),
        )
        for revision, user in rows
    ]
