"""/api/v1/cases: an advocate's caseload.

First who may ask: every /cases route, for everyone who is not the advocate the victim shared
with (another advocate of the same organisation, one of another organisation, an advocate whose
share was revoked, a deactivated advocate, the victim themself, an admin, nobody). Each is
refused with a problem that holds nothing of the victim's log, and a refusal changes nothing:
no audit event, no note, no "last viewed". Then what the shared advocate does see: the victim's
log as the victim sees it, without withdrawn records, and no way to change it.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.models.user import Role
from tests.conftest import ClientFactory
from tests.factories.accounts import assert_problem, me
from tests.factories.evidence import png_screenshot, upload_evidence
from tests.factories.records import (
    INCIDENTS,
    TIMELINE,
    incident_body,
    log_incident,
    read,
    withdraw,
    write_impact_note,
)
from tests.factories.sharing import (
    CASES,
    VICTIM_NAME,
    audit_count,
    case_url,
    cases,
    deactivate_in_database,
    deactivate_with_cli,
    note_count,
    revoke,
    share_rows,
    share_with,
    shared_case,
    signed_in_staff,
    signed_in_victim,
    user_id,
    write_note,
)

# What the victim has written: none of it may appear in a refusal.
DESCRIPTION = "He left a dead bird on the doorstep of 14 Larch Close at dawn."
LOCATION = "14 Larch Close"
EVIDENCE_NAME = "doorbell-larch-close.png"
EVIDENCE_DESCRIPTION = "Doorbell camera still of him at the gate."
NOTE = "Safety plan reviewed with Robin; police liaison call booked."
SECRETS = (DESCRIPTION, LOCATION, "Larch", EVIDENCE_NAME, EVIDENCE_DESCRIPTION, NOTE, "Robin")


@dataclass
class World:
    """A victim's log, shared with one advocate (Sam of Crossroads), who may export it."""

    app: FastAPI
    make_client: ClientFactory
    settings: Settings
    database_url: str
    victim: TestClient
    victim_id: uuid.UUID
    advocate: TestClient
    case_id: str
    incident_id: str
    evidence_id: str
    png: bytes

    def url(self, template: str, case_id: str | None = None) -> str:
        return template.format(
            case=case_id or self.case_id, incident=self.incident_id, evidence=self.evidence_id
        )


@pytest.fixture
def world(app: FastAPI, make_client: ClientFactory, settings: Settings, database_url: str) -> World:
    victim, advocate, case_id = shared_case(
        app, make_client, victim_name=VICTIM_NAME, can_export=True
    )
    incident = log_incident(victim, description=DESCRIPTION, location=LOCATION)
    png = png_screenshot()
    evidence = upload_evidence(
        victim,
        png,
        filename=EVIDENCE_NAME,
        content_type="image/png",
        description=EVIDENCE_DESCRIPTION,
        incident_ids=[incident["id"]],
    )
    written = write_note(advocate, case_id, NOTE)
    assert written.status_code == 201, written.text
    return World(
        app=app,
        make_client=make_client,
        settings=settings,
        database_url=database_url,
        victim=victim,
        victim_id=user_id(victim),
        advocate=advocate,
        case_id=case_id,
        incident_id=incident["id"],
        evidence_id=evidence["id"],
        png=png,
    )


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    template: str
    allowed: int
    json: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    per_case: bool = True  # False for the caseload itself (GET /cases)

    def call(self, client: TestClient, world: World, case_id: str | None = None) -> Any:
        return client.request(
            self.method,
            world.url(self.template, case_id),
            json=self.json,
            headers=self.headers,
        )


ROUTES = [
    Route("list cases", "GET", CASES, 200, per_case=False),
    Route("read case", "GET", f"{CASES}/{{case}}", 200),
    Route("timeline", "GET", f"{CASES}/{{case}}/timeline", 200),
    Route("incident", "GET", f"{CASES}/{{case}}/incidents/{{incident}}", 200),
    Route("evidence", "GET", f"{CASES}/{{case}}/evidence/{{evidence}}", 200),
    Route("content", "GET", f"{CASES}/{{case}}/evidence/{{evidence}}/content", 200),
    Route(
        "content range",
        "GET",
        f"{CASES}/{{case}}/evidence/{{evidence}}/content",
        206,
        headers={"Range": "bytes=0-15"},
    ),
    Route("list notes", "GET", f"{CASES}/{{case}}/notes", 200),
    Route("export pack", "GET", f"{CASES}/{{case}}/exports/pack", 200),
    Route(
        "write note",
        "POST",
        f"{CASES}/{{case}}/notes",
        201,
        json={"body": "A note someone should not be able to write."},
    ),
]


