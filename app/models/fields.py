"""Field types shared by the record schemas: bounded text, local times, code sets."""

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, StringConstraints
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# Tab, newline and carriage return are writing; every other control character (NUL first) is not.
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# A phone's clock can be a little ahead of ours; more than this is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def has_control_characters(value: str) -> bool:
    return _FORBIDDEN_CONTROL.search(value) is not None


def _clean_text(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value


_CLEAN = AfterValidator(_clean_text)

# Limits (characters). Generous for what people write, small enough to keep a pack readable
# and a database row sane. docs/limits.md lists them for users and integrators.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), _CLEAN]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), _CLEAN]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), _CLEAN]
RequiredDescription = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), _CLEAN
]
Witnesses = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000), _CLEAN]
Feelings = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000), _CLEAN]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000), _CLEAN]
CrimeReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), _CLEAN
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000), _CLEAN
]


def _not_in_future(value: datetime) -> datetime:
    # Compared as aware datetimes, never converted: year 1 at +01:00 has no UTC equivalent.
    if value < EARLIEST:
        raise ValueError("must be after 1900")
    if value > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise ValueError("must not be in the future")
    return value


# Timezone-aware (an offset is required) and not in the future.
PastMoment = Annotated[AwareDatetime, AfterValidator(_not_in_future)]


def offset_minutes(value: datetime) -> int:
    offset = value.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def at_offset(utc_value: datetime, minutes: int) -> datetime:
    """Give back the moment as the victim wrote it: same instant, their offset."""
    return utc_value.astimezone(timezone(timedelta(minutes=minutes)))


class CodeList(TypeDecorator[list[str]]):
    """A list of codes stored as ",a,b," so "has code x" is a portable LIKE '%,x,%'."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return "," + ",".join(value) + ","

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[str] | None:
        if value is None:
            return None
        return [code for code in value.split(",") if code]

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        # A LIKE pattern (contains_code) is plain text: it must not be encoded as a code list.
        return String() if isinstance(value, str) else self


def contains_code(code: str) -> str:
    """The LIKE pattern matching a CodeList column that holds `code`."""
    return f"%,{code},%"
