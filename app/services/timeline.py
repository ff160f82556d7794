"""The timeline: every kind of record merged in time order, filtered, keyset-paginated.

Each kind contributes one arm: its owner's rows in time order, filtered, after the cursor,
limited to one page. Arms are merged with UNION ALL, ordered by (at, kind, id) and cut to a
page. Every arm is a range scan on its (owner, time, id) index, so a page costs the same for a
log of ten items and of a hundred thousand. The records on the page are then loaded per kind
in one query each: no N+1.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, literal, or_, union_all
from sqlmodel import Session, col, select

from app.errors import InvalidInput
from app.models.advocate_note import AdvocateNote
from app.models.codes import BEHAVIOUR_WORDS, Behaviour
from app.models.evidence import Evidence, EvidenceIncident
from app.models.fields import contains_code
from app.models.impact_note import ImpactNote
from app.models.incident import Incident
from app.models.police_report import PoliceReport, PoliceReportIncident, crime_reference_key
from app.models.record import OwnedRecord
from app.services import (
    advocate_notes,
    evidence,
    impact_notes,
    incidents,
    police_reports,
    search,
)

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
    data: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None


@dataclass(frozen=True)
class Source:
    """One kind of record on the timeline."""

    kind: str
    model: type[OwnedRecord]
    at: Any  # the model's time column
    load: Callable[[Session, Sequence[Any]], Sequence[BaseModel]]
    at_of: Callable[[BaseModel], datetime]
    summary_of: Callable[[BaseModel], str]
    # Extra conditions for the filters this kind understands; None leaves the kind out.
    narrow: Callable[[Session, uuid.UUID, Filters], list[ColumnElement[bool]] | None]


def _shorten(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _incident_summary(item: Any) -> str:
    words = ", ".join(BEHAVIOUR_WORDS[Behaviour(b)] for b in item.behaviours)
    return f"{words}: {_shorten(item.description)}" if item.description else words


def _evidence_summary(item: Any) -> str:
    label = item.original_filename
    return f"{label}: {_shorten(item.description)}" if item.description else label


def _note_summary(item: Any) -> str:
    author = item.author.display_name or "your advocate"
    return f"Note from {author}: {_shorten(item.body)}"


def _report_summary(item: Any) -> str:
    reference = item.crime_reference or "no crime reference yet"
    return f"Reported to police ({reference})"


def _reports_with_reference(owner_id: uuid.UUID, reference: str) -> Select[uuid.UUID]:
    return (
        select(col(PoliceReportIncident.incident_id))
        .join(PoliceReport, col(PoliceReport.id) == col(PoliceReportIncident.police_report_id))
        .where(
            PoliceReport.owner_id == owner_id,
            col(PoliceReport.withdrawn_at).is_(None),
            PoliceReport.crime_reference_key == crime_reference_key(reference),
        )
    )


def _narrow_incidents(_db: Session, owner_id: uuid.UUID, f: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.behaviours:
        conditions.append(
            or_(*(col(Incident.behaviours).like(contains_code(b)) for b in f.behaviours))
        )
    if f.crime_reference:
        conditions.append(
            col(Incident.id).in_(_reports_with_reference(owner_id, f.crime_reference))
        )
    return conditions


def _narrow_evidence(
    _db: Session, owner_id: uuid.UUID, f: Filters
) -> list[ColumnElement[bool]] | None:
    if f.behaviours:
        return None
    if f.crime_reference:
        # The files of the incidents that carry this crime reference.
        return [
            col(Evidence.id).in_(
                select(col(EvidenceIncident.evidence_id)).where(
                    col(EvidenceIncident.incident_id).in_(
                        _reports_with_reference(owner_id, f.crime_reference)
                    )
                )
            )
        ]
    return []


def _narrow_advocate_notes(
    _db: Session, _owner: uuid.UUID, f: Filters
) -> list[ColumnElement[bool]] | None:
    if f.behaviours or f.crime_reference:
        return None
    if f.notes_of_share is not None:
        return [col(AdvocateNote.share_id) == f.notes_of_share]
    return []


def _narrow_impact_notes(
    _db: Session, _owner: uuid.UUID, f: Filters
) -> list[ColumnElement[bool]] | None:
    return None if f.behaviours or f.crime_reference else []


def _narrow_police_reports(
    _db: Session, _owner: uuid.UUID, f: Filters
) -> list[ColumnElement[bool]] | None:
    if f.behaviours:
        return None
    if f.crime_reference:
        return [col(PoliceReport.crime_reference_key) == crime_reference_key(f.crime_reference)]
    return []


SOURCES: tuple[Source, ...] = (
    Source(
        kind="incident",
        model=Incident,
        at=Incident.occurred_at,
        load=lambda db, rows: incidents.to_public(db, rows),
        at_of=lambda item: item.occurred_at,  # type: ignore[attr-defined]
        summary_of=_incident_summary,
        narrow=_narrow_incidents,
    ),
    Source(
        kind="impact_note",
        model=ImpactNote,
        at=ImpactNote.noted_at,
        load=lambda db, rows: impact_notes.to_public(db, rows),
        at_of=lambda item: item.noted_at,  # type: ignore[attr-defined]
        summary_of=lambda item: "How it is affecting me: " + _shorten(item.description),  # type: ignore[attr-defined]
        narrow=_narrow_impact_notes,
    ),
    Source(
        kind="police_report",
        model=PoliceReport,
        at=PoliceReport.reported_at,
        load=lambda db, rows: police_reports.to_public(db, rows),
        at_of=lambda item: item.reported_at,  # type: ignore[attr-defined]
        summary_of=_report_summary,
        narrow=_narrow_police_reports,
    ),
    Source(
        kind="evidence",
        model=Evidence,
        at=Evidence.timeline_at,
        load=lambda db, rows: evidence.to_public(db, rows),
        at_of=lambda item: item.captured_at or item.uploaded_at,  # type: ignore[attr-defined]
        summary_of=_evidence_summary,
        narrow=_narrow_evidence,
    ),
    Source(
        kind="advocate_note",
        model=AdvocateNote,
        at=AdvocateNote.recorded_at,
        load=lambda db, rows: advocate_notes.to_public(db, rows),
        at_of=lambda item: item.created_at,  # type: ignore[attr-defined]
        summary_of=_note_summary,
        narrow=_narrow_advocate_notes,
    ),
)
TimelineKind = StrEnum("TimelineKind", {source.kind: source.kind for source in SOURCES})  # type: ignore[misc]


def _after_cursor(source: Source, cursor: Cursor, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (at, kind, id) order; the kind is fixed per arm."""
    at, record_id = col(source.at), col(source.model.id)
    beyond_at = at < cursor.at if descending else at > cursor.at
    if source.kind == cursor.kind:
        beyond_id = record_id < cursor.id if descending else record_id > cursor.id
        return or_(beyond_at, and_(at == cursor.at, beyond_id))
    kind_is_later = (source.kind < cursor.kind) if descending else (source.kind > cursor.kind)
    return or_(beyond_at, at == cursor.at) if kind_is_later else beyond_at


