import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StringConstraints
from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from app.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    victim = "victim"
    advocate = "advocate"
    admin = "admin"


def _normalise_email(email: str) -> str:
    return email.strip().lower()


# Characters that reorder the text around them: a name could be made to read as another.
_DIRECTION_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _no_control_characters(text: str) -> str:
    if any(unicodedata.category(c) == "Cc" or c in _DIRECTION_OVERRIDES for c in text):
        raise ValueError("must not contain control or text-direction characters")
    return text


Email = Annotated[EmailStr, AfterValidator(_normalise_email)]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_no_control_characters),
]
# Length rules for passwords live in services/passwords.py; this only bounds the request.
PasswordInput = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Sealed under the account's own data key (services/accounts.py); the account is found by
    # email_lookup, a keyed hash of the normalised email.
    email: str = Field(sa_type=Text, unique=True)
    email_lookup: str | None = Field(default=None, max_length=64, unique=True, index=True)
    display_name: str = Field(sa_type=Text)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=String(16))
    organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="organisations.id", ondelete="RESTRICT", index=True
    )
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserPublic(SQLModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    organisation_id: uuid.UUID | None
    created_at: datetime


class Registration(SQLModel):
    email: Email
    password: PasswordInput
    display_name: DisplayName
    session_proof: bool = False


class Credentials(SQLModel):
    email: Email
    password: PasswordInput
    # True: the session also needs a second secret, sent back once as `session_proof` and
    # required in the Session-Proof header of every request (docs/security.md).
    session_proof: bool = False


class PasswordChange(SQLModel):
    current_password: PasswordInput
    new_password: PasswordInput


class AccountErasure(SQLModel):
    password: PasswordInput
