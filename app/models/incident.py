import uuid
from datetime import datetime
from typing import Self

from pydantic import model_validator
from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.codes import Behaviour, Channel
from app.models.fields import (
    CodeList,
    Description,
    Feelings,
    Location,
    PastMoment,
    Witnesses,
)
from app.models.record import OwnedRecord, ServerFields
from app.models.types import UTCDateTime


class Incident(OwnedRecord, table=True):
    __tablename__ = "incidents"
    # The timeline reads one owner's incidents in time order: this index makes that a range scan.
    __table_args__ = (Index("ix_incidents_owner_time", "owner_id", "occurred_at", "id"),)

    occurred_at: datetime = Field(sa_type=UTCDateTime)
    # The offset (minutes east of UTC) the victim wrote, so their local time reads back exactly.
    occurred_at_offset: int
    occurred_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    occurred_until_offset: int | None = None
    time_is_approximate: bool = False
    location: str | None = Field(default=None, sa_type=Text)
    behaviours: list[str] = Field(sa_type=CodeList)
    channel: str | None = Field(default=None, max_length=32)
    description: str = Field(sa_type=Text)
    witnesses: str | None = Field(default=None, sa_type=Text)
    feelings: str | None = Field(default=None, sa_type=Text)


class IncidentFields(SQLModel):
    """What the victim writes about an incident."""

    model_config = {"extra": "forbid"}

    occurred_at: PastMoment
    occurred_until: PastMoment | None = None
    time_is_approximate: bool = False
    location: Location | None = None
    behaviours: list[Behaviour] = Field(min_length=1, max_length=len(Behaviour))
    channel: Channel | None = None
    description: Description = ""
    witnesses: Witnesses | None = None
    feelings: Feelings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.occurred_until is not None and self.occurred_until < self.occurred_at:
            raise ValueError("occurred_until must not be before occurred_at")
        # One of each, in the canonical order, so the same choice always reads the same.
        self.behaviours = [b for b in Behaviour if b in self.behaviours]
        return self


class IncidentCreate(IncidentFields):
    # Chosen by the client so an offline outbox can retry without making duplicates.
    id: uuid.UUID | None = None


class IncidentUpdate(SQLModel):
    """Only the fields sent change; the result must still be a valid incident."""

    model_config = {"extra": "forbid"}

    occurred_at: PastMoment | None = None
    occurred_until: PastMoment | None = None
    time_is_approximate: bool | None = None
    location: Location | None = None
    behaviours: list[Behaviour] | None = None
    channel: Channel | None = None
    description: Description | None = None
    witnesses: Witnesses | None = None
    feelings: Feelings | None = None


class IncidentPublic(IncidentFields, ServerFields):
    model_config = {"extra": "ignore"}

    crime_references: list[str]
    evidence_ids: list[uuid.UUID]
