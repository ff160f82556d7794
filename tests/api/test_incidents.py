"""/api/v1/incidents: what the stalker did, with revisions, withdrawal and offline-safe creates."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ClientFactory
from tests.factories.accounts import assert_problem, register
from tests.factories.advocates import sign_in_advocate
from tests.factories.records import (
    AUDIT,
    INCIDENTS,
    at,
    incident_body,
    instant,
    log_incident,
    read,
    revisions,
    timeline,
    withdraw,
)

MISSING = object()  # a key left out of the body


def _url(incident: dict[str, Any]) -> str:
    return f"{INCIDENTS}/{incident['id']}"


def _all_incidents(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = read(client, INCIDENTS, include_withdrawn="true")["items"]
    return items


def _actions(client: TestClient) -> list[str]:
    return [e["action"] for e in read(client, AUDIT, order="asc")["items"]]


def _created_from(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def _validation_problem(response: Any, field: str | None = None) -> list[dict[str, Any]]:
    problem = assert_problem(response, 422)
    errors: list[dict[str, Any]] = problem["errors"]
    assert errors
    if field is not None:
        assert any(field in error["loc"] for error in errors), errors
    return errors


# Who may ask


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
        ("GET", "/{id}/revisions"),
    ],
)
def test_anonymous_requests_get_401(client: TestClient, method: str, path: str) -> None:
    url = INCIDENTS + path.format(id=uuid.uuid4())
    body = {"POST": incident_body(), "PATCH": {"location": "x"}, "DELETE": {"reason": "x"}}
    assert_problem(client.request(method, url, json=body.get(method)), 401)


def test_another_victim_gets_404_and_the_incident_is_unchanged(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    incident = log_incident(alice, witnesses="My neighbour Jo")
    url = _url(incident)

    responses = [
        mallory.get(url),
        mallory.patch(url, json={"description": "Nothing happened."}),
        withdraw(mallory, url, "Not true"),
        mallory.get(f"{url}/revisions"),
    ]

    for response in responses:
        problem = assert_problem(response, 404)
        assert incident["description"] not in response.text
        assert "Jo" not in str(problem)
    assert read(alice, url) == incident
    assert len(revisions(alice, url)) == 1
    assert _all_incidents(mallory) == []
    assert timeline(mallory, include_withdrawn="true") == []


def test_an_unknown_id_looks_like_someone_elses(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    theirs = mallory.get(_url(log_incident(alice)))
    nobodys = mallory.get(f"{INCIDENTS}/{uuid.uuid4()}")
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json() == nobodys.json()


def test_an_advocate_gets_403_on_victim_routes(app: FastAPI, make_client: ClientFactory) -> None:
    victim, advocate = make_client(), make_client()
    register(victim)
    incident = log_incident(victim)
    sign_in_advocate(app, advocate)
    url = _url(incident)

    assert_problem(advocate.get(INCIDENTS), 403)
    assert_problem(advocate.post(INCIDENTS, json=incident_body()), 403)
    for response in (
        advocate.get(url),
        advocate.patch(url, json={"description": "Changed"}),
        withdraw(advocate, url),
        advocate.get(f"{url}/revisions"),
    ):
        assert_problem(response, 403)
        assert incident["description"] not in response.text
    assert read(victim, url) == incident


# Logging and reading


def test_log_an_incident_with_every_field(client: TestClient) -> None:
    register(client)
    body = incident_body(
        occurred_at=at(0, offset_hours=1),
        occurred_until=at(0.5, offset_hours=1),
        time_is_approximate=True,
        location="  Platform 2, Cambridge station  ",
        behaviours=["threats", "following", "threats"],
        channel="in_person",
        description="He followed me onto the train.\nThen he said he knew where I live.",
        witnesses="A guard on the platform",
        feelings="Shaking all evening 😟",
    )

    response = client.post(INCIDENTS, json=body)

    assert response.status_code == 201, response.text
    incident = response.json()
    assert incident["occurred_at"] == "2026-10-01T22:30:00+01:00"
    assert incident["occurred_until"] == "2026-10-01T23:00:00+01:00"
    assert incident["time_is_approximate"] is True
    assert incident["location"] == "Platform 2, Cambridge station"
    # One of each, in the vocabulary's own order (app/models/codes.py).
    assert incident["behaviours"] == ["following", "threats"]
    assert incident["channel"] == "in_person"
    assert incident["description"] == body["description"]
    assert incident["witnesses"] == "A guard on the platform"
    assert incident["feelings"] == "Shaking all evening 😟"
    assert incident["revision"] == 1
    assert incident["recorded_at"] == incident["updated_at"]
    assert incident["crime_references"] == []
    assert incident["evidence_ids"] == []
    assert incident["withdrawn"] is False
    assert incident["withdrawn_reason"] is None
    uuid.UUID(incident["id"])
    assert read(client, _url(incident)) == incident


def test_log_an_incident_with_only_what_is_required(client: TestClient) -> None:
    register(client)
    response = client.post(INCIDENTS, json={"occurred_at": at(), "behaviours": ["contacting"]})
    assert response.status_code == 201, response.text
    incident = response.json()
    assert incident["occurred_until"] is None
    assert incident["time_is_approximate"] is False
    assert incident["location"] is None
    assert incident["channel"] is None
    assert incident["description"] == ""
    assert incident["witnesses"] is None
    assert incident["feelings"] is None


@pytest.mark.parametrize("offset_hours", [1, -5, 5.5])
def test_local_time_reads_back_with_the_offset_it_was_written_with(
    client: TestClient, offset_hours: float
) -> None:
    register(client)
    written = at(0, offset_hours=offset_hours)
    until = at(2, offset_hours=offset_hours)

    incident = log_incident(client, occurred_at=written, occurred_until=until)

    assert incident["occurred_at"] == written
    assert incident["occurred_until"] == until
    assert read(client, _url(incident))["occurred_at"] == written
    assert timeline(client)[0]["at"] == written


def test_incidents_are_listed_by_instant_not_by_local_clock(client: TestClient) -> None:
    register(client)
    # 22:10 in Paris is 21:10 UTC: earlier than 21:40 in London (+00:00) though it reads later.
    paris = log_incident(client, occurred_at="2026-10-01T23:10:00+02:00")
    london = log_incident(client, occurred_at="2026-10-01T21:40:00+00:00")
    new_york = log_incident(client, occurred_at="2026-10-01T17:20:00-04:00")  # 21:20 UTC

    listed = [i["id"] for i in read(client, INCIDENTS)["items"]]
    newest_first = [i["id"] for i in read(client, INCIDENTS, order="desc")["items"]]

    assert listed == [paris["id"], new_york["id"], london["id"]]
    assert newest_first == listed[::-1]


def test_the_list_is_paginated(client: TestClient) -> None:
    register(client)
    logged = [log_incident(client, occurred_at=at(hours))["id"] for hours in range(5)]

    first = read(client, INCIDENTS, limit=2)
    second = read(client, INCIDENTS, limit=2, cursor=first["next_cursor"])
    third = read(client, INCIDENTS, limit=2, cursor=second["next_cursor"])

    pages = [first, second, third]
    assert [i["id"] for page in pages for i in page["items"]] == logged
    assert third["next_cursor"] is None


def test_a_clock_a_minute_fast_is_accepted(client: TestClient) -> None:
    register(client)
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert log_incident(client, occurred_at=soon)["revision"] == 1


def test_text_up_to_each_limit_with_tabs_and_new_lines_is_accepted(client: TestClient) -> None:
    register(client)
    incident = log_incident(
        client,
        location="l" * 500,
        description="d\t" * 9_999 + "dd",
        witnesses="w\n" * 999 + "ww",
        feelings="f" * 5_000,
    )
    assert len(incident["location"]) == 500
    assert len(incident["description"]) == 20_000
    assert len(incident["witnesses"]) == 2_000
    assert len(incident["feelings"]) == 5_000


# Validation


def _in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


INVALID_INCIDENTS: list[tuple[str, dict[str, Any], str | None]] = [
    ("unknown behaviour", {"behaviours": ["threats", "stalking"]}, "behaviours"),
    ("behaviours not a list", {"behaviours": "threats"}, "behaviours"),
    ("empty behaviours", {"behaviours": []}, "behaviours"),
    ("no behaviours", {"behaviours": MISSING}, "behaviours"),
    ("unknown channel", {"channel": "carrier_pigeon"}, "channel"),
    ("until before at", {"occurred_at": at(0), "occurred_until": at(-1)}, None),
    ("naive occurred_at", {"occurred_at": "2026-10-01T21:30:00"}, "occurred_at"),
    ("naive occurred_until", {"occurred_until": "2026-10-01T22:30:00"}, "occurred_until"),
    ("no occurred_at", {"occurred_at": MISSING}, "occurred_at"),
    ("occurred_at not a time", {"occurred_at": "last Tuesday"}, "occurred_at"),
    ("before 1900", {"occurred_at": "1899-12-31T23:00:00+00:00"}, "occurred_at"),
    ("year 1 east of UTC", {"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
    ("year 9999 west of UTC", {"occurred_at": "9999-12-31T23:59:00-01:00"}, "occurred_at"),
    ("location too long", {"location": "x" * 501}, "location"),
    ("description too long", {"description": "x" * 20_001}, "description"),
    ("witnesses too long", {"witnesses": "x" * 2_001}, "witnesses"),
    ("feelings too long", {"feelings": "x" * 5_001}, "feelings"),
    ("NUL in description", {"description": "before\x00after"}, "description"),
    ("bell in location", {"location": "Mill\x07 Road"}, "location"),
    ("escape in witnesses", {"witnesses": "Jo\x1b[2J"}, "witnesses"),
    ("delete in feelings", {"feelings": "scared\x7f"}, "feelings"),
    ("unknown field", {"mood": "scared"}, "mood"),
    ("server field", {"recorded_at": at()}, "recorded_at"),
    ("revision", {"revision": 7}, "revision"),
]


@pytest.mark.parametrize(
    ("changes", "field"),
    [(changes, field) for _, changes, field in INVALID_INCIDENTS],
    ids=[name for name, _, _ in INVALID_INCIDENTS],
)
def test_invalid_incidents_are_refused_and_nothing_is_saved(
    client: TestClient, changes: dict[str, Any], field: str | None
) -> None:
    register(client)
    body = {k: v for k, v in (incident_body() | changes).items() if v is not MISSING}

    response = client.post(INCIDENTS, json=body)

    _validation_problem(response, field)
    assert _all_incidents(client) == []
    assert _actions(client) == ["account.created"]


@pytest.mark.parametrize("field", ["occurred_at", "occurred_until"])
def test_a_time_in_the_future_is_refused(client: TestClient, field: str) -> None:
    register(client)
    body = incident_body(**{field: _in_an_hour()})
    _validation_problem(client.post(INCIDENTS, json=body), field)
    assert _all_incidents(client) == []


def test_a_refused_incident_is_not_echoed_back(client: TestClient) -> None:
    register(client)
    secret = "He knows my new address " * 1_000
    response = client.post(INCIDENTS, json=incident_body(description=secret))
    _validation_problem(response, "description")
    assert "new address" not in response.text


# Offline-safe creates


def test_repeating_a_create_returns_the_saved_incident(client: TestClient) -> None:
    register(client)
    body = incident_body(id=str(uuid.uuid4()))

    first = client.post(INCIDENTS, json=body)
    again = client.post(INCIDENTS, json=body)

    assert first.status_code == 201, first.text
    assert first.json()["id"] == body["id"]
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(_all_incidents(client)) == 1
    assert _actions(client) == ["account.created", "incident.created"]


def test_a_repeat_written_differently_but_meaning_the_same_is_the_same(
    client: TestClient,
) -> None:
    register(client)
    record_id = str(uuid.uuid4())
    first = client.post(
        INCIDENTS,
        json=incident_body(
            id=record_id, occurred_at="2026-10-01T22:30:00+01:00", behaviours=["threats", "gifts"]
        ),
    )
    again = client.post(
        INCIDENTS,
        json=incident_body(
            id=record_id,
            occurred_at="2026-10-01T22:30:00.000000+01:00",
            behaviours=["gifts", "threats", "gifts"],
            location="  Outside the library on Mill Road ",
        ),
    )
    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()


def test_repeating_a_create_after_an_amendment_returns_the_current_incident(
    client: TestClient,
) -> None:
    register(client)
    body = incident_body(id=str(uuid.uuid4()))
    incident = _created_from(client.post(INCIDENTS, json=body))
    amended = client.patch(_url(incident), json={"witnesses": "The shop owner"}).json()

    again = client.post(INCIDENTS, json=body)

    assert again.status_code == 200, again.text
    assert again.json() == amended
    assert again.json()["revision"] == 2
    assert len(revisions(client, _url(incident))) == 2


def test_the_same_id_with_different_content_is_a_conflict(client: TestClient) -> None:
    register(client)
    body = incident_body(id=str(uuid.uuid4()))
    incident = _created_from(client.post(INCIDENTS, json=body))

    response = client.post(INCIDENTS, json=body | {"description": "Something else entirely."})

    assert_problem(response, 409)
    assert read(client, _url(incident)) == incident
    assert len(_all_incidents(client)) == 1


def test_another_victims_id_is_a_conflict_that_reveals_nothing(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    incident = log_incident(alice, id=str(uuid.uuid4()), witnesses="My sister")

    # The same content, as if Mallory had copied a request, and different content.
    for body in (
        incident_body(id=incident["id"], witnesses="My sister"),
        incident_body(id=incident["id"], description="Mallory's version"),
    ):
        response = mallory.post(INCIDENTS, json=body)
        assert_problem(response, 409)
        assert incident["description"] not in response.text
        assert "sister" not in response.text
        assert incident["recorded_at"] not in response.text

    assert read(alice, _url(incident)) == incident
    assert _all_incidents(mallory) == []
    assert _actions(mallory) == ["account.created"]


# Amending: every revision is kept


def test_an_amendment_makes_revision_2_and_keeps_revision_1(client: TestClient) -> None:
    user = register(client, display_name="Robin")
    incident = log_incident(client, channel="text_message")
    url = _url(incident)

    response = client.patch(url, json={"description": "He sent three texts.", "channel": None})

    assert response.status_code == 200, response.text
    amended = response.json()
    assert amended["revision"] == 2
    assert amended["description"] == "He sent three texts."
    assert amended["channel"] is None
    assert amended["location"] == incident["location"]
    assert amended["recorded_at"] == incident["recorded_at"]
    assert instant(amended["updated_at"]) >= instant(incident["updated_at"])
    assert read(client, url) == amended

    first, second = revisions(client, url)
    assert first["revision"] == 1
    assert first["description"] == incident["description"]
    assert first["channel"] == "text_message"
    assert first["by"] == {"id": user["id"], "display_name": "Robin"}
    assert instant(first["at"]) == instant(incident["recorded_at"])
    assert second["revision"] == 2
    assert second["description"] == "He sent three texts."
    assert second["channel"] is None
    assert instant(second["at"]) == instant(amended["updated_at"])


def test_revisions_list_every_version_oldest_first_with_their_fields(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, occurred_at=at(0, offset_hours=1), behaviours=["watching"])
    url = _url(incident)
    client.patch(url, json={"behaviours": ["watching", "threats"]})
    client.patch(url, json={"occurred_at": at(-1, offset_hours=1), "location": None})

    history = revisions(client, url)

    assert [r["revision"] for r in history] == [1, 2, 3]
    assert [r["behaviours"] for r in history] == [
        ["watching"],
        ["watching", "threats"],
        ["watching", "threats"],
    ]
    assert [r["occurred_at"] for r in history] == [
        at(0, offset_hours=1),
        at(0, offset_hours=1),
        at(-1, offset_hours=1),
    ]
    assert [r["location"] for r in history] == [incident["location"], incident["location"], None]
    assert all(r["description"] == incident["description"] for r in history)
    assert instant(history[0]["at"]) <= instant(history[1]["at"]) <= instant(history[2]["at"])
    assert read(client, url)["revision"] == 3
    assert _actions(client)[-3:] == ["incident.created", "incident.amended", "incident.amended"]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"description": "He was waiting by the bike racks when I came out."},
        {"description": "  He was waiting by the bike racks when I came out.  "},
        {"behaviours": ["turning_up", "turning_up"], "channel": None},
        {"occurred_at": "2026-10-01T22:30:00+01:00"},  # the same instant and offset
    ],
    ids=["empty", "same text", "same after trimming", "same codes", "same time"],
)
def test_an_amendment_that_changes_nothing_makes_no_revision(
    client: TestClient, changes: dict[str, Any]
) -> None:
    register(client)
    incident = log_incident(client, occurred_at="2026-10-01T22:30:00+01:00")

    response = client.patch(_url(incident), json=changes)

    assert response.status_code == 200, response.text
    assert response.json() == incident
    assert len(revisions(client, _url(incident))) == 1
    assert "incident.amended" not in _actions(client)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": None}, "occurred_at"),
        ({"behaviours": None}, "behaviours"),
        ({"description": None}, "description"),
        ({"time_is_approximate": None}, "time_is_approximate"),
        ({"behaviours": []}, "behaviours"),
        ({"behaviours": ["stalking"]}, "behaviours"),
        ({"channel": "fax"}, "channel"),
        ({"occurred_until": at(-3)}, None),
        ({"occurred_at": "2026-10-01T21:30:00"}, "occurred_at"),
        ({"location": "x" * 501}, "location"),
        ({"feelings": "\x00"}, "feelings"),
        ({"recorded_at": at(-100)}, "recorded_at"),
        ({"revision": 1}, "revision"),
    ],
)
def test_an_invalid_amendment_is_refused_and_nothing_changes(
    client: TestClient, changes: dict[str, Any], field: str | None
) -> None:
    register(client)
    incident = log_incident(client)
    _validation_problem(client.patch(_url(incident), json=changes), field)
    assert read(client, _url(incident)) == incident
    assert len(revisions(client, _url(incident))) == 1


def test_a_future_time_is_refused_on_amendment(client: TestClient) -> None:
    register(client)
    incident = log_incident(client)
    _validation_problem(client.patch(_url(incident), json={"occurred_at": _in_an_hour()}))
    assert read(client, _url(incident)) == incident


# Withdrawal


def test_withdrawing_keeps_the_incident_with_its_reason(client: TestClient) -> None:
    register(client)
    incident = log_incident(client)

    response = withdraw(client, _url(incident), "  I logged this one twice  ")

    assert response.status_code == 200, response.text
    withdrawn = response.json()
    assert withdrawn["withdrawn"] is True
    assert withdrawn["withdrawn_reason"] == "I logged this one twice"
    assert withdrawn["description"] == incident["description"]
    assert withdrawn["revision"] == 1
    assert read(client, _url(incident)) == withdrawn
    assert len(revisions(client, _url(incident))) == 1
    assert _actions(client)[-1] == "incident.withdrawn"


def test_a_withdrawn_incident_is_hidden_unless_asked_for(client: TestClient) -> None:
    register(client)
    kept = log_incident(client, occurred_at=at(0))
    gone = log_incident(client, occurred_at=at(1))
    withdraw(client, _url(gone))

    assert [i["id"] for i in read(client, INCIDENTS)["items"]] == [kept["id"]]
    assert [i["id"] for i in timeline(client)] == [kept["id"]]
    assert [i["id"] for i in _all_incidents(client)] == [kept["id"], gone["id"]]
    shown = timeline(client, include_withdrawn="true")
    assert [i["id"] for i in shown] == [kept["id"], gone["id"]]
    assert shown[1]["data"]["withdrawn"] is True


def test_a_withdrawn_incident_cannot_be_withdrawn_again_or_amended(client: TestClient) -> None:
    register(client)
    incident = log_incident(client)
    withdrawn = withdraw(client, _url(incident), "Duplicate").json()

    assert_problem(withdraw(client, _url(incident), "Again"), 409)
    assert_problem(client.patch(_url(incident), json={"description": "Changed"}), 409)

    assert read(client, _url(incident)) == withdrawn
    assert read(client, _url(incident))["withdrawn_reason"] == "Duplicate"
    assert len(revisions(client, _url(incident))) == 1


@pytest.mark.parametrize(
    "body",
    [None, {}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1_001}, {"reason": "a\x00"}],
    ids=["no body", "no reason", "empty", "blank", "too long", "NUL"],
)
def test_withdrawing_needs_a_reason(client: TestClient, body: dict[str, Any] | None) -> None:
    register(client)
    incident = log_incident(client)
    _validation_problem(client.request("DELETE", _url(incident), json=body))
    assert read(client, _url(incident)) == incident
