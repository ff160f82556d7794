"""The timeline: every kind of record merged in time order, filtered, keyset-paginated.

Each kind contributes one arm: its owner's rows in time order, filtered, after the cursor,
limited to one page. Arms are merged with UNION ALL, ordered by (at, kind, id) and cut to a
page. Every arm is a range scan on its (owner, time, id) index, so a page costs the same for a
log of ten items and of a hundred thousand. The records on the page are then loaded per kind
in one query each: no N+1. A search narrows each arm to its matches (app/services/search.py
says how, and why it counts them first).

A page is read often, so it is built to be cheap in Python too:
- the statement for a shape of request (which filters, which kinds, where the cursor falls,
  the search plan, the page size) is built once and reused; a request only binds its values;
- records are read as plain columns, not table models, and each item's `data` is the record's
  public fields as a dict, built directly: the values were validated when they were written,
  and are turned into JSON once, when the response is sent.
"""

import base64
import binascii
import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    Executable,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    inspect,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlmodel import Session, SQLModel

from app.errors import InvalidInput
from app.models.advocate_note import AdvocateNote
from app.models.codes import BEHAVIOUR_WORDS, Behaviour
from app.models.evidence import Evidence, EvidenceIncident
from app.models.fields import contains_code
from app.models.impact_note import ImpactNote
from app.models.incident import Incident
from app.models.police_report import PoliceReport, PoliceReportIncident
from app.models.user import User
from app.services import (
    advocate_notes,
    evidence,
    identities,
    impact_notes,
    incidents,
    police_reports,
    records,
    sealing,
    search,
)
from app.services.sealing import Sealer
from app.services.search import Plan

MAX_LIMIT = 200
SUMMARY_LENGTH = 140


@dataclass(frozen=True)
class Filters:
    start: datetime | None = None  # from, inclusive
    end: datetime | None = None  # to, exclusive
    kinds: frozenset[str] | None = None
    behaviours: tuple[Behaviour, ...] = ()
    crime_reference: str | None = None
    query: str | None = None
    include_withdrawn: bool = False
    # An advocate sees the notes written on their own case, not other advocates' notes.
    notes_of_share: uuid.UUID | None = None


@dataclass(frozen=True)
class Cursor:
    at: datetime
    kind: str
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.at.astimezone(UTC).isoformat(), self.kind, str(self.id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        try:
            padded = value + "=" * (-len(value) % 4)
            at, kind, record_id = json.loads(base64.urlsafe_b64decode(padded))
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise ValueError("a cursor's time has an offset")
            # Converted here, so a time with no UTC equivalent (year 1 at +01:00) fails here.
            return cls(moment.astimezone(UTC), str(kind), uuid.UUID(record_id))
        except (
            ValueError,
            TypeError,
            OverflowError,
            binascii.Error,
            json.JSONDecodeError,
        ) as error:
            raise InvalidInput(
                "This cursor is not one we gave out.", field="cursor", where="query"
            ) from error


class TimelineItem(BaseModel):
    kind: str
    id: uuid.UUID
    at: datetime
    summary: str
    # The record as its own endpoint returns it (JSON names; dates, ids and codes as Python
    # values, serialised with the response).
    data: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None


# --- the shape of a page's statement -------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Everything that decides a page statement's SQL. The values (owner, times, cursor,
    words) are bound when it runs, so one statement serves every request of its shape."""

    dialect: str
    kinds: tuple[str, ...]  # the kinds taking part, in SOURCES order
    limit: int  # rows each arm and the page fetch: one more than the page, to see if more follow
    descending: bool = False
    start: bool = False
    end: bool = False
    behaviours: int = 0
    crime_reference: bool = False
    include_withdrawn: bool = False
    notes_of_share: bool = False
    # Per kind taking part: how it sorts against the cursor's kind (-1, 0, 1); empty: no cursor.
    cursor_kinds: tuple[int, ...] = ()
    # Per kind taking part, when searching: how its matches are found.
    plans: tuple[Plan, ...] = ()


def _sign(a: str, b: str) -> int:
    return (a > b) - (a < b)


# --- the kinds of record -------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One kind of record on the timeline."""

    kind: str
    columns: ReadOnlyColumnCollection[str, Column[Any]]  # its table's
    at: str  # the name of its time column
    # The page's items of this kind, by id, in any order.
    load: Callable[[Session, Sealer, list[uuid.UUID]], list[TimelineItem]]
    # Extra conditions for the filters this kind understands.
    narrow: Callable[[Shape], list[ColumnElement[bool]]] = lambda _shape: []
    # A kind with no behaviours is left out when filtering by behaviour, and one that cannot
    # carry a crime reference when filtering by one.
    has_behaviours: bool = False
    has_crime_reference: bool = False

    def takes_part(self, filters: Filters) -> bool:
        return (
            (filters.kinds is None or self.kind in filters.kinds)
            and (self.has_behaviours or not filters.behaviours)
            and (self.has_crime_reference or not filters.crime_reference)
        )


