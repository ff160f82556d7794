"""An advocate's caseload: the logs victims chose to share with them. Advocates read; they
never change a victim's records. Every look they take is on the victim's audit trail."""

import uuid
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import StreamingResponse

from app.api.deps import CurrentAdvocate, RuntimeDep, SessionDep, writes_on_read
from app.api.evidence import file_response
from app.api.exports import PackFiltersDep, pack_response
from app.api.pages import Page, json_response
from app.api.timeline import TimelineQueryDep
from app.errors import NotFound
from app.export.exports import export_pack
from app.models.advocate_note import AdvocateNoteCreate, AdvocateNotePublic
from app.models.evidence import Evidence, EvidencePublic
from app.models.incident import IncidentPublic
from app.models.share import CasePublic, Share
from app.models.timeline import TimelinePagePublic
from app.models.user import User
from app.services import advocate_notes, data_keys, evidence, incidents, records, sharing, timeline
from app.services.downloads import RangeNotSatisfiable, parse_range

router = APIRouter(prefix="/cases", tags=["cases"])

# Routes that show the victim's records, or what is in them (the caseload's counts and last
# activity): each look goes on their trail, so the request writes. (The notes list shows only
# what the advocate wrote, so it only reads.)
RECORDS_A_VIEW = [Depends(writes_on_read)]


@dataclass(frozen=True)
class Case:
    share: Share
    victim: User
    advocate: User


def shared_case(case_id: uuid.UUID, advocate: CurrentAdvocate, db: SessionDep) -> Case:
    """A live share to this advocate, or nothing at all (404, never 403)."""
    share, victim = sharing.live_case(db, advocate, case_id)
    return Case(share, victim, advocate)


SharedCase = Annotated[Case, Depends(shared_case)]


@router.get("", response_model=Page[CasePublic], dependencies=RECORDS_A_VIEW)
def list_cases(advocate: CurrentAdvocate, db: SessionDep) -> Page[CasePublic]:
    """The people who have shared their log with you (each sees that you looked)."""
    return Page(items=sharing.cases(db, advocate))


@router.get("/{case_id}", response_model=CasePublic, dependencies=RECORDS_A_VIEW)
def read_case(case: SharedCase, db: SessionDep) -> CasePublic:
    """One case: who, since when, how much is in it."""
    sharing.viewed(db, case.share, case.advocate, "case.viewed", "share", case.share.id)
    return sharing.case_public(db, case.share, case.victim)


@router.get("/{case_id}/timeline", response_model=TimelinePagePublic, dependencies=RECORDS_A_VIEW)
def read_case_timeline(case: SharedCase, db: SessionDep, query: TimelineQueryDep) -> Response:
    """The victim's timeline, as they see it (withdrawn records stay hidden)."""
    sharing.viewed(db, case.share, case.advocate, "case.viewed", "share", case.share.id)
    page = timeline.page(
        db,
        case.victim.id,
        replace(query.filters, notes_of_share=case.share.id),
        limit=query.limit,
        cursor=query.cursor,
        descending=query.descending,
    )
    return json_response(page)  # as the victim's own timeline is sent


@router.get(
    "/{case_id}/incidents/{incident_id}", response_model=IncidentPublic, dependencies=RECORDS_A_VIEW
)
def read_case_incident(case: SharedCase, incident_id: uuid.UUID, db: SessionDep) -> IncidentPublic:
    """One incident of the case."""
    incident = records.get_owned(db, incidents.KIND, case.victim.id, incident_id)
    if incident.withdrawn_at is not None:
        raise NotFound("No such incident.")
    sharing.viewed(db, case.share, case.advocate, "incident.viewed", "incident", incident.id)
    return incidents.to_public(db, [incident])[0]


def _live_evidence(case: Case, evidence_id: uuid.UUID, db: SessionDep) -> Evidence:
    item = records.get_owned(db, evidence.KIND, case.victim.id, evidence_id)
    if item.withdrawn_at is not None:
        raise NotFound("No such evidence.")
    return item


@router.get(
    "/{case_id}/evidence/{evidence_id}", response_model=EvidencePublic, dependencies=RECORDS_A_VIEW
)
def read_case_evidence(case: SharedCase, evidence_id: uuid.UUID, db: SessionDep) -> EvidencePublic:
    """One file's record."""
    item = _live_evidence(case, evidence_id, db)
    sharing.viewed(db, case.share, case.advocate, "evidence.viewed", "evidence", item.id)
    return evidence.to_public(db, [item])[0]


@router.get(
    "/{case_id}/evidence/{evidence_id}/content",
    dependencies=RECORDS_A_VIEW,
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "A range."},
    },
)
def download_case_evidence(
    case: SharedCase, evidence_id: uuid.UUID, request: Request, db: SessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    """The original file, byte for byte."""
    item = _live_evidence(case, evidence_id, db)
    if parse_range_ok(request, item):
        sharing.viewed(db, case.share, case.advocate, "evidence.downloaded", "evidence", item.id)
    plaintext = evidence.reader(
        runtime.blob_store, item, data_keys.data_key_for(db, case.victim.id, runtime.keys)
    )
    return file_response(db, item, request, plaintext)


def parse_range_ok(request: Request, item: Evidence) -> bool:
    """Whether the Range (if any) can be served: an unservable one is not a download."""
    try:
        parse_range(request.headers.get("range"), item.size)
    except RangeNotSatisfiable:
        return False
    return True


@router.get("/{case_id}/notes", response_model=Page[AdvocateNotePublic])
def list_case_notes(case: SharedCase, db: SessionDep) -> Page[AdvocateNotePublic]:
    """Your notes on this case, oldest first."""
    return Page(items=advocate_notes.to_public(db, advocate_notes.for_case(db, case.share)))


@router.post(
    "/{case_id}/notes", status_code=status.HTTP_201_CREATED, response_model=AdvocateNotePublic
)
def write_case_note(
    case: SharedCase, body: AdvocateNoteCreate, db: SessionDep, response: Response
) -> AdvocateNotePublic:
    """Add a note; the victim sees it on their timeline."""
    note, created = advocate_notes.write(db, case.share, case.advocate, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return advocate_notes.to_public(db, [note])[0]


@router.get(
    "/{case_id}/exports/pack",
    dependencies=RECORDS_A_VIEW,
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The evidence pack."}},
)
def export_case_pack(
    case: SharedCase, filters: PackFiltersDep, db: SessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    """The case's evidence pack, when the person has allowed you to export it."""
    pack = export_pack(
        db,
        case.victim,
        case.advocate,
        filters,
        store=runtime.blob_store,
        keys=runtime.keys,
        share=case.share,
    )
    return pack_response(pack)