def _arm(
    db: Session,
    source: Source,
    owner_id: uuid.UUID,
    filters: Filters,
    cursor: Cursor | None,
    limit: int,
    descending: bool,
) -> Select[str, uuid.UUID, datetime] | None:
    if filters.kinds is not None and source.kind not in filters.kinds:
        return None
    extra = source.narrow(db, owner_id, filters)
    if extra is None:
        return None
    at, record_id = col(source.at), col(source.model.id)
    statement: Select[str, uuid.UUID, datetime] = select(
        literal(source.kind).label("kind"), record_id.label("id"), at.label("at")
    ).where(col(source.model.owner_id) == owner_id, *extra)
    if not filters.include_withdrawn:
        statement = statement.where(col(source.model.withdrawn_at).is_(None))
    if filters.start is not None:
        statement = statement.where(at >= filters.start)
    if filters.end is not None:
        statement = statement.where(at < filters.end)
    if filters.query:
        statement = statement.where(
            record_id.in_(search.matching_ids(db, owner_id, source.kind, filters.query))
        )
    if cursor is not None:
        statement = statement.where(_after_cursor(source, cursor, descending))
    order = (at.desc(), record_id.desc()) if descending else (at, record_id)
    return statement.order_by(*order).limit(limit)


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
    arms = [
        arm
        for source in SOURCES
        if (arm := _arm(db, source, owner_id, filters, after, limit + 1, descending)) is not None
    ]
    if not arms:
        return TimelinePage(items=[], next_cursor=None)
    merged = union_all(*(select(arm.subquery()) for arm in arms)).subquery()
    order = [merged.c.at, merged.c.kind, merged.c.id]
    rows = db.execute(
        select(merged.c.kind, merged.c.id, merged.c.at)
        .order_by(*(c.desc() if descending else c.asc() for c in order))
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = _load_items(db, [(row.kind, _as_uuid(row.id)) for row in rows])
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = Cursor(_as_aware(last.at), last.kind, _as_uuid(last.id)).encode()
    return TimelinePage(items=items, next_cursor=next_cursor)


def _as_uuid(value: Any) -> uuid.UUID:
    # Through a UNION, SQLite hands back the stored hex rather than a UUID.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _as_aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _load_items(db: Session, keys: list[tuple[str, uuid.UUID]]) -> list[TimelineItem]:
    loaded: dict[tuple[str, uuid.UUID], TimelineItem] = {}
    for source in SOURCES:
        ids = [record_id for kind, record_id in keys if kind == source.kind]
        if not ids:
            continue
        rows = db.exec(select(source.model).where(col(source.model.id).in_(ids))).all()
        for item in source.load(db, rows):
            record_id = item.id  # type: ignore[attr-defined]
            loaded[(source.kind, record_id)] = TimelineItem(
                kind=source.kind,
                id=record_id,
                at=source.at_of(item),
                summary=source.summary_of(item),
                data=item.model_dump(mode="json", by_alias=True),
            )
    return [loaded[key] for key in keys if key in loaded]
