"""Sealing an existing deployment's text in place, after migration 0006 made room for it.

`waymark migrate` runs this after the schema is up to date: it needs the keys, which Alembic's
migrations do not have. It is resumable: each batch of rows commits on its own, and a value
already sealed for its place is left as it is, so an interrupted run is simply run again (and a
run over a database that is wholly sealed changes nothing). The service must not serve while a
run is unfinished: `waymark serve` is started after `waymark migrate`, as `make run` and the
Dockerfile do.

A stored value counts as sealed when it opens for its place; anything else is old plain text
(a victim who typed "wm1." at the start of a description still has it sealed, since it will not
open as a sealed value).
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select, text

from app.db import transaction
from app.keys import Keys
from app.models.advocate_note import AdvocateNote
from app.models.evidence import Evidence
from app.models.impact_note import ImpactNote
from app.models.incident import Incident
from app.models.police_report import PoliceReport
from app.models.record import RecordRevision
from app.models.upload import Upload
from app.models.user import User
from app.services import identities, police_reports, sealing
from app.services.sealing import Sealer, keys_of

BATCH = 200


def _seal_text(
    sealer: Sealer, row: Any, table: str, field: str, revision: int
) -> tuple[bool, str | None]:
    """Seal one column of `row` if it holds plain text; returns whether it changed and the
    plain text (None if the column is empty)."""
    stored = getattr(row, field)
    if stored is None:
        return False, None
    place = {"table": table, "row_id": row.id, "field": field, "revision": revision}
    opened = sealer.open_if_sealed(stored, **place)
    if opened is not None:
        return False, opened
    sealed = sealer.seal(stored, table=table, row_id=row.id, field=field, revision=revision)
    setattr(row, field, sealed)
    return True, stored


def _seal_json(sealer: Sealer, row: Any, table: str, field: str, row_id: uuid.UUID) -> bool:
    stored = getattr(row, field)
    if isinstance(stored, str):
        return False  # a JSON object was stored before; a string is a sealed one
    setattr(row, field, sealer.seal_json(stored, table=table, row_id=row_id, field=field))
    return True


@dataclass(frozen=True)
class _Columns:
    """A record table's sealed columns: those that follow its revisions, and those bound once."""

    model: type[SQLModel]
    with_revision: tuple[str, ...]
    once: tuple[str, ...] = ("withdrawn_reason",)


_RECORDS = (
    _Columns(Incident, ("location", "description", "witnesses", "feelings")),
    _Columns(ImpactNote, ("description",)),
    _Columns(PoliceReport, ("crime_reference", "force", "officer", "notes")),
    _Columns(Evidence, ("description",), ("withdrawn_reason", "original_filename", "sha256")),
    _Columns(AdvocateNote, (), ("withdrawn_reason", "body")),
)


def _seal_record(db: Session, columns: _Columns, row: Any) -> bool:
    sealer = sealing.sealer(db, row.owner_id)
    table = str(columns.model.__tablename__)
    changed = False
    for field in columns.with_revision:
        sealed, plain = _seal_text(sealer, row, table, field, row.revision)
        changed |= sealed
        if sealed and field == "crime_reference" and plain is not None:
            row.crime_reference_key = police_reports.reference_index(sealer, plain)
    for field in columns.once:
        changed |= _seal_text(sealer, row, table, field, 0)[0]
    if isinstance(row, Evidence):
        changed |= _seal_json(sealer, row, table, "file_metadata", row.id)
    return changed


def _seal_revision(db: Session, row: RecordRevision) -> bool:
    stored: Any = row.data
    if isinstance(stored, str):
        return False
    row.data = sealing.sealer(db, row.owner_id).seal_json(
        stored,
        table="record_revisions",
        row_id=row.record_id,
        field=row.record_kind,
        revision=row.revision,
    )
    return True


def _seal_upload(db: Session, row: Upload) -> bool:
    return _seal_json(sealing.sealer(db, row.owner_id), row, "uploads", "upload_metadata", row.id)


def _is_tokens(body: str) -> bool:
    words = body.split()
    return all(len(w) == 16 and set(w) <= set("abcdefghijklmnop") for w in words)


@dataclass(frozen=True)
class Step:
    name: str
    keys: Callable[[Session], Sequence[Any]]  # every row's primary key, in a stable order
    load: Callable[[Session, Sequence[Any]], Sequence[Any]]  # the rows of those keys
    seal: Callable[[Session, Any], bool]  # seal one row in place; whether it changed


