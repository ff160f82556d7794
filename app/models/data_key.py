import uuid
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from app.models.types import UTCDateTime, utcnow


class DataKey(SQLModel, table=True):
    """A victim's data key, only ever stored wrapped by the master key. Deleting this row is
    what makes every copy of their blobs, backups included, unreadable (crypto-shredding)."""

    __tablename__ = "data_keys"

    victim_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    wrapped_key: bytes = Field(sa_type=LargeBinary)
    # Which master key wraps it (a fingerprint, not the key), so keys can be rotated.
    master_key_id: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