# Everyone who is not the shared advocate: how each is made, and what every route says to them.


@dataclass(frozen=True)
class Outsider:
    client: TestClient
    case_id: str  # the case id they try


def _colleague(world: World) -> Outsider:
    """Another advocate of Crossroads, with the shared advocate's case id."""
    client, _ = signed_in_staff(world.app, world.make_client, display_name="Jo")
    return Outsider(client, world.case_id)


def _other_organisation(world: World) -> Outsider:
    """An advocate of another organisation with a caseload of their own."""
    client, _ = signed_in_staff(
        world.app, world.make_client, display_name="Kim", organisation_name="Harbour Trust"
    )
    share_with(signed_in_victim(world.make_client, "Dana Price"), client)
    return Outsider(client, world.case_id)


def _revoked(world: World) -> Outsider:
    """An advocate the victim shared with and then took access away from."""
    client, _ = signed_in_staff(world.app, world.make_client, display_name="Lee")
    case_id = share_with(world.victim, client)
    assert client.get(case_url(case_id)).status_code == 200
    assert revoke(world.victim, case_id).status_code == 204
    return Outsider(client, case_id)


def _deactivated_by_cli(world: World) -> Outsider:
    """An advocate with a live share, deactivated by `waymark advocate deactivate` while
    signed in."""
    client, staff = signed_in_staff(world.app, world.make_client, display_name="Max")
    case_id = share_with(world.victim, client)
    assert client.get(case_url(case_id)).status_code == 200
    deactivate_with_cli(world.settings.data_dir, world.database_url, staff.email)
    return Outsider(client, case_id)


def _deactivated_in_database(world: World) -> Outsider:
    """The same, with only users.active set to false (the sessions left as they were)."""
    client, staff = signed_in_staff(world.app, world.make_client, display_name="Max")
    case_id = share_with(world.victim, client)
    assert client.get(case_url(case_id)).status_code == 200
    deactivate_in_database(world.app.state.runtime.engine, staff.id)
    return Outsider(client, case_id)


def _the_victim(world: World) -> Outsider:
    return Outsider(world.victim, world.case_id)


def _admin(world: World) -> Outsider:
    """An admin of the advocate's own organisation."""
    client, _ = signed_in_staff(world.app, world.make_client, role=Role.admin, display_name="Pat")
    return Outsider(client, world.case_id)


def _anonymous(world: World) -> Outsider:
    return Outsider(world.make_client(), world.case_id)


@dataclass(frozen=True)
class Actor:
    name: str
    make: Callable[[World], Outsider]
    status: int
    # An advocate's own caseload is theirs to list: it answers 200, without this victim.
    lists_cases: bool = False


ACTORS = [
    Actor("advocate of the same organisation", _colleague, 404, lists_cases=True),
    Actor("advocate of another organisation", _other_organisation, 404, lists_cases=True),
    Actor("revoked advocate", _revoked, 404, lists_cases=True),
    Actor("deactivated advocate (CLI)", _deactivated_by_cli, 401),
    Actor("deactivated advocate (database)", _deactivated_in_database, 401),
    Actor("the victim", _the_victim, 403),
    Actor("admin", _admin, 403),
    Actor("anonymous", _anonymous, 401),
]


def _leaks(response: Any, world: World) -> list[str]:
    """Whatever of the victim's log a response gives away."""
    found = [repr(secret) for secret in SECRETS if secret in response.text]
    if str(world.victim_id) in response.text:
        found.append("the victim's id")
    if world.png[:16] in response.content:
        found.append("the evidence's bytes")
    return found


def _nothing_of_the_victim(response: Any, world: World) -> None:
    assert _leaks(response, world) == [], response.text


PROBLEM_FIELDS = {"type", "title", "status", "detail", "errors"}


