import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.fields import _CLEAN
from app.models.record import OwnedRecord

NoteBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), _CLEAN
]


class AdvocateNote(OwnedRecord, table=True):
    """A note an advocate writes on a case. It belongs to the victim's log (owner_id is the
    victim), so the victim reads it on their timeline and it goes when their account goes."""

    __tablename__ = "advocate_notes"
    __table_args__ = (Index("ix_advocate_notes_owner_time", "owner_id", "recorded_at", "id"),)

    # No foreign key: the note stays in the victim's record if the advocate's account goes.
    author_id: uuid.UUID
    share_id: uuid.UUID | None = Field(default=None, foreign_key="shares.id", ondelete="SET NULL")
    body: str = Field(sa_type=Text)


class NoteAuthor(SQLModel):
    id: uuid.UUID
    display_name: str | None


class AdvocateNoteCreate(SQLModel):
    model_config = {"extra": "forbid"}

    id: uuid.UUID | None = None
    body: NoteBody


class AdvocateNotePublic(SQLModel):
    id: uuid.UUID
    body: str
    created_at: datetime
    author: NoteAuthor
