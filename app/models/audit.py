import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import UTCDateTime

GENESIS_HASH = "0" * 64


class AuditChain(SQLModel, table=True):
    """The head of one victim's chain. Appends lock this row, so events never race for a seq,
    and deleting the newest events is detectable because the head no longer matches."""

    __tablename__ = "audit_chains"

    victim_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    last_seq: int = 0
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)


class AuditEvent(SQLModel, table=True):
    """Append-only. hash = sha256(prev_hash || canonical event). Ids and action names only:
    never the victim's own words."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("victim_id", "seq"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    victim_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    # No foreign key: the trail must outlive an advocate's account.
    actor_id: uuid.UUID | None = None
    actor_role: str = Field(max_length=16)
    action: str = Field(max_length=64)
    target_kind: str | None = Field(default=None, max_length=32)
    target_id: uuid.UUID | None = None
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditActor(SQLModel):
    id: uuid.UUID | None
    role: str
    display_name: str | None


class AuditEventPublic(SQLModel):
    seq: int
    at: datetime
    actor: AuditActor
    action: str
    target_kind: str | None
    target_id: uuid.UUID | None
    prev_hash: str
    hash: str
    description: str


class AuditVerification(SQLModel):
    valid: bool
    count: int
    head: str
    # The first seq that does not check out, when valid is false.
    broken_at: int | None = None
