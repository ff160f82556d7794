"""Small typed helpers for sharing: organisations and their staff (made as the CLI makes them,
through the accounts service on the app's own engine), signing them in, invitations, redeeming
a code, and a case shared between a victim and an advocate. Plus look-ups of what the database
holds, to check that a refused request changed nothing."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select, update
from typer.testing import CliRunner

from app.cli import main as waymark
from app.models.advocate_note import AdvocateNote
from app.models.audit import AuditEvent
from app.models.organisation import Organisation
from app.models.share import Invitation, Share
from app.models.user import Role, User
from app.services import accounts
from tests.conftest import ClientFactory
from tests.factories.accounts import STRONG_PASSWORD, login, me, new_email, register

API = "/api/v1"
INVITATIONS = f"{API}/invitations"
SHARES = f"{API}/shares"
CASES = f"{API}/cases"
ORG_ADVOCATES = f"{API}/org/advocates"

ORGANISATION = "Crossroads"
ADVOCATE_NAME = "Sam"
VICTIM_NAME = "Robin Hartley"


@dataclass(frozen=True)
class Staff:
    """An advocate or admin, as made by `waymark advocate create` / `admin create`."""

    id: uuid.UUID
    email: str
    display_name: str
    organisation: str
    role: Role


class SharedCase(NamedTuple):
    victim: TestClient
    advocate: TestClient
    case_id: str


def organisation(app: FastAPI, name: str = ORGANISATION) -> uuid.UUID:
    """The organisation called `name`, made if it does not exist yet (as `waymark org create`)."""
    with Session(app.state.runtime.engine) as db:
        found = db.exec(select(Organisation).where(Organisation.name == name)).first()
        if found is None:
            found = Organisation(name=name)
            db.add(found)
            db.commit()
        return found.id


def create_staff(
    app: FastAPI,
    *,
    role: Role = Role.advocate,
    display_name: str = ADVOCATE_NAME,
    organisation_name: str = ORGANISATION,
) -> Staff:
    """An advocate or admin of the named organisation (made if need be)."""
    organisation_id = organisation(app, organisation_name)
    email = new_email()
    with Session(app.state.runtime.engine) as db:
        user = accounts.create(
            db,
            email=email,
            password=STRONG_PASSWORD,
            display_name=display_name,
            role=role,
            organisation_id=organisation_id,
        )
        db.commit()
        return Staff(user.id, email, display_name, organisation_name, role)


def sign_in(make_client: ClientFactory, staff: Staff) -> TestClient:
    """A browser of its own, signed in as this member of staff."""
    client = make_client()
    login(client, staff.email)
    return client


def signed_in_staff(
    app: FastAPI,
    make_client: ClientFactory,
    *,
    role: Role = Role.advocate,
    display_name: str = ADVOCATE_NAME,
    organisation_name: str = ORGANISATION,
) -> tuple[TestClient, Staff]:
    staff = create_staff(
        app, role=role, display_name=display_name, organisation_name=organisation_name
    )
    return sign_in(make_client, staff), staff


def signed_in_victim(make_client: ClientFactory, display_name: str = VICTIM_NAME) -> TestClient:
    client = make_client()
    register(client, display_name=display_name)
    return client


def invite(advocate: TestClient) -> dict[str, Any]:
    """POST /invitations and expect a code (201). Returns {code, expires_at}."""
    response = advocate.post(INVITATIONS)
    assert response.status_code == 201, response.text
    invitation: dict[str, Any] = response.json()
    return invitation


def redeem(victim: TestClient, code: str, *, can_export: bool = False) -> Any:
    """POST /shares with a code; the test inspects the response."""
    return victim.post(SHARES, json={"code": code, "can_export": can_export})


def share_with(victim: TestClient, advocate: TestClient, *, can_export: bool = False) -> str:
    """The advocate invites, the victim redeems; returns the share's id (the case id)."""
    response = redeem(victim, invite(advocate)["code"], can_export=can_export)
    assert response.status_code == 201, response.text
    share_id: str = response.json()["id"]
    return share_id


def revoke(victim: TestClient, share_id: str) -> Any:
    """DELETE /shares/{id}; the test inspects the response."""
    return victim.delete(f"{SHARES}/{share_id}")


def shares(victim: TestClient) -> list[dict[str, Any]]:
    response = victim.get(SHARES)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def cases(advocate: TestClient) -> list[dict[str, Any]]:
    response = advocate.get(CASES)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def case_url(case_id: str, rest: str = "") -> str:
    return f"{CASES}/{case_id}{rest}"


def write_note(advocate: TestClient, case_id: str, body: str, note_id: str | None = None) -> Any:
    """POST /cases/{id}/notes; the test inspects the response."""
    sent: dict[str, Any] = {"body": body}
    if note_id is not None:
        sent["id"] = note_id
    return advocate.post(case_url(case_id, "/notes"), json=sent)


def shared_case(
    app: FastAPI,
    make_client: ClientFactory,
    *,
    victim_name: str = VICTIM_NAME,
    advocate_name: str = ADVOCATE_NAME,
    organisation_name: str = ORGANISATION,
    can_export: bool = False,
) -> SharedCase:
    """A victim who has shared their log with an advocate: (victim, advocate, case id)."""
    victim = signed_in_victim(make_client, victim_name)
    advocate, _ = signed_in_staff(
        app, make_client, display_name=advocate_name, organisation_name=organisation_name
    )
    return SharedCase(victim, advocate, share_with(victim, advocate, can_export=can_export))


def user_id(client: TestClient) -> uuid.UUID:
    return uuid.UUID(me(client)["id"])


# What the database holds.


def audit_count(engine: Engine, victim_id: uuid.UUID) -> int:
    with Session(engine) as db:
        return db.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.victim_id == victim_id)
        ).one()


def note_count(engine: Engine, victim_id: uuid.UUID) -> int:
    with Session(engine) as db:
        return db.exec(
            select(func.count()).select_from(AdvocateNote).where(AdvocateNote.owner_id == victim_id)
        ).one()


def share_rows(engine: Engine, victim_id: uuid.UUID) -> list[Share]:
    """Every share row of the victim, revoked ones included."""
    with Session(engine) as db:
        return list(db.exec(select(Share).where(Share.victim_id == victim_id)).all())


def expire_invitations(engine: Engine, at: datetime) -> None:
    """Move every invitation's expiry to `at` (in the past, to see a code run out)."""
    with Session(engine) as db:
        db.exec(update(Invitation).values(expires_at=at))
        db.commit()


def deactivate_in_database(engine: Engine, user: uuid.UUID) -> None:
    """users.active = false, and nothing else (the CLI also ends the sessions)."""
    with Session(engine) as db:
        db.exec(update(User).where(col(User.id) == user).values(active=False))
        db.commit()


def deactivate_with_cli(data_dir: Path, database_url: str, email: str) -> None:
    """`waymark advocate deactivate EMAIL`, run against the test's database and data folder."""
    runner = CliRunner(
        env={
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_DATA_DIR": str(data_dir),
            "WAYMARK_DATABASE_URL": database_url,
        }
    )
    result = runner.invoke(waymark, ["advocate", "deactivate", email])
    assert result.exit_code == 0, result.output
