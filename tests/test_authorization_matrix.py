"""The authorisation matrix, as data: every route of the API (read from the app's own OpenAPI
document) against every kind of caller. A route missing from the matrix fails the test, so a
new endpoint cannot ship without saying who may use it.

For each route the world is built afresh: victim A with records, evidence, an upload, a share
with advocate S; victim B; advocate O of another organisation and advocate C of S's own
organisation, neither shared with; advocate R whose share A revoked; advocate D, shared with
and then deactivated; an organisation admin. A's ids go into every id slot. Every refusal is
checked twice: the body carries none of A's data, and the database did not change.
"""

import hashlib
import io
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from app.models.organisation import Organisation
from app.models.user import Role
from app.services import accounts
from tests.conftest import ClientFactory

PASSWORD = "lantern orchard velvet compass"
SECRET = "Marker-7f3c: he waited by the blue gate"  # A's words; must never leak
ROLES = (
    "anonymous",
    "owner",
    "other_victim",
    "shared_advocate",
    "same_org_advocate",
    "other_org_advocate",
    "revoked_advocate",
    "deactivated_advocate",
    "admin",
)
# Tables whose rows a refused request must not change (sessions are touched when used).
WATCHED = (
    "users",
    "incidents",
    "impact_notes",
    "police_reports",
    "evidence",
    "record_revisions",
    "audit_events",
    "shares",
    "invitations",
    "advocate_notes",
    "uploads",
    "data_keys",
    "police_report_incidents",
    "evidence_incidents",
)


@dataclass
class World:
    clients: dict[str, TestClient]
    ids: dict[str, str] = field(default_factory=dict)


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def _staff(app: FastAPI, organisation: str, role: Role) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    with Session(app.state.runtime.engine) as db:
        found = db.exec(select(Organisation).where(Organisation.name == organisation)).first()
        if found is None:
            org = Organisation(name=organisation)
            db.add(org)
            db.flush()
            org_id = org.id
        else:
            org_id = found.id
        accounts.create(
            db,
            email=email,
            password=PASSWORD,
            display_name=f"Staff {role}",
            role=role,
            organisation_id=org_id,
        )
        db.commit()
    return email


def _signed_in(make_client: ClientFactory, email: str) -> TestClient:
    client = make_client()
    assert (
        client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code
        == 200
    )
    return client


def _share(victim: TestClient, advocate: TestClient, can_export: bool = True) -> str:
    code = advocate.post("/api/v1/invitations").json()["code"]
    response = victim.post("/api/v1/shares", json={"code": code, "can_export": can_export})
    assert response.status_code == 201, response.text
    share_id: str = response.json()["id"]
    return share_id


def build_world(app: FastAPI, make_client: ClientFactory) -> World:
    clients: dict[str, TestClient] = {"anonymous": make_client()}
    for role in ("owner", "other_victim"):
        client = make_client()
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        assert (
            client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": f"Victim {role}"},
            ).status_code
            == 201
        )
        clients[role] = client
    for role, organisation, kind in (
        ("shared_advocate", "Crossroads", Role.advocate),
        ("same_org_advocate", "Crossroads", Role.advocate),
        ("other_org_advocate", "Elsewhere", Role.advocate),
        ("revoked_advocate", "Crossroads", Role.advocate),
        ("deactivated_advocate", "Crossroads", Role.advocate),
        ("admin", "Crossroads", Role.admin),
    ):
        clients[role] = _signed_in(make_client, _staff(app, organisation, kind))
    owner = clients["owner"]
    world = World(clients)
    incident = owner.post(
        "/api/v1/incidents",
        json={
            "occurred_at": "2026-11-01T21:00:00+00:00",
            "behaviours": ["watching"],
            "description": SECRET,
        },
    )
    world.ids["incident_id"] = incident.json()["id"]
    world.ids["note_id"] = owner.post(
        "/api/v1/impact-notes",
        json={"noted_at": "2026-11-02T08:00:00+00:00", "areas": ["sleep"], "description": SECRET},
    ).json()["id"]
    world.ids["report_id"] = owner.post(
        "/api/v1/police-reports",
        json={
            "crime_reference": "CR/555/26",
            "reported_at": "2026-11-03T10:00:00+00:00",
            "method": "online",
            "notes": SECRET,
            "incident_ids": [world.ids["incident_id"]],
        },
    ).json()["id"]
    world.ids["evidence_id"] = owner.post(
        "/api/v1/evidence", files={"file": ("gate.png", _photo())}, data={"description": SECRET}
    ).json()["id"]
    created = owner.post(
        "/api/v1/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "100"}
    )
    world.ids["upload_id"] = created.headers["Location"].rsplit("/", 1)[1]
    world.ids["session_id"] = next(
        s["id"] for s in owner.get("/api/v1/auth/sessions").json()["items"] if s["current"]
    )
    world.ids["case_id"] = world.ids["share_id"] = _share(owner, clients["shared_advocate"])
    revoked = _share(owner, clients["revoked_advocate"])
    assert owner.delete(f"/api/v1/shares/{revoked}").status_code == 204
    world.ids["revoked_case_id"] = revoked
    world.ids["deactivated_case_id"] = _share(owner, clients["deactivated_advocate"])
    with Session(app.state.runtime.engine) as db:
        db.execute(
            text(
                "UPDATE users SET active = false WHERE id IN "
                "(SELECT advocate_id FROM shares WHERE id = :s)"
            ),
            {
                "s": uuid.UUID(world.ids["deactivated_case_id"]).hex
                if app.state.runtime.engine.dialect.name == "sqlite"
                else world.ids["deactivated_case_id"]
            },
        )
        db.commit()
    return world


