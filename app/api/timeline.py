"""The timeline: everything in one list, in time order."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime

from app.api.deps import CurrentVictim, SessionDep
from app.api.pages import (
    CursorParam,
    IncludeWithdrawn,
    Limit,
    Order,
    comma_separated,
    json_response,
)
from app.errors import InvalidInput
from app.models.codes import Behaviour
from app.models.fields import has_control_characters
from app.models.timeline import TimelinePagePublic
from app.services import timeline

router = APIRouter(prefix="/timeline", tags=["timeline"])

Kind = timeline.TimelineKind


def _in_utc(value: datetime | None, field: str) -> datetime | None:
    try:
        return value.astimezone(UTC) if value else None
    except OverflowError as error:  # year 1 at +01:00 has no UTC equivalent
        raise InvalidInput("This time is out of range.", field=field, where="query") from error


@dataclass(frozen=True)
class TimelineQuery:
    filters: timeline.Filters
    limit: int
    cursor: str | None
    descending: bool


def timeline_query(
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    kinds: Annotated[
        str | None, Query(max_length=200, description="e.g. incident,police_report")
    ] = None,
    behaviours: Annotated[
        str | None, Query(max_length=400, description="e.g. threats,turning_up")
    ] = None,
    crime_reference: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words to search for.")] = None,
    order: Order = Order.asc,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> TimelineQuery:
    """The timeline's filters and paging, read and checked in one place for the victim's
    timeline and the advocate's view of a case."""
    if start and end and end <= start:
        raise InvalidInput("'to' must be after 'from'.", field="to", where="query")
    if crime_reference and has_control_characters(crime_reference):
        raise InvalidInput(
            "must not contain control characters", field="crime_reference", where="query"
        )
    filters = timeline.Filters(
        start=_in_utc(start, "from"),
        end=_in_utc(end, "to"),
        kinds=frozenset(comma_separated(kinds, Kind, "kinds")) or None,
        behaviours=tuple(comma_separated(behaviours, Behaviour, "behaviours")),
        crime_reference=(crime_reference or "").strip() or None,
        query=(q or "").strip() or None,
    )
    return TimelineQuery(filters, limit, cursor, descending=order is Order.desc)


TimelineQueryDep = Annotated[TimelineQuery, Depends(timeline_query)]


@router.get("", response_model=TimelinePagePublic)
def read_timeline(
    victim: CurrentVictim,
    db: SessionDep,
    query: TimelineQueryDep,
    include_withdrawn: IncludeWithdrawn = False,
) -> Response:
    """Everything you have logged, merged in time order, with filters and search."""
    page = timeline.page(
        db,
        victim.id,
        replace(query.filters, include_withdrawn=include_withdrawn),
        limit=query.limit,
        cursor=query.cursor,
        descending=query.descending,
    )
    return json_response(page)