def _by_id(model: Any) -> tuple[Callable[..., Sequence[Any]], Callable[..., Sequence[Any]]]:
    def keys(db: Session) -> Sequence[Any]:
        return db.exec(select(model.id).order_by(col(model.id))).all()

    def load(db: Session, ids: Sequence[Any]) -> Sequence[Any]:
        return db.exec(select(model).where(col(model.id).in_(ids))).all()

    return keys, load


def _record_step(columns: _Columns) -> Step:
    keys, load = _by_id(columns.model)
    return Step(
        str(columns.model.__tablename__),
        keys,
        load,
        lambda db, row: _seal_record(db, columns, row),
    )


def _revision_keys(db: Session) -> Sequence[Any]:
    return db.exec(
        select(RecordRevision.record_kind, RecordRevision.record_id, RecordRevision.revision)
    ).all()


def _revision_rows(db: Session, keys: Sequence[Any]) -> Sequence[Any]:
    return [db.get(RecordRevision, tuple(key)) for key in keys]


def _search_keys(db: Session) -> Sequence[Any]:
    return db.execute(text("SELECT record_id FROM search_documents ORDER BY record_id")).all()


@dataclass
class _Document:
    record_id: Any
    owner_id: uuid.UUID
    body: str


def _search_rows(db: Session, keys: Sequence[Any]) -> Sequence[Any]:
    rows = []
    for (record_id,) in keys:
        found = db.execute(
            text("SELECT owner_id, body FROM search_documents WHERE record_id = :id"),
            {"id": record_id},
        ).one()
        rows.append(_Document(record_id, _as_uuid(found.owner_id), found.body))
    return rows


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _seal_document(db: Session, document: _Document) -> bool:
    if _is_tokens(document.body):
        return False
    tokens = sealing.sealer(db, document.owner_id).search_document(document.body)
    db.execute(
        text("UPDATE search_documents SET body = :body WHERE record_id = :id"),
        {"body": tokens, "id": document.record_id},
    )
    return True


STEPS: tuple[Step, ...] = (
    Step("users", *_by_id(User), lambda db, row: identities.seal_in_place(db, row, keys_of(db))),
    *(_record_step(columns) for columns in _RECORDS),
    Step("record_revisions", _revision_keys, _revision_rows, _seal_revision),
    Step("uploads", *_by_id(Upload), lambda db, row: _seal_upload(db, row)),
    Step("search_documents", _search_keys, _search_rows, _seal_document),
)


def seal_existing(
    engine: Engine, keys: Keys, *, stop_after_batches: int | None = None
) -> dict[str, int]:
    """Seal every value still in plain text; returns how many rows changed, per table.
    `stop_after_batches` ends the run early, as an interruption would (for tests)."""
    sealing.register_keys(engine, keys)
    changed: dict[str, int] = {}
    batches = 0
    for step in STEPS:
        with transaction(engine, writes=False) as db:
            all_keys = list(step.keys(db))
        changed[step.name] = 0
        for start in range(0, len(all_keys), BATCH):
            if stop_after_batches is not None and batches >= stop_after_batches:
                return changed
            with transaction(engine, writes=True) as db:
                for row in step.load(db, all_keys[start : start + BATCH]):
                    if row is not None and step.seal(db, row):
                        changed[step.name] += 1
                        if isinstance(row, SQLModel):
                            db.add(row)
            batches += 1
    if any(changed.values()):
        _vacuum(engine)
    return changed


def _vacuum(engine: Engine) -> None:
    """Rewrite the database without the pages (SQLite) or row versions (PostgreSQL) that still
    hold the plain text just replaced."""
    # Outside any transaction: the driver's own connection (the engine's "begin" hook would
    # open one on SQLite, and VACUUM refuses to run inside it).
    connection = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            connection.driver_connection.autocommit = True  # type: ignore[union-attr]
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            # FTS5 keeps a deleted entry's words in its segments until they are merged:
            # rebuilt from search_documents, the index holds tokens alone.
            cursor.execute(
                "INSERT INTO search_documents_fts (search_documents_fts) VALUES ('rebuild')"
            )
        cursor.execute("VACUUM")
        if engine.dialect.name == "sqlite":
            # The old pages are still in the write-ahead log until it is checkpointed; TRUNCATE
            # empties the file as well.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        if engine.dialect.name == "postgresql":
            connection.driver_connection.autocommit = False  # type: ignore[union-attr]
        connection.close()
