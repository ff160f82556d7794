"""An organisation's admin view: its advocates and their caseload sizes, nothing of victims."""

from fastapi import APIRouter

from app.api.deps import CurrentAdmin, SessionDep
from app.api.pages import Page
from app.models.share import OrgAdvocate
from app.services import sharing

router = APIRouter(prefix="/org", tags=["organisation"])


@router.get("/advocates", response_model=Page[OrgAdvocate])
def list_org_advocates(admin: CurrentAdmin, db: SessionDep) -> Page[OrgAdvocate]:
    """The organisation's staff and how many live cases each has."""
    return Page(items=sharing.organisation_staff(db, admin))
