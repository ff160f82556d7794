"""Police reports: each contact with the police and its crime reference."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import CurrentVictim, SessionDep
from app.api.pages import CursorParam, IncludeWithdrawn, Limit, Order, Page
from app.models.police_report import (
    PoliceReport,
    PoliceReportCreate,
    PoliceReportPublic,
    PoliceReportUpdate,
)
from app.models.record import RevisionPublic, Withdrawal
from app.services import police_reports, records, timeline

router = APIRouter(prefix="/police-reports", tags=["police reports"])


def owned_police_report(
    report_id: uuid.UUID, victim: CurrentVictim, db: SessionDep
) -> PoliceReport:
    return records.get_owned(db, police_reports.KIND, victim.id, report_id)


OwnedPoliceReport = Annotated[PoliceReport, Depends(owned_police_report)]


@router.get("", response_model=Page[PoliceReportPublic])
def list_police_reports(
    victim: CurrentVictim,
    db: SessionDep,
    limit: Limit = 50,
    cursor: CursorParam = None,
    include_withdrawn: IncludeWithdrawn = False,
    order: Order = Order.asc,
) -> Page[PoliceReportPublic]:
    """Your police reports in time order."""
    found = timeline.page(
        db,
        victim.id,
        timeline.Filters(
            kinds=frozenset({police_reports.KIND.name}), include_withdrawn=include_withdrawn
        ),
        limit=limit,
        cursor=cursor,
        descending=order is Order.desc,
    )
    return Page(
        items=[PoliceReportPublic.model_validate(item.data) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PoliceReportPublic,
    responses={200: {"description": "Already saved with this id (a retried create)."}},
)
def record_police_report(
    body: PoliceReportCreate, victim: CurrentVictim, db: SessionDep, response: Response
) -> PoliceReportPublic:
    """Record a police report. Sending the same id and content again returns the saved one (200)."""
    report, created = police_reports.create(db, victim, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return police_reports.to_public(db, [report])[0]


@router.get("/{report_id}", response_model=PoliceReportPublic)
def read_police_report(report: OwnedPoliceReport, db: SessionDep) -> PoliceReportPublic:
    """One police report, withdrawn or not."""
    return police_reports.to_public(db, [report])[0]


@router.patch("/{report_id}", response_model=PoliceReportPublic)
def amend_police_report(
    report: OwnedPoliceReport, body: PoliceReportUpdate, victim: CurrentVictim, db: SessionDep
) -> PoliceReportPublic:
    """Change some details; the earlier version is kept as a revision."""
    records.amend(db, police_reports.KIND, victim, report, body)
    return police_reports.to_public(db, [report])[0]


@router.delete("/{report_id}", response_model=PoliceReportPublic)
def withdraw_police_report(
    report: OwnedPoliceReport, body: Withdrawal, victim: CurrentVictim, db: SessionDep
) -> PoliceReportPublic:
    """Withdraw a police report: kept, with the reason, but left off the timeline and packs."""
    records.withdraw(db, police_reports.KIND, victim, report, body.reason)
    return police_reports.to_public(db, [report])[0]


@router.get("/{report_id}/revisions", response_model=list[RevisionPublic])
def police_report_revisions(report: OwnedPoliceReport, db: SessionDep) -> list[RevisionPublic]:
    """Every version of this report, oldest first, the current one last."""
    return records.revisions(db, police_reports.KIND, report)
