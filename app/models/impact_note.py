import uuid
from datetime import datetime
from typing import Self

from pydantic import model_validator
from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.codes import ImpactArea
from app.models.fields import CodeList, PastMoment, RequiredDescription
from app.models.record import OwnedRecord, ServerFields
from app.models.types import UTCDateTime


class ImpactNote(OwnedRecord, table=True):
    """How the stalking is affecting day-to-day life (the s.4A "substantial adverse effect")."""

    __tablename__ = "impact_notes"
    __table_args__ = (Index("ix_impact_notes_owner_time", "owner_id", "noted_at", "id"),)

    noted_at: datetime = Field(sa_type=UTCDateTime)
    noted_at_offset: int
    areas: list[str] = Field(sa_type=CodeList)
    description: str = Field(sa_type=Text)


class ImpactNoteFields(SQLModel):
    model_config = {"extra": "forbid"}

    noted_at: PastMoment
    areas: list[ImpactArea] = Field(min_length=1, max_length=len(ImpactArea))
    description: RequiredDescription

    @model_validator(mode="after")
    def _canonical_areas(self) -> Self:
        self.areas = [a for a in ImpactArea if a in self.areas]
        return self


class ImpactNoteCreate(ImpactNoteFields):
    id: uuid.UUID | None = None


class ImpactNoteUpdate(SQLModel):
    model_config = {"extra": "forbid"}

    noted_at: PastMoment | None = None
    areas: list[ImpactArea] | None = None
    description: RequiredDescription | None = None


class ImpactNotePublic(ImpactNoteFields, ServerFields):
    model_config = {"extra": "ignore"}
