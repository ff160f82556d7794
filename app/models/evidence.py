import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import AliasChoices, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Index, Text
from sqlmodel import Field, SQLModel

from app.models.fields import Description
from app.models.record import OwnedRecord, ServerFields
from app.models.types import UTCDateTime

MAX_LINKED_INCIDENTS = 1000


class Evidence(OwnedRecord, table=True):
    """A file kept byte-exact (encrypted in the blob store under its id)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_owner_time", "owner_id", "timeline_at", "id"),)

    # The encrypted file's key in the blob store: random, and apart from the record's id, so a
    # retried upload never writes over the file it repeats.
    blob_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    # For display only; never used as a path. Sealed, like the hash, the metadata and the
    # description (services/evidence.py).
    original_filename: str = Field(sa_type=Text)
    media_type: str = Field(max_length=100)  # sniffed from the bytes
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(sa_type=Text)
    client_sha256_matches: bool | None = None
    # What the file claims about itself (EXIF, container): capture time, device, GPS…
    captured_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A dict until the record is written; then that dict as sealed JSON text.
    file_metadata: Any = Field(default_factory=dict, sa_type=JSON)
    description: str = Field(default="", sa_type=Text)
    # The preview's size in bytes; None when the file has no preview.
    thumbnail_size: int | None = None
    # Where it sits on the timeline: when it was captured if the file says, else uploaded.
    timeline_at: datetime = Field(sa_type=UTCDateTime)


class EvidenceIncident(SQLModel, table=True):
    __tablename__ = "evidence_incidents"

    evidence_id: uuid.UUID = Field(foreign_key="evidence.id", ondelete="CASCADE", primary_key=True)
    incident_id: uuid.UUID = Field(
        foreign_key="incidents.id", ondelete="CASCADE", primary_key=True, index=True
    )


class EvidenceFields(SQLModel):
    """What the victim can change about a file: what it shows and which incidents it is for."""

    model_config = {"extra": "forbid"}

    description: Description = ""
    incident_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_LINKED_INCIDENTS)

    @model_validator(mode="after")
    def _canonical(self) -> Self:
        self.incident_ids = sorted(set(self.incident_ids))
        return self


class EvidenceUpdate(SQLModel):
    model_config = {"extra": "forbid"}

    description: Description | None = None
    incident_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_LINKED_INCIDENTS)


class EvidencePublic(EvidenceFields, ServerFields):
    model_config = {"extra": "ignore"}

    original_filename: str
    media_type: str
    size: int
    sha256: str
    client_sha256_matches: bool | None
    captured_at: datetime | None
    uploaded_at: datetime
    # "metadata" in JSON; SQLModel reserves the attribute name for its table registry.
    file_metadata: dict[str, Any] = PydanticField(
        serialization_alias="metadata",
        validation_alias=AliasChoices("file_metadata", "metadata"),
    )
    has_thumbnail: bool
