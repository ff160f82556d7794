"""What every record a victim keeps has in common: an owner, server times, revisions and
withdrawal. Records are never silently changed (docs/architecture.md, "The record machinery")."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from app.models.fields import Reason
from app.models.types import UTCDateTime, utcnow


class OwnedRecord(SQLModel):
    """Columns shared by incidents, impact notes and police reports."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revision: int = 1
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str | None = Field(default=None, sa_type=Text)  # sealed


class RecordRevision(SQLModel, table=True):
    """A record's fields as they were at one revision; revision 1 is the record as created."""

    __tablename__ = "record_revisions"

    record_kind: str = Field(max_length=32, primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    revision: int = Field(primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    by_id: uuid.UUID
    # The fields as a JSON object, sealed whole (services/records.py): stored as a JSON string.
    data: str = Field(sa_type=JSON)


class Withdrawal(SQLModel):
    reason: Reason


class Actor(SQLModel):
    id: uuid.UUID
    display_name: str | None


class RevisionPublic(SQLModel):
    """One revision: who, when, and the fields as they were (merged into the top level)."""

    model_config = {"extra": "allow"}

    revision: int
    at: datetime
    by: Actor


class ServerFields(SQLModel):
    """What the server adds to every record it returns."""

    id: uuid.UUID
    recorded_at: datetime
    updated_at: datetime
    revision: int
    withdrawn: bool
    withdrawn_reason: str | None
