"""Query parameters and responses shared by list endpoints."""

from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Response
from pydantic import BaseModel

from app.errors import InvalidInput

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
CursorParam = Annotated[str | None, Query(max_length=512, description="From next_cursor.")]
IncludeWithdrawn = Annotated[bool, Query(description="Show withdrawn records too.")]


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def comma_separated(value: str | None, codes: type[E], field: str) -> list[E]:
    """Parse "a,b,c" into codes, refusing any that are not known."""
    if not value:
        return []
    parts = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return [codes(part) for part in parts]
    except ValueError as error:
        known = ", ".join(code.value for code in codes)
        raise InvalidInput(
            f"Unknown {field}; use some of: {known}.", field=field, where="query"
        ) from error


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def json_response(body: BaseModel) -> Response:
    """The JSON FastAPI would send for `body`, without first validating it again.

    For a sync endpoint FastAPI validates the returned model against the response model in a
    worker thread before serialising it: a second pass and a thread round trip for a page we
    have only just built from the database. The route keeps `response_model` for the API
    docs."""
    return Response(content=body.model_dump_json(by_alias=True), media_type="application/json")
