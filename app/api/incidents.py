"""Incidents: what the stalker did."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import CurrentVictim, SessionDep
from app.api.pages import CursorParam, IncludeWithdrawn, Limit, Order, Page
from app.models.incident import Incident, IncidentCreate, IncidentPublic, IncidentUpdate
from app.models.record import RevisionPublic, Withdrawal
from app.services import incidents, records, timeline

router = APIRouter(prefix="/incidents", tags=["incidents"])


def owned_incident(incident_id: uuid.UUID, victim: CurrentVictim, db: SessionDep) -> Incident:
    return records.get_owned(db, incidents.KIND, victim.id, incident_id)


OwnedIncident = Annotated[Incident, Depends(owned_incident)]


@router.get("", response_model=Page[IncidentPublic])
def list_incidents(
    victim: CurrentVictim,
    db: SessionDep,
    limit: Limit = 50,
    cursor: CursorParam = None,
    include_withdrawn: IncludeWithdrawn = False,
    order: Order = Order.asc,
) -> Page[IncidentPublic]:
    """Your incidents in the order they happened."""
    found = timeline.page(
        db,
        victim.id,
        timeline.Filters(
            kinds=frozenset({incidents.KIND.name}), include_withdrawn=include_withdrawn
        ),
        limit=limit,
        cursor=cursor,
        descending=order is Order.desc,
    )
    return Page(
        items=[IncidentPublic.model_validate(item.data) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentPublic,
    responses={200: {"description": "Already saved with this id (a retried create)."}},
)
def log_incident(
    body: IncidentCreate, victim: CurrentVictim, db: SessionDep, response: Response
) -> IncidentPublic:
    """Log an incident. Sending the same id and content again returns the saved one (200)."""
    incident, created = incidents.create(db, victim, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return incidents.to_public(db, [incident])[0]


@router.get("/{incident_id}", response_model=IncidentPublic)
def read_incident(incident: OwnedIncident, db: SessionDep) -> IncidentPublic:
    """One incident, withdrawn or not."""
    return incidents.to_public(db, [incident])[0]


@router.patch("/{incident_id}", response_model=IncidentPublic)
def amend_incident(
    incident: OwnedIncident, body: IncidentUpdate, victim: CurrentVictim, db: SessionDep
) -> IncidentPublic:
    """Change some details; the earlier version is kept as a revision."""
    records.amend(db, incidents.KIND, victim, incident, body)
    return incidents.to_public(db, [incident])[0]


@router.delete("/{incident_id}", response_model=IncidentPublic)
def withdraw_incident(
    incident: OwnedIncident, body: Withdrawal, victim: CurrentVictim, db: SessionDep
) -> IncidentPublic:
    """Withdraw an incident: it is kept, with the reason, but left off the timeline and packs."""
    records.withdraw(db, incidents.KIND, victim, incident, body.reason)
    return incidents.to_public(db, [incident])[0]


@router.get("/{incident_id}/revisions", response_model=list[RevisionPublic])
def incident_revisions(incident: OwnedIncident, db: SessionDep) -> list[RevisionPublic]:
    """Every version of this incident, oldest first, the current one last."""
    return records.revisions(db, incidents.KIND, incident)