def _shorten(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _item(kind: str, at: datetime, summary: str, data: dict[str, Any]) -> TimelineItem:
    # Every value comes from the database, written through the record's schema: nothing to
    # validate again.
    return TimelineItem.model_construct(kind=kind, id=data["id"], at=at, summary=summary, data=data)


def _columns(model: type[SQLModel]) -> ReadOnlyColumnCollection[str, Column[Any]]:
    """The model's table columns. The timeline's statements are built from these, not from
    the models' attributes, so they run as plain SQL: rows come back as tuples without the
    ORM's per-statement and per-row work."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    columns: ReadOnlyColumnCollection[str, Column[Any]] = table.c
    return columns


_INCIDENT = _columns(Incident)
_IMPACT_NOTE = _columns(ImpactNote)
_POLICE_REPORT = _columns(PoliceReport)
_REPORT_INCIDENT = _columns(PoliceReportIncident)
_EVIDENCE = _columns(Evidence)
_EVIDENCE_INCIDENT = _columns(EvidenceIncident)
_ADVOCATE_NOTE = _columns(AdvocateNote)
_USER = _columns(User)


def _by_id(table: ReadOnlyColumnCollection[str, Column[Any]]) -> Select[Any]:
    """The statement reading every column of the rows whose ids are bound as `ids`: the kind's
    read model takes what it needs, so a new column needs nothing here."""
    return select(*table).where(table.id.in_(bindparam("ids", expanding=True)))


def _rows(db: Session, statement: Executable, ids: list[uuid.UUID]) -> Sequence[Row[Any]]:
    return db.execute(statement, {"ids": ids}).all()


# Incidents

_INCIDENTS = _by_id(_INCIDENT)


def _incident_summary(behaviours: list[str], description: str) -> str:
    words = ", ".join(BEHAVIOUR_WORDS[Behaviour(code)] for code in behaviours)
    return f"{words}: {_shorten(description)}" if description else words


def _incident_items(db: Session, sealer: Sealer, ids: list[uuid.UUID]) -> list[TimelineItem]:
    """As incidents.to_public gives them, through the incident's read model."""
    rows = _rows(db, _INCIDENTS, ids)
    # The links, by the kinds' own queries: the same lists as the records' own endpoints.
    references = incidents.crime_references(db, ids)
    files = incidents.evidence_of_incidents(db, ids)
    items = []
    for row in rows:
        values = incidents.values_of(sealer, row)
        data = {
            **records.server_fields(sealer, incidents.TABLE, row),
            **values,
            "crime_references": references.get(row.id, []),
            "evidence_ids": files.get(row.id, []),
        }
        summary = _incident_summary(row.behaviours, values["description"])
        items.append(_item("incident", values["occurred_at"], summary, data))
    return items


def _reports_with_reference() -> Select[Any]:
    """The incidents linked to the owner's live police reports with the crime reference."""
    statement: Select[Any] = (
        select(_REPORT_INCIDENT.incident_id)
        .join(_POLICE_REPORT.id.table, _POLICE_REPORT.id == _REPORT_INCIDENT.police_report_id)
        .where(
            _POLICE_REPORT.owner_id == bindparam("owner"),
            _POLICE_REPORT.withdrawn_at.is_(None),
            _POLICE_REPORT.crime_reference_key == bindparam("crime_reference_key"),
        )
    )
    return statement


def _narrow_incidents(shape: Shape) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.behaviours:
        # Typed as text: the pattern is not a code list.
        patterns = (bindparam(f"behaviour_{n}", type_=String()) for n in range(shape.behaviours))
        conditions.append(or_(*(_INCIDENT.behaviours.like(p) for p in patterns)))
    if shape.crime_reference:
        conditions.append(_INCIDENT.id.in_(_reports_with_reference()))
    return conditions


# Impact notes

_IMPACT_NOTES = _by_id(_IMPACT_NOTE)


def _impact_note_items(db: Session, sealer: Sealer, ids: list[uuid.UUID]) -> list[TimelineItem]:
    """As impact_notes.to_public gives them, through the note's read model."""
    items = []
    for row in _rows(db, _IMPACT_NOTES, ids):
        fields = impact_notes.fields_of(sealer, row)
        data = {**records.server_fields(sealer, impact_notes.TABLE, row), **dict(fields)}
        summary = "How it is affecting me: " + _shorten(fields.description)
        items.append(_item("impact_note", fields.noted_at, summary, data))
    return items


# Police reports

_POLICE_REPORTS = _by_id(_POLICE_REPORT)


def _police_report_items(db: Session, sealer: Sealer, ids: list[uuid.UUID]) -> list[TimelineItem]:
    """As police_reports.to_public gives them, through the report's read model."""
    links = police_reports.linked_incidents(db, ids)
    items = []
    for row in _rows(db, _POLICE_REPORTS, ids):
        fields = police_reports.fields_of(sealer, row, links.get(row.id, []))
        data = {**records.server_fields(sealer, police_reports.TABLE, row), **dict(fields)}
        summary = f"Reported to police ({fields.crime_reference or 'no crime reference yet'})"
        items.append(_item("police_report", fields.reported_at, summary, data))
    return items


def _narrow_police_reports(shape: Shape) -> list[ColumnElement[bool]]:
    if shape.crime_reference:
        return [_POLICE_REPORT.crime_reference_key == bindparam("crime_reference_key")]
    return []


# Evidence

_EVIDENCE_FILES = _by_id(_EVIDENCE)


def _evidence_items(db: Session, sealer: Sealer, ids: list[uuid.UUID]) -> list[TimelineItem]:
    """As evidence.to_public gives them, through the evidence's read model."""
    links = evidence.read_incident_links(db, ids)
    items = []
    for row in _rows(db, _EVIDENCE_FILES, ids):
        data = evidence.public_of(sealer, row, links.get(row.id, []))
        label, description = data["original_filename"], data["description"]
        summary = f"{label}: {_shorten(description)}" if description else label
        items.append(_item("evidence", data["captured_at"] or row.recorded_at, summary, data))
    return items


def _narrow_evidence(shape: Shape) -> list[ColumnElement[bool]]:
    if shape.crime_reference:
        # The files of the incidents that carry this crime reference.
        files = select(_EVIDENCE_INCIDENT.evidence_id).where(
            _EVIDENCE_INCIDENT.incident_id.in_(_reports_with_reference())
        )
        return [_EVIDENCE.id.in_(files)]
    return []


# Advocate notes

# The author's name comes with the note; an author whose account has gone has none.
_ADVOCATE_NOTES = (
    select(
        _ADVOCATE_NOTE.id,
        _ADVOCATE_NOTE.body,
        _ADVOCATE_NOTE.recorded_at,
        _ADVOCATE_NOTE.author_id,
        _USER.display_name,
    )
    .outerjoin(_USER.id.table, _USER.id == _ADVOCATE_NOTE.author_id)
    .where(_ADVOCATE_NOTE.id.in_(bindparam("ids", expanding=True)))
)


def _advocate_note_items(db: Session, sealer: Sealer, ids: list[uuid.UUID]) -> list[TimelineItem]:
    """As advocate_notes.to_public gives them, through the note's read model."""
    items = []
    for row in _rows(db, _ADVOCATE_NOTES, ids):
        body = advocate_notes.body_of(sealer, row)
        # The author's name is sealed under the author's own key, not the victim's.
        name = (
            identities.name_from(db, row.author_id, row.display_name)
            if row.display_name is not None
            else None
        )
        data = {
            "id": row.id,
            "body": body,
            "created_at": row.recorded_at,
            "author": {"id": row.author_id, "display_name": name},
        }
        author = name or "your advocate"
        summary = f"Note from {author}: {_shorten(body)}"
        items.append(_item("advocate_note", row.recorded_at, summary, data))
    return items


def _narrow_advocate_notes(shape: Shape) -> list[ColumnElement[bool]]:
    if shape.notes_of_share:
        return [_ADVOCATE_NOTE.share_id == bindparam("share")]
    return []


SOURCES: tuple[Source, ...] = (
    Source(
        kind="incident",
        columns=_INCIDENT,
        at="occurred_at",
        load=_incident_items,
        narrow=_narrow_incidents,
        has_behaviours=True,
        has_crime_reference=True,
    ),
    Source(kind="impact_note", columns=_IMPACT_NOTE, at="noted_at", load=_impact_note_items),
    Source(
        kind="police_report",
        columns=_POLICE_REPORT,
        at="reported_at",
        load=_police_report_items,
        narrow=_narrow_police_reports,
        has_crime_reference=True,
    ),
    Source(
        kind="evidence",
        columns=_EVIDENCE,
        at="timeline_at",
        load=_evidence_items,
        narrow=_narrow_evidence,
        has_crime_reference=True,
    ),
    Source(
        kind="advocate_note",
        columns=_ADVOCATE_NOTE,
        at="recorded_at",
        load=_advocate_note_items,
        narrow=_narrow_advocate_notes,
    ),
)
TimelineKind = StrEnum("TimelineKind", {source.kind: source.kind for source in SOURCES})  # type: ignore[misc]
_SOURCE_OF = {source.kind: source for source in SOURCES}


# --- the page statement --------------------------------------------------------------------


def _after_cursor(source: Source, kind_vs_cursor: int, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (at, kind, id) order; the kind is fixed per arm."""
    at, record_id = source.columns[source.at], source.columns.id
    cursor_at: BindParameter[Any] = bindparam("cursor_at")
    cursor_id: BindParameter[Any] = bindparam("cursor_id")
    beyond_at = at < cursor_at if descending else at > cursor_at
    if kind_vs_cursor == 0:
        beyond_id = record_id < cursor_id if descending else record_id > cursor_id
        return or_(beyond_at, and_(at == cursor_at, beyond_id))
    kind_is_later = kind_vs_cursor < 0 if descending else kind_vs_cursor > 0
    return or_(beyond_at, at == cursor_at) if kind_is_later else beyond_at


def _arm(source: Source, shape: Shape, position: int) -> Select[str, uuid.UUID, datetime]:
    at, record_id = source.columns[source.at], source.columns.id
    plan = shape.plans[position] if shape.plans else None
    statement: Select[str, uuid.UUID, datetime] = select(
        literal(source.kind).label("kind"), record_id.label("id"), at.label("at")
    ).where(
        search.owner_condition(shape.dialect, source.columns.owner_id, plan),
        *source.narrow(shape),
    )
    if not shape.include_withdrawn:
        statement = statement.where(source.columns.withdrawn_at.is_(None))
    if shape.start:
        statement = statement.where(at >= bindparam("start"))
    if shape.end:
        statement = statement.where(at < bindparam("end"))
    if plan is not None:
        statement = statement.where(search.restrict(shape.dialect, source.kind, record_id, plan))
    if shape.cursor_kinds:
        statement = statement.where(
            _after_cursor(source, shape.cursor_kinds[position], shape.descending)
        )
    if plan is Plan.LOOK_UP:
        # Every match, sorted with the other arms' rows below: an ORDER BY here would tempt
        # the planner to walk the time index instead of looking the matches up.
        return statement
    order = (at.desc(), record_id.desc()) if shape.descending else (at, record_id)
    return statement.order_by(*order).limit(shape.limit)


@functools.lru_cache(maxsize=256)
def _page_statement(shape: Shape) -> Executable:
    arms = [_arm(_SOURCE_OF[kind], shape, n) for n, kind in enumerate(shape.kinds)]
    merged = union_all(*(select(arm.subquery()) for arm in arms)).subquery()
    order = [merged.c.at, merged.c.kind, merged.c.id]
    return (
        select(merged.c.kind, merged.c.id, merged.c.at)
        .order_by(*(c.desc() if shape.descending else c.asc() for c in order))
        .limit(shape.limit)
    )


def _values(
    sealer: Sealer, owner_id: uuid.UUID, filters: Filters, cursor: Cursor | None
) -> dict[str, Any]:
    """The values the page statement binds (see Shape for what each one is)."""
    values: dict[str, Any] = {"owner": owner_id}
    if filters.start is not None:
        values["start"] = filters.start
    if filters.end is not None:
        values["end"] = filters.end
    for n, behaviour in enumerate(filters.behaviours):
        values[f"behaviour_{n}"] = contains_code(behaviour)
    if filters.crime_reference:
        values["crime_reference_key"] = police_reports.reference_index(
            sealer, filters.crime_reference
        )
    if filters.notes_of_share is not None:
        values["share"] = filters.notes_of_share
    if cursor is not None:
        values["cursor_at"], values["cursor_id"] = cursor.at, cursor.id
    return values


# --- a page --------------------------------------------------------------------------------


def _resolve(
    db: Session,
    owner_id: uuid.UUID,
    filters: Filters,
    cursor: Cursor | None,
    limit: int,
    descending: bool,
) -> tuple[Shape, dict[str, Any]] | None:
    """The page statement's shape and the values it binds; None when nothing can be on the
    page (no kind takes part, or a search for no words)."""
    kinds = tuple(source.kind for source in SOURCES if source.takes_part(filters))
    if not kinds:
        return None
    shape = Shape(
        dialect=db.get_bind().dialect.name,
        kinds=kinds,
        limit=limit + 1,
        descending=descending,
        start=filters.start is not None,
        end=filters.end is not None,
        behaviours=len(filters.behaviours),
        crime_reference=bool(filters.crime_reference),
        include_withdrawn=filters.include_withdrawn,
        notes_of_share=filters.notes_of_share is not None,
        cursor_kinds=tuple(_sign(kind, cursor.kind) for kind in kinds) if cursor else (),
    )
    sealer = sealing.sealer(db, owner_id)
    values = _values(sealer, owner_id, filters, cursor)
    if filters.query:
        terms = sealer.search_terms(search.words(filters.query))
        if not terms:
            return None
        plans = search.plans(db, owner_id, kinds, terms)
        shape = replace(shape, plans=tuple(plans[kind] for kind in kinds))
        values |= search.parameters(db, owner_id, kinds, terms)
    return shape, values


def page(
    db: Session,
    owner_id: uuid.UUID,
    filters: Filters,
    *,
    limit: int = 50,
    cursor: str | None = None,
    descending: bool = False,
) -> TimelinePage:
    limit = max(1, min(limit, MAX_LIMIT))
    after = Cursor.decode(cursor) if cursor else None
    resolved = _resolve(db, owner_id, filters, after, limit, descending)
    if resolved is None:
        return TimelinePage.model_construct(items=[], next_cursor=None)
    shape, values = resolved
    rows = db.execute(_page_statement(shape), values).all()
    more = len(rows) > limit
    keys = [(row.kind, _as_uuid(row.id)) for row in rows[:limit]]
    next_cursor = None
    if more:
        last = rows[limit - 1]
        next_cursor = Cursor(_as_aware(last.at), last.kind, _as_uuid(last.id)).encode()
    items = _load_items(db, sealing.sealer(db, owner_id), keys)
    return TimelinePage.model_construct(items=items, next_cursor=next_cursor)


def _as_uuid(value: Any) -> uuid.UUID:
    # Through a UNION, SQLite hands back the stored hex rather than a UUID.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _as_aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _load_items(
    db: Session, sealer: Sealer, keys: list[tuple[str, uuid.UUID]]
) -> list[TimelineItem]:
    ids_of: dict[str, list[uuid.UUID]] = defaultdict(list)
    for kind, record_id in keys:
        ids_of[kind].append(record_id)
    loaded: dict[tuple[str, uuid.UUID], TimelineItem] = {}
    for kind, ids in ids_of.items():
        for item in _SOURCE_OF[kind].load(db, sealer, ids):
            loaded[(kind, item.id)] = item
    return [loaded[key] for key in keys if key in loaded]
