"""/api/v1/audit: the victim's hash-chained trail, and account erasure taking it all away."""

import itertools
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, delete, update

from app.models import AuditEvent
from app.models.audit import GENESIS_HASH
from tests.conftest import ClientFactory
from tests.factories.accounts import (
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    assert_problem,
    login,
    new_email,
    register,
)
from tests.factories.advocates import sign_in_advocate
from tests.factories.records import (
    AUDIT,
    IMPACT_NOTES,
    INCIDENTS,
    POLICE_REPORTS,
    log_incident,
    read,
    record_police_report,
    stored_counts,
    timeline,
    walk,
    withdraw,
    write_impact_note,
)

VERIFY = f"{AUDIT}/verify"


def _events(client: TestClient) -> list[dict[str, Any]]:
    return walk(client, AUDIT, order="asc", limit=200)


def _alter(app: FastAPI, victim_id: str, seq: int, **values: Any) -> None:
    """Change a stored event behind the API's back, as someone with the database would."""
    engine: Engine = app.state.runtime.engine
    with engine.begin() as connection:
        changed = connection.execute(
            update(AuditEvent)
            .where(col(AuditEvent.victim_id) == uuid.UUID(victim_id), col(AuditEvent.seq) == seq)
            .values(**values)
        )
        assert changed.rowcount == 1


def _a_log_with_a_few_events(client: TestClient) -> dict[str, Any]:
    user = register(client)
    incident = log_incident(client)
    client.patch(f"{INCIDENTS}/{incident['id']}", json={"witnesses": "The postman"})
    write_impact_note(client)
    return user


# Who may ask


@pytest.mark.parametrize("url", [AUDIT, VERIFY])
def test_anonymous_gets_401(client: TestClient, url: str) -> None:
    assert_problem(client.get(url), 401)


@pytest.mark.parametrize("url", [AUDIT, VERIFY])
def test_an_advocate_gets_403(app: FastAPI, client: TestClient, url: str) -> None:
    sign_in_advocate(app, client)
    assert_problem(client.get(url), 403)