def _refusal_mistakes(actor: Actor, route: Route, response: Any, world: World) -> list[str]:
    """How a response to someone other than the shared advocate differs from a clean refusal."""
    mistakes = [f"gave away {leak}" for leak in _leaks(response, world)]
    if not route.per_case and actor.lists_cases:
        if response.status_code != 200:
            return [*mistakes, f"{response.status_code}, not their own (empty) caseload"]
        if world.case_id in [case["id"] for case in response.json()["items"]]:
            mistakes.append("listed the victim's case")
        return mistakes
    if response.status_code != actor.status:
        mistakes.append(f"{response.status_code}, not {actor.status}: {response.text[:200]}")
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        mistakes.append(f"content-type {response.headers.get('content-type')!r}")
    else:
        problem = response.json()
        if problem.get("status") != actor.status or not set(problem) <= PROBLEM_FIELDS:
            mistakes.append(f"problem body {problem}")
    return mistakes


@dataclass(frozen=True)
class Snapshot:
    audit_events: int
    notes: int
    shares: list[tuple[str, Any, Any]]


def _snapshot(engine: Engine, world: World) -> Snapshot:
    return Snapshot(
        audit_count(engine, world.victim_id),
        note_count(engine, world.victim_id),
        sorted(
            (str(s.id), s.last_viewed_at, s.revoked_at) for s in share_rows(engine, world.victim_id)
        ),
    )


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.name)
def test_only_the_shared_advocate_gets_in(actor: Actor, world: World, db_engine: Engine) -> None:
    """Every route for this actor; every mistake is listed, by route, before the test fails."""
    outsider = actor.make(world)
    mistakes: list[str] = []

    for route in ROUTES:
        before = _snapshot(db_engine, world)
        response = route.call(outsider.client, world, outsider.case_id)
        found = _refusal_mistakes(actor, route, response, world)
        after = _snapshot(db_engine, world)
        if after != before:
            found.append(f"changed what is stored: {before} -> {after}")
        mistakes.extend(f"{route.name}: {mistake}" for mistake in found)

    assert not mistakes, "\n".join(mistakes)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_the_shared_advocate_gets_in(route: Route, world: World) -> None:
    response = route.call(world.advocate, world)
    assert response.status_code == route.allowed, response.text


# What the shared advocate sees.


def test_the_caseload_lists_the_victim_by_name_with_counts(world: World) -> None:
    write_impact_note(world.victim)

    (case,) = cases(world.advocate)

    assert case["id"] == world.case_id
    assert case["victim"] == {"display_name": VICTIM_NAME}
    assert case["can_export"] is True
    assert case["counts"] == {
        "incident": 1,
        "impact_note": 1,
        "police_report": 0,
        "evidence": 1,
        "advocate_note": 1,
    }
    assert case["since"] and case["last_activity"]
    # Nothing else of the victim: no email, no id.
    assert set(case) == {"id", "victim", "since", "can_export", "counts", "last_activity"}
    assert read(world.advocate, case_url(world.case_id)) == case


def test_the_case_timeline_is_the_victims_timeline(world: World) -> None:
    write_impact_note(world.victim)
    for params in ({}, {"kinds": "incident,evidence"}, {"order": "desc"}, {"q": "bird"}):
        seen = read(world.advocate, case_url(world.case_id, "/timeline"), **params)
        assert seen == read(world.victim, TIMELINE, **params), params
    items = read(world.advocate, case_url(world.case_id, "/timeline"))["items"]
    kinds = [item["kind"] for item in items]
    assert sorted(kinds) == ["advocate_note", "evidence", "impact_note", "incident"]


def test_a_note_on_the_timeline_is_the_note_as_its_case_gives_it(world: World) -> None:
    (note,) = read(world.advocate, case_url(world.case_id, "/notes"))["items"]
    for reader, url in (
        (world.victim, TIMELINE),
        (world.advocate, case_url(world.case_id, "/timeline")),
    ):
        (item,) = read(reader, url, kinds="advocate_note")["items"]
        assert item["id"] == note["id"]
        assert item["data"] == note
        assert item["summary"] == f"Note from {note['author']['display_name']}: {NOTE}"