# Who may call what: a status code, or "ok" for any 2xx. Routes are grouped by the dependency
# that guards them.
Expected = dict[str, int | str]
PUBLIC: Expected = {role: "ok" for role in ROLES}
SIGNED_IN: Expected = {"anonymous": 401, "deactivated_advocate": 401} | {
    r: "ok" for r in ROLES if r not in ("anonymous", "deactivated_advocate")
}
VICTIM_COLLECTION: Expected = {
    "anonymous": 401,
    "deactivated_advocate": 401,
    "owner": "ok",
    "other_victim": "ok",
    **{
        r: 403
        for r in (
            "shared_advocate",
            "same_org_advocate",
            "other_org_advocate",
            "revoked_advocate",
            "admin",
        )
    },
}
VICTIM_OBJECT: Expected = VICTIM_COLLECTION | {"other_victim": 404}
ADVOCATE_ONLY: Expected = {
    "anonymous": 401,
    "deactivated_advocate": 401,
    "owner": 403,
    "other_victim": 403,
    "admin": 403,
} | {
    r: "ok"
    for r in ("shared_advocate", "same_org_advocate", "other_org_advocate", "revoked_advocate")
}
CASE_OBJECT: Expected = ADVOCATE_ONLY | {
    "same_org_advocate": 404,
    "other_org_advocate": 404,
    "revoked_advocate": 404,
}
ADMIN_ONLY: Expected = {
    "anonymous": 401,
    "deactivated_advocate": 401,
    "admin": "ok",
    **{
        r: 403
        for r in (
            "owner",
            "other_victim",
            "shared_advocate",
            "same_org_advocate",
            "other_org_advocate",
            "revoked_advocate",
        )
    },
}
OWN_SESSION: Expected = SIGNED_IN | {
    r: 404 for r in ROLES if r not in ("anonymous", "deactivated_advocate", "owner")
}

Body = Callable[[World], dict[str, Any]]
INCIDENT = {"occurred_at": "2026-11-04T09:00:00+00:00", "behaviours": ["following"]}


@dataclass(frozen=True)
class Call:
    expect: Mapping[str, int | str]
    json: Body | None = None
    headers: dict[str, str] = field(default_factory=dict)
    files: bool = False