def test_each_victim_sees_only_their_own_trail(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    log_incident(alice)
    mallory_user = register(mallory)

    events = _events(mallory)

    assert [e["action"] for e in events] == ["account.created"]
    assert events[0]["actor"]["id"] == mallory_user["id"]
    assert read(mallory, VERIFY)["count"] == 1


# What is recorded


def test_every_action_is_recorded_in_order(make_client: ClientFactory) -> None:
    phone, laptop = make_client(), make_client()
    email = new_email()
    user = register(phone, email=email, display_name="Robin")
    incident = log_incident(phone)
    url = f"{INCIDENTS}/{incident['id']}"
    phone.patch(url, json={"description": "He was at the bike racks again."})
    withdraw(phone, url)
    note = write_impact_note(phone)
    report = record_police_report(phone)
    login(laptop, email)
    response = laptop.post(
        "/api/v1/auth/password",
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert response.status_code == 200, response.text

    events = _events(laptop)

    assert [(e["seq"], e["action"], e["target_kind"], e["target_id"]) for e in events] == [
        (1, "account.created", "account", user["id"]),
        (2, "incident.created", "incident", incident["id"]),
        (3, "incident.amended", "incident", incident["id"]),
        (4, "incident.withdrawn", "incident", incident["id"]),
        (5, "impact_note.created", "impact_note", note["id"]),
        (6, "police_report.created", "police_report", report["id"]),
        (7, "session.created", "account", user["id"]),
        (8, "account.password_changed", "account", user["id"]),
    ]
    assert [e["description"] for e in events] == [
        "You created this account.",
        "You logged an incident.",
        "You amended an incident.",
        "You withdrew an incident.",
        "You wrote an impact note.",
        "You recorded a police report.",
        "You signed in.",
        "You changed the password.",
    ]
    assert all(
        e["actor"] == {"id": user["id"], "role": "victim", "display_name": "Robin"} for e in events
    )


def test_events_are_chained_by_their_hashes(client: TestClient) -> None:
    _a_log_with_a_few_events(client)
    events = _events(client)
    assert events[0]["prev_hash"] == GENESIS_HASH
    for earlier, later in itertools.pairwise(events):
        assert later["prev_hash"] == earlier["hash"]
    assert len({e["hash"] for e in events}) == len(events)


def test_a_retried_create_or_an_empty_amendment_records_nothing(client: TestClient) -> None:
    register(client)
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "occurred_at": "2026-10-01T21:30:00+00:00",
        "behaviours": ["watching"],
    }
    client.post(INCIDENTS, json=body)
    client.post(INCIDENTS, json=body)
    client.patch(f"{INCIDENTS}/{body['id']}", json={"behaviours": ["watching"]})
    assert [e["action"] for e in _events(client)] == ["account.created", "incident.created"]


def test_refused_actions_record_nothing(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    incident = log_incident(alice)
    url = f"{INCIDENTS}/{incident['id']}"
    mallory.patch(url, json={"description": "Mine now"})
    withdraw(mallory, url)
    mallory.post(INCIDENTS, json={"occurred_at": "2026-10-01T21:30:00", "behaviours": []})
    mallory.post(POLICE_REPORTS, json={"method": "online", "reported_at": "2026-10-01T21:30:00"})
    withdraw(alice, url, None)

    assert [e["action"] for e in _events(alice)] == ["account.created", "incident.created"]
    assert [e["action"] for e in _events(mallory)] == ["account.created"]


def test_events_hold_no_free_text(client: TestClient) -> None:
    register(client, display_name="Robin")
    words = {
        "description": "Zebrafinch left a note under my windscreen wiper",
        "location": "Quayside multistorey level 4",
        "witnesses": "Mr Thistlewood from the kiosk",
        "feelings": "Petrified and nauseous",
    }
    incident = log_incident(client, **words)
    client.patch(f"{INCIDENTS}/{incident['id']}", json={"description": "Amended: marmalade"})
    withdraw(client, f"{INCIDENTS}/{incident['id']}", "Withdrawn because of gooseberry")
    client.post(IMPACT_NOTES, json=_note("Impact: lighthouse"))
    record_police_report(client, crime_reference="XQ/424242/26", notes="Notes: harpsichord")

    response = client.get(AUDIT, params={"limit": 200})

    assert response.status_code == 200
    for text in [
        *words.values(),
        "marmalade",
        "gooseberry",
        "lighthouse",
        "XQ/424242/26",
        "harpsichord",
    ]:
        assert text not in response.text


def _note(description: str) -> dict[str, Any]:
    return {"noted_at": "2026-10-01T21:30:00Z", "areas": ["sleep"], "description": description}


# Pages


def test_the_trail_is_newest_first_and_paginated(client: TestClient) -> None:
    register(client)
    for hour in range(6):
        log_incident(client, occurred_at=f"2026-10-01T1{hour}:00:00+00:00")

    newest_first = walk(client, AUDIT, limit=2)
    oldest_first = walk(client, AUDIT, limit=3, order="asc")

    assert [e["seq"] for e in newest_first] == [7, 6, 5, 4, 3, 2, 1]
    assert [e["seq"] for e in oldest_first] == [1, 2, 3, 4, 5, 6, 7]
    first_page = read(client, AUDIT, limit=2)
    assert [e["seq"] for e in first_page["items"]] == [7, 6]
    assert first_page["next_cursor"] == "6"
    last_page = read(client, AUDIT, limit=7)
    assert last_page["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "²", "٣", "9" * 20, "0x10"])
def test_a_bad_cursor_is_422(client: TestClient, cursor: str) -> None:
    register(client)
    problem = assert_problem(client.get(AUDIT, params={"cursor": cursor}), 422)
    assert problem["errors"]


# Verification


def test_an_untouched_trail_verifies(client: TestClient) -> None:
    _a_log_with_a_few_events(client)
    events = _events(client)

    assert read(client, VERIFY) == {
        "valid": True,
        "count": len(events),
        "head": events[-1]["hash"],
        "broken_at": None,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"action": "incident.viewed"},
        {"target_id": uuid.uuid4()},
        {"target_kind": "impact_note"},
        {"actor_role": "advocate"},
        {"actor_id": uuid.uuid4()},
    ],
    ids=["action", "target_id", "target_kind", "actor_role", "actor_id"],
)
def test_an_altered_event_breaks_the_chain(
    app: FastAPI, client: TestClient, change: dict[str, Any]
) -> None:
    user = _a_log_with_a_few_events(client)

    _alter(app, user["id"], 2, **change)

    result = read(client, VERIFY)
    assert result["valid"] is False
    assert result["broken_at"] == 2


def test_an_event_rehashed_after_alteration_still_breaks_the_chain(
    app: FastAPI, client: TestClient
) -> None:
    user = _a_log_with_a_few_events(client)
    events = _events(client)
    # Someone who changes an event and gives it a made-up hash breaks the link to the next one.
    _alter(app, user["id"], 2, action="incident.viewed", hash=events[1]["hash"][::-1])

    result = read(client, VERIFY)
    assert result["valid"] is False
    assert result["broken_at"] == 2


def test_deleting_the_newest_event_is_detected(app: FastAPI, client: TestClient) -> None:
    user = _a_log_with_a_few_events(client)
    newest = len(_events(client))
    engine: Engine = app.state.runtime.engine
    with engine.begin() as connection:
        connection.execute(
            delete(AuditEvent).where(
                col(AuditEvent.victim_id) == uuid.UUID(user["id"]), col(AuditEvent.seq) == newest
            )
        )

    result = read(client, VERIFY)

    assert result["valid"] is False
    assert result["count"] == newest - 1


def test_one_victims_broken_trail_does_not_affect_another(
    app: FastAPI, make_client: ClientFactory
) -> None:
    alice, bob = make_client(), make_client()
    alice_user = _a_log_with_a_few_events(alice)
    _a_log_with_a_few_events(bob)

    _alter(app, alice_user["id"], 1, action="account.deleted")

    assert read(alice, VERIFY)["valid"] is False
    assert read(bob, VERIFY)["valid"] is True


# Erasure


def _keep_a_full_log(client: TestClient) -> None:
    first = log_incident(client, description="Keys scratched along the car door")
    second = log_incident(client, occurred_at="2026-10-02T08:00:00+01:00")
    client.patch(f"{INCIDENTS}/{first['id']}", json={"witnesses": "Next door"})
    withdraw(client, f"{INCIDENTS}/{second['id']}")
    write_impact_note(client)
    record_police_report(client, incident_ids=[first["id"], second["id"]])


def test_erasing_the_account_removes_every_record_and_the_trail(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    alice, bob = make_client(), make_client()
    alice_user = register(alice)
    bob_user = register(bob)
    _keep_a_full_log(alice)
    _keep_a_full_log(bob)
    before = stored_counts(db_engine, alice_user["id"])
    bobs_before = stored_counts(db_engine, bob_user["id"])
    assert all(count > 0 for count in before.values()), before

    response = alice.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})

    assert response.status_code == 204, response.text
    assert stored_counts(db_engine, alice_user["id"]) == dict.fromkeys(before, 0)
    assert stored_counts(db_engine, bob_user["id"]) == bobs_before
    assert [i["kind"] for i in timeline(bob, q="scratched")] == ["incident"]
    assert read(bob, VERIFY)["valid"] is True
    assert read(bob, VERIFY)["count"] == bobs_before["audit_events"]
    assert_problem(alice.get(AUDIT), 401)


def test_erasing_with_the_wrong_password_keeps_everything(
    client: TestClient, db_engine: Engine
) -> None:
    user = register(client)
    _keep_a_full_log(client)
    before = stored_counts(db_engine, user["id"])

    response = client.request("DELETE", "/api/v1/account", json={"password": "not my password"})

    assert_problem(response, 403)
    assert stored_counts(db_engine, user["id"]) == before
    assert read(client, VERIFY)["valid"] is True
