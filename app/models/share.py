import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.types import UTCDateTime, utcnow


class Invitation(SQLModel, table=True):
    """A single-use code an advocate reads out to a victim. Only its hash is stored."""

    __tablename__ = "invitations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    advocate_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Share(SQLModel, table=True):
    """A victim's decision to let one advocate read their log. Its id is the case id."""

    __tablename__ = "shares"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    victim_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    advocate_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    can_export: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_viewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InvitationPublic(SQLModel):
    code: str
    expires_at: datetime


class Redemption(SQLModel):
    model_config = {"extra": "forbid"}

    code: str = Field(min_length=1, max_length=64)
    can_export: bool = False


class AdvocateSummary(SQLModel):
    id: uuid.UUID
    display_name: str
    organisation: str | None


class SharePublic(SQLModel):
    """What the victim sees of a share."""

    id: uuid.UUID
    advocate: AdvocateSummary
    since: datetime
    can_export: bool
    last_viewed_at: datetime | None


class VictimSummary(SQLModel):
    display_name: str


class CasePublic(SQLModel):
    """What the advocate sees of a case (a live share)."""

    id: uuid.UUID
    victim: VictimSummary
    since: datetime
    can_export: bool
    counts: dict[str, int]
    last_activity: datetime | None


class OrgAdvocate(SQLModel):
    id: uuid.UUID
    display_name: str
    email: str
    role: str
    active: bool
    caseload: int