def _tus(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": "1.0.0", **(extra or {})}


MATRIX: dict[tuple[str, str], Call] = {
    ("get", "/api/v1/health"): Call(PUBLIC),
    ("get", "/api/v1/signing-key"): Call(PUBLIC),
    ("options", "/api/v1/uploads"): Call(PUBLIC),
    ("post", "/api/v1/auth/register"): Call(
        PUBLIC,
        json=lambda w: {
            "email": f"n{uuid.uuid4().hex[:6]}@example.org",
            "password": PASSWORD,
            "display_name": "New",
        },
    ),
    ("post", "/api/v1/auth/login"): Call(
        {r: 401 for r in ROLES},
        json=lambda w: {
            "email": f"nobody-{uuid.uuid4().hex[:6]}@example.org",
            "password": PASSWORD,
        },
    ),
    ("post", "/api/v1/auth/logout"): Call(SIGNED_IN),
    ("get", "/api/v1/auth/me"): Call(SIGNED_IN),
    ("get", "/api/v1/auth/sessions"): Call(SIGNED_IN),
    ("delete", "/api/v1/auth/sessions/{session_id}"): Call(OWN_SESSION),
    ("post", "/api/v1/auth/sessions/revoke-others"): Call(SIGNED_IN),
    ("post", "/api/v1/auth/password"): Call(
        {**SIGNED_IN, **{r: 403 for r in ROLES if r not in ("anonymous", "deactivated_advocate")}},
        json=lambda w: {
            "current_password": "not the password at all",
            "new_password": "granite meadow saffron kettle",
        },
    ),
    ("delete", "/api/v1/account"): Call(
        {**SIGNED_IN, **{r: 403 for r in ROLES if r not in ("anonymous", "deactivated_advocate")}},
        json=lambda w: {"password": "not the password at all"},
    ),
    ("get", "/api/v1/incidents"): Call(VICTIM_COLLECTION),
    ("post", "/api/v1/incidents"): Call(VICTIM_COLLECTION, json=lambda w: INCIDENT),
    ("get", "/api/v1/incidents/{incident_id}"): Call(VICTIM_OBJECT),
    ("patch", "/api/v1/incidents/{incident_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"location": "Changed"}
    ),
    ("delete", "/api/v1/incidents/{incident_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"reason": "test"}
    ),
    ("get", "/api/v1/incidents/{incident_id}/revisions"): Call(VICTIM_OBJECT),
    ("get", "/api/v1/impact-notes"): Call(VICTIM_COLLECTION),
    ("post", "/api/v1/impact-notes"): Call(
        VICTIM_COLLECTION,
        json=lambda w: {
            "noted_at": "2026-11-04T09:00:00+00:00",
            "areas": ["health"],
            "description": "x",
        },
    ),
    ("get", "/api/v1/impact-notes/{note_id}"): Call(VICTIM_OBJECT),
    ("patch", "/api/v1/impact-notes/{note_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"description": "changed"}
    ),
    ("delete", "/api/v1/impact-notes/{note_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"reason": "test"}
    ),
    ("get", "/api/v1/impact-notes/{note_id}/revisions"): Call(VICTIM_OBJECT),
    ("get", "/api/v1/police-reports"): Call(VICTIM_COLLECTION),
    ("post", "/api/v1/police-reports"): Call(
        VICTIM_COLLECTION,
        json=lambda w: {"reported_at": "2026-11-04T09:00:00+00:00", "method": "online"},
    ),
    ("get", "/api/v1/police-reports/{report_id}"): Call(VICTIM_OBJECT),
    ("patch", "/api/v1/police-reports/{report_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"officer": "PC 1"}
    ),
    ("delete", "/api/v1/police-reports/{report_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"reason": "test"}
    ),
    ("get", "/api/v1/police-reports/{report_id}/revisions"): Call(VICTIM_OBJECT),
    ("get", "/api/v1/evidence"): Call(VICTIM_COLLECTION),
    ("post", "/api/v1/evidence"): Call(VICTIM_COLLECTION, files=True),
    ("get", "/api/v1/evidence/{evidence_id}"): Call(VICTIM_OBJECT),
    ("patch", "/api/v1/evidence/{evidence_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"description": "changed"}
    ),
    ("delete", "/api/v1/evidence/{evidence_id}"): Call(
        VICTIM_OBJECT, json=lambda w: {"reason": "test"}
    ),
    ("get", "/api/v1/evidence/{evidence_id}/revisions"): Call(VICTIM_OBJECT),
    ("get", "/api/v1/evidence/{evidence_id}/content"): Call(VICTIM_OBJECT),
    ("get", "/api/v1/evidence/{evidence_id}/thumbnail"): Call(VICTIM_OBJECT),
    ("post", "/api/v1/uploads"): Call(VICTIM_COLLECTION, headers=_tus({"Upload-Length": "10"})),
    ("head", "/api/v1/uploads/{upload_id}"): Call(VICTIM_OBJECT, headers=_tus()),
    ("patch", "/api/v1/uploads/{upload_id}"): Call(
        VICTIM_OBJECT,
        headers=_tus({"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}),
    ),
    ("delete", "/api/v1/uploads/{upload_id}"): Call(VICTIM_OBJECT, headers=_tus()),
    ("get", "/api/v1/timeline"): Call(VICTIM_COLLECTION),
    ("get", "/api/v1/audit"): Call(VICTIM_COLLECTION),
    ("get", "/api/v1/audit/verify"): Call(VICTIM_COLLECTION),
    ("get", "/api/v1/exports/pack"): Call(VICTIM_COLLECTION),
    ("post", "/api/v1/invitations"): Call(ADVOCATE_ONLY),
    ("get", "/api/v1/shares"): Call(VICTIM_COLLECTION),
    ("post", "/api/v1/shares"): Call(
        VICTIM_COLLECTION | {"owner": 422, "other_victim": 422},
        json=lambda w: {"code": "AAAA-BBBB-CCCC"},
    ),
    ("delete", "/api/v1/shares/{share_id}"): Call(VICTIM_OBJECT),
    ("get", "/api/v1/cases"): Call(ADVOCATE_ONLY),
    ("get", "/api/v1/cases/{case_id}"): Call(CASE_OBJECT),
    ("get", "/api/v1/cases/{case_id}/timeline"): Call(CASE_OBJECT),
    ("get", "/api/v1/cases/{case_id}/incidents/{incident_id}"): Call(CASE_OBJECT),
    ("get", "/api/v1/cases/{case_id}/evidence/{evidence_id}"): Call(CASE_OBJECT),
    ("get", "/api/v1/cases/{case_id}/evidence/{evidence_id}/content"): Call(CASE_OBJECT),
    ("get", "/api/v1/cases/{case_id}/notes"): Call(CASE_OBJECT),
    ("post", "/api/v1/cases/{case_id}/notes"): Call(CASE_OBJECT, json=lambda w: {"body": "A note"}),
    ("get", "/api/v1/cases/{case_id}/exports/pack"): Call(CASE_OBJECT),
    ("get", "/api/v1/org/advocates"): Call(ADMIN_ONLY),
}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = _routes(app)
    assert routes - set(MATRIX) == set(), "routes with no row in the authorisation matrix"
    assert set(MATRIX) - routes == set(), "matrix rows for routes that no longer exist"


def _fingerprint(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in WATCHED:
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
            digest.update(json.dumps(sorted(map(repr, rows))).encode())
    return digest.hexdigest()


def _request(world: World, role: str, method: str, path: str, call: Call) -> Any:
    ids = dict(world.ids)
    # Each advocate is tried on A's case id as they know it; the revoked and deactivated ones
    # on their own former case, which must be as dead as anyone else's.
    if role == "revoked_advocate":
        ids["case_id"] = ids["revoked_case_id"]
    if role == "deactivated_advocate":
        ids["case_id"] = ids["deactivated_case_id"]
    url = path.format(**ids)
    client = world.clients[role]
    kwargs: dict[str, Any] = {"headers": call.headers}
    if call.json is not None:
        kwargs["json"] = call.json(world)
    if call.files:
        kwargs["files"] = {"file": ("x.png", _photo())}
    return client.request(method.upper(), url, **kwargs)


@pytest.mark.parametrize(
    ("method", "path"), sorted(MATRIX), ids=[f"{m.upper()} {p}" for m, p in sorted(MATRIX)]
)
def test_route_against_every_caller(
    app: FastAPI, make_client: ClientFactory, method: str, path: str
) -> None:
    world = build_world(app, make_client)
    call = MATRIX[(method, path)]
    engine = app.state.runtime.engine
    # The owner goes last: some allowed calls (logout, withdraw) change the world.
    for role in sorted(ROLES, key=lambda r: r == "owner"):
        expected = call.expect[role]
        before = _fingerprint(engine) if expected != "ok" else None
        response = _request(world, role, method, path, call)
        if expected == "ok":
            assert 200 <= response.status_code < 300, (
                f"{role}: {response.status_code} {response.text[:300]}"
            )
            if role not in ("owner", "shared_advocate") and method == "get":
                assert SECRET not in response.text, f"{role} saw A's words"
            continue
        assert response.status_code == expected, (
            f"{role}: {response.status_code} {response.text[:300]}"
        )
        if method != "head":
            assert response.headers["content-type"].startswith("application/problem+json"), role
        assert SECRET not in response.text, f"{role} saw A's words"
        for value in world.ids.values():
            assert value not in response.text or role in ("owner",), f"{role} saw one of A's ids"
        assert _fingerprint(engine) == before, (
            f"{role}'s refused {method.upper()} changed the database"
        )