BAD_TIMELINE_QUERIES = (
    "kinds=gossip",
    "behaviours=glaring",
    "cursor=nonsense",
    f"cursor={'x' * 513}",
    "from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z",
    "from=2026-03-01T00:00:00",  # no time zone
    "from=0001-01-01T00:30:00%2B01:00",  # before year 1 in UTC
    "crime_reference=AB%0712",  # a control character (BEL)
    f"crime_reference={'R' * 65}",
    f"q={'word ' * 41}",
    "limit=0",
    "limit=201",
    "order=sideways",
)


@pytest.mark.parametrize("query", BAD_TIMELINE_QUERIES)
def test_the_case_timeline_validates_its_query_as_the_victims_does(
    world: World, query: str
) -> None:
    victims = world.victim.get(f"/api/v1/timeline?{query}")
    advocates = world.advocate.get(case_url(world.case_id, f"/timeline?{query}"))

    assert advocates.status_code == victims.status_code == 422
    assert assert_problem(advocates, 422) == assert_problem(victims, 422)


def test_an_incident_reads_as_the_victim_reads_it(world: World) -> None:
    seen = read(world.advocate, case_url(world.case_id, f"/incidents/{world.incident_id}"))
    assert seen == read(world.victim, f"{INCIDENTS}/{world.incident_id}")
    assert seen["description"] == DESCRIPTION
    assert seen["evidence_ids"] == [world.evidence_id]


def test_evidence_and_its_original_bytes(world: World) -> None:
    record = read(world.advocate, case_url(world.case_id, f"/evidence/{world.evidence_id}"))
    assert record["original_filename"] == EVIDENCE_NAME
    assert record["media_type"] == "image/png"
    assert record["incident_ids"] == [world.incident_id]

    content = case_url(world.case_id, f"/evidence/{world.evidence_id}/content")
    whole = world.advocate.get(content)
    assert whole.status_code == 200
    assert whole.content == world.png
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["content-disposition"].startswith("attachment")
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["cache-control"] == "no-store"

    part = world.advocate.get(content, headers={"Range": "bytes=8-15"})
    assert part.status_code == 206
    assert part.content == world.png[8:16]
    assert part.headers["content-range"] == f"bytes 8-15/{len(world.png)}"


def test_a_case_cannot_reach_another_victims_records(
    world: World, make_client: ClientFactory
) -> None:
    """Ids of someone else's records, through a case the advocate does hold: 404, as unknown."""
    other = signed_in_victim(make_client, "Dana Price")
    incident = log_incident(other, description="Someone else's incident entirely.")
    evidence = upload_evidence(other, png_screenshot((8, 8)), filename="other.png")

    for rest in (
        f"/incidents/{incident['id']}",
        f"/evidence/{evidence['id']}",
        f"/evidence/{evidence['id']}/content",
        f"/incidents/{uuid.uuid4()}",
        f"/evidence/{uuid.uuid4()}",
    ):
        response = world.advocate.get(case_url(world.case_id, rest))
        assert_problem(response, 404)
        assert "Someone else" not in response.text
        assert "Dana" not in response.text


def test_an_unknown_case_is_404(world: World) -> None:
    assert_problem(world.advocate.get(case_url(str(uuid.uuid4()))), 404)
    assert_problem(world.advocate.get(case_url("not-a-uuid")), 422)


# Withdrawn records stay hidden from the advocate.


def test_a_withdrawn_incident_is_hidden(world: World, db_engine: Engine) -> None:
    other = log_incident(world.victim, description="Logged twice", location="Mill Road")
    assert withdraw(world.victim, f"{INCIDENTS}/{other['id']}").status_code == 200
    events = audit_count(db_engine, world.victim_id)

    assert_problem(world.advocate.get(case_url(world.case_id, f"/incidents/{other['id']}")), 404)
    assert audit_count(db_engine, world.victim_id) == events  # no view of what is not there

    timeline = read(world.advocate, case_url(world.case_id, "/timeline"))["items"]
    assert other["id"] not in [item["id"] for item in timeline]
    assert world.incident_id in [item["id"] for item in timeline]
    # Asking for withdrawn records does not bring them back for an advocate.
    again = read(world.advocate, case_url(world.case_id, "/timeline"), include_withdrawn="true")
    assert other["id"] not in [item["id"] for item in again["items"]]
    (case,) = cases(world.advocate)
    assert case["counts"]["incident"] == 1


