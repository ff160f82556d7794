"""The timeline's items as the API documents them: one schema per kind, told apart by `kind`.

The timeline builds its items from plain columns and sends them without validating them again
(docs/adr/0002-plain-column-timeline-and-model-construct.md); these schemas are what the
OpenAPI document says each item is, so a client can generate its types from it.
`tests/api/test_timeline.py` validates real pages against them, so they cannot drift."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlmodel import SQLModel

from app.models.advocate_note import AdvocateNotePublic
from app.models.evidence import EvidencePublic
from app.models.impact_note import ImpactNotePublic
from app.models.incident import IncidentPublic
from app.models.police_report import PoliceReportPublic


class _Item(SQLModel):
    id: uuid.UUID
    # When it sits on the timeline: when it happened, was noted, reported or captured.
    at: datetime
    # One line for a list, in plain words.
    summary: str


class IncidentItem(_Item):
    kind: Literal["incident"]
    data: IncidentPublic


class ImpactNoteItem(_Item):
    kind: Literal["impact_note"]
    data: ImpactNotePublic


class PoliceReportItem(_Item):
    kind: Literal["police_report"]
    data: PoliceReportPublic


class EvidenceItem(_Item):
    kind: Literal["evidence"]
    data: EvidencePublic


class AdvocateNoteItem(_Item):
    kind: Literal["advocate_note"]
    data: AdvocateNotePublic


TimelineItemPublic = Annotated[
    IncidentItem | ImpactNoteItem | PoliceReportItem | EvidenceItem | AdvocateNoteItem,
    Field(discriminator="kind"),
]


class TimelinePagePublic(SQLModel):
    items: list[TimelineItemPublic]
    # Pass it back as `cursor` for the next page; null on the last page.
    next_cursor: str | None
