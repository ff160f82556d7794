import uuid
from datetime import datetime
from typing import Self

from pydantic import field_validator, model_validator
from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.codes import ReportMethod
from app.models.fields import CrimeReference, Notes, PastMoment, ShortText
from app.models.record import OwnedRecord, ServerFields
from app.models.types import UTCDateTime

MAX_LINKED_INCIDENTS = 1000
CRIME_REFERENCE_LENGTH = 64


def crime_reference_key(reference: str) -> str:
    """Forces write references in many ways; " cr/123456/26 " and "CR/123456/26" are one."""
    return " ".join(reference.split()).casefold()


class PoliceReport(OwnedRecord, table=True):
    __tablename__ = "police_reports"
    __table_args__ = (
        Index("ix_police_reports_owner_time", "owner_id", "reported_at", "id"),
        Index("ix_police_reports_owner_reference", "owner_id", "crime_reference_key"),
    )

    # Optional: a 101 call does not always produce a number straight away.
    # Sealed (services/sealing.py), like force, officer and notes.
    crime_reference: str | None = Field(default=None, sa_type=Text)
    # The reference's blind index (64 hex digits): what a filter by crime reference compares.
    crime_reference_key: str | None = Field(default=None, max_length=64)
    reported_at: datetime = Field(sa_type=UTCDateTime)
    reported_at_offset: int
    force: str | None = Field(default=None, sa_type=Text)
    officer: str | None = Field(default=None, sa_type=Text)
    method: str = Field(max_length=32)
    notes: str | None = Field(default=None, sa_type=Text)


class PoliceReportIncident(SQLModel, table=True):
    """Which incidents a police report covers."""

    __tablename__ = "police_report_incidents"

    police_report_id: uuid.UUID = Field(
        foreign_key="police_reports.id", ondelete="CASCADE", primary_key=True
    )
    incident_id: uuid.UUID = Field(
        foreign_key="incidents.id", ondelete="CASCADE", primary_key=True, index=True
    )


class PoliceReportFields(SQLModel):
    model_config = {"extra": "forbid"}

    crime_reference: CrimeReference | None = None
    reported_at: PastMoment
    force: ShortText | None = None
    officer: ShortText | None = None
    method: ReportMethod
    notes: Notes | None = None
    incident_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_LINKED_INCIDENTS)

    @field_validator("crime_reference")
    @classmethod
    def _comparable(cls, value: str | None) -> str | None:
        # Ignoring case can lengthen text ("ß" compares as "ss"); the key must fit its column.
        if value is not None and len(crime_reference_key(value)) > CRIME_REFERENCE_LENGTH:
            raise ValueError("is too long once letter case is ignored")
        return value

    @model_validator(mode="after")
    def _canonical(self) -> Self:
        if self.crime_reference is not None:
            self.crime_reference = " ".join(self.crime_reference.split())
        self.incident_ids = sorted(set(self.incident_ids))
        return self


class PoliceReportCreate(PoliceReportFields):
    id: uuid.UUID | None = None


class PoliceReportUpdate(SQLModel):
    model_config = {"extra": "forbid"}

    crime_reference: CrimeReference | None = None
    reported_at: PastMoment | None = None
    force: ShortText | None = None
    officer: ShortText | None = None
    method: ReportMethod | None = None
    notes: Notes | None = None
    incident_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_LINKED_INCIDENTS)


class PoliceReportPublic(PoliceReportFields, ServerFields):
    model_config = {"extra": "ignore"}