def test_withdrawn_evidence_is_hidden(world: World) -> None:
    response = world.victim.request(
        "DELETE", f"/api/v1/evidence/{world.evidence_id}", json={"reason": "Wrong file"}
    )
    assert response.status_code == 200, response.text

    for rest in (f"/evidence/{world.evidence_id}", f"/evidence/{world.evidence_id}/content"):
        response = world.advocate.get(case_url(world.case_id, rest))
        assert_problem(response, 404)
        assert EVIDENCE_NAME not in response.text
    timeline = read(world.advocate, case_url(world.case_id, "/timeline"))["items"]
    assert world.evidence_id not in [item["id"] for item in timeline]


# Advocates read; they never change the victim's records.


def test_an_advocate_cannot_change_the_victims_records(world: World, db_engine: Engine) -> None:
    incident_url = f"{INCIDENTS}/{world.incident_id}"
    before = read(world.victim, incident_url)
    events = audit_count(db_engine, world.victim_id)

    attempts = [
        world.advocate.patch(incident_url, json={"description": "Nothing happened."}),
        world.advocate.request("DELETE", incident_url, json={"reason": "Not true"}),
        world.advocate.post(INCIDENTS, json=incident_body()),
        world.advocate.patch(f"/api/v1/evidence/{world.evidence_id}", json={"description": "Fake"}),
        world.advocate.request(
            "DELETE", f"/api/v1/evidence/{world.evidence_id}", json={"reason": "Fake"}
        ),
    ]
    for response in attempts:
        assert_problem(response, 403)
        _nothing_of_the_victim(response, world)

    assert read(world.victim, incident_url) == before
    assert audit_count(db_engine, world.victim_id) == events
    # And the case itself has no write routes besides notes.
    for method in ("PATCH", "PUT", "DELETE"):
        response = world.advocate.request(
            method, case_url(world.case_id, f"/incidents/{world.incident_id}"), json={}
        )
        assert response.status_code == 405, (method, response.text)


def test_the_deactivated_advocates_very_next_request_is_401(world: World) -> None:
    """Deactivation ends access in the same command: no grace period on a live session."""
    assert world.advocate.get(case_url(world.case_id)).status_code == 200

    deactivate_with_cli(world.settings.data_dir, world.database_url, me(world.advocate)["email"])

    assert_problem(world.advocate.get(case_url(world.case_id)), 401)
    assert_problem(world.advocate.get(CASES), 401)


def test_the_revoked_advocates_very_next_request_is_404(world: World) -> None:
    assert world.advocate.get(case_url(world.case_id, "/timeline")).status_code == 200

    assert revoke(world.victim, world.case_id).status_code == 204

    for route in ROUTES:
        response = route.call(world.advocate, world)
        if route.per_case:
            assert_problem(response, 404)
        else:
            assert response.json()["items"] == []
        _nothing_of_the_victim(response, world)


def test_notes_of_a_case_are_the_advocates_own(
    world: World, app: FastAPI, make_client: ClientFactory
) -> None:
    """A second advocate the victim shares with sees their own notes, not the first one's."""
    (first_case,) = cases(world.advocate)
    second, _ = signed_in_staff(app, make_client, display_name="Jo")
    second_case = share_with(world.victim, second)
    assert write_note(second, second_case, "Jo's own note.").status_code == 201

    (first_note,) = read(world.advocate, case_url(world.case_id, "/notes"))["items"]
    (second_note,) = read(second, case_url(second_case, "/notes"))["items"]
    assert first_note["body"] == NOTE
    assert second_note["body"] == "Jo's own note."

    second_timeline = read(second, case_url(second_case, "/timeline"))["items"]
    notes = [item for item in second_timeline if item["kind"] == "advocate_note"]
    assert [note["data"]["body"] for note in notes] == ["Jo's own note."]
    # The counts agree with what each advocate can see: neither learns of the other's notes.
    (case,) = cases(second)
    assert case["counts"]["advocate_note"] == 1
    assert cases(world.advocate) == [first_case]


def test_a_case_without_export_permission_gives_no_pack(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    log_incident(victim, description=DESCRIPTION)
    victim_id = user_id(victim)
    events = audit_count(db_engine, victim_id)

    response = advocate.get(case_url(case_id, "/exports/pack"))

    assert_problem(response, 403)
    assert DESCRIPTION not in response.text
    assert audit_count(db_engine, victim_id) == events
