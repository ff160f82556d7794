import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.types import UTCDateTime, utcnow


class Upload(SQLModel, table=True):
    """A tus upload in progress. `offset` never runs ahead of bytes that are durably stored."""

    __tablename__ = "uploads"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    length: int = Field(sa_type=BigInteger)
    offset: int = Field(default=0, sa_type=BigInteger)
    # Upload-Metadata as the client sent it (filename, filetype, sha256, description, ids).
    # Sealed JSON text (services/uploads.py).
    upload_metadata: str = Field(sa_type=JSON)
    # The encrypted blob's header (magic and salt), fixed when the upload is created.
    blob_header: bytes = Field(sa_type=LargeBinary)
    # Backend bookkeeping (S3 multipart upload id and parts), opaque to everything else.
    staging_state: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    media_type: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
