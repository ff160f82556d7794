import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.types import UTCDateTime, utcnow


class AuthSession(SQLModel, table=True):
    """A signed-in device. The token itself is never stored, only its SHA-256."""

    __tablename__ = "auth_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # Coarse, so the victim can spot a session that is not theirs ("Firefox on Android").
    device: str = Field(max_length=100)
    # SHA-256 of the session's second secret, for sessions that asked for one (the app does):
    # such a session is only accepted with the secret in a header as well as the cookie, so a
    # cookie left in a browser after the app forgot the secret is useless.
    proof_hash: str | None = Field(default=None, max_length=64)


class AuthSessionPublic(SQLModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    device: str
    current: bool
