"""/api/v1/impact-notes: how the stalking is affecting day-to-day life."""

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
    IMPACT_NOTES,
    at,
    impact_note_body,
    instant,
    read,
    revisions,
    timeline,
    withdraw,
    write_impact_note,
)

MISSING = object()  # a key left out of the body


def _url(note: dict[str, Any]) -> str:
    return f"{IMPACT_NOTES}/{note['id']}"


def _all_notes(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = read(client, IMPACT_NOTES, include_withdrawn="true")["items"]
    return items


def _actions(client: TestClient) -> list[str]:
    return [e["action"] for e in read(client, AUDIT, order="asc")["items"]]


def _validation_problem(response: Any, field: str | None = None) -> None:
    problem = assert_problem(response, 422)
    assert problem["errors"]
    if field is not None:
        assert any(field in error["loc"] for error in problem["errors"]), problem["errors"]


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
    url = IMPACT_NOTES + path.format(id=uuid.uuid4())
    body = {"POST": impact_note_body(), "PATCH": {"areas": ["sleep"]}, "DELETE": {"reason": "x"}}
    assert_problem(client.request(method, url, json=body.get(method)), 401)


def test_another_victim_gets_404_and_the_note_is_unchanged(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    note = write_impact_note(alice)
    url = _url(note)

    for response in (
        mallory.get(url),
        mallory.patch(url, json={"description": "I am fine."}),
        withdraw(mallory, url, "Not true"),
        mallory.get(f"{url}/revisions"),
    ):
        assert_problem(response, 404)
        assert note["description"] not in response.text

    assert read(alice, url) == note
    assert len(revisions(alice, url)) == 1
    assert _all_notes(mallory) == []


def test_an_advocate_gets_403_on_victim_routes(app: FastAPI, make_client: ClientFactory) -> None:
    victim, advocate = make_client(), make_client()
    register(victim)
    note = write_impact_note(victim)
    sign_in_advocate(app, advocate)
    url = _url(note)

    assert_problem(advocate.get(IMPACT_NOTES), 403)
    assert_problem(advocate.post(IMPACT_NOTES, json=impact_note_body()), 403)
    for response in (
        advocate.get(url),
        advocate.patch(url, json={"description": "Changed"}),
        withdraw(advocate, url),
        advocate.get(f"{url}/revisions"),
    ):
        assert_problem(response, 403)
        assert note["description"] not in response.text
    assert read(victim, url) == note


# Writing and reading


def test_write_an_impact_note(client: TestClient) -> None:
    register(client)
    body = impact_note_body(
        noted_at=at(0, offset_hours=1),
        areas=["work_or_study", "sleep", "fear_of_violence", "sleep"],
        description="  I have stopped going to the gym.\tI check the windows twice a night.  ",
    )

    response = client.post(IMPACT_NOTES, json=body)

    assert response.status_code == 201, response.text
    note = response.json()
    assert note["noted_at"] == at(0, offset_hours=1)
    assert note["areas"] == ["fear_of_violence", "sleep", "work_or_study"]
    assert note["description"] == (
        "I have stopped going to the gym.\tI check the windows twice a night."
    )
    assert note["revision"] == 1
    assert note["recorded_at"] == note["updated_at"]
    assert note["withdrawn"] is False
    assert note["withdrawn_reason"] is None
    assert read(client, _url(note)) == note


def test_notes_are_listed_by_instant(client: TestClient) -> None:
    register(client)
    later = write_impact_note(client, noted_at="2026-10-02T09:00:00+00:00")
    earlier = write_impact_note(client, noted_at="2026-10-02T09:30:00+02:00")  # 07:30 UTC

    assert [n["id"] for n in read(client, IMPACT_NOTES)["items"]] == [earlier["id"], later["id"]]
    assert earlier["noted_at"] == "2026-10-02T09:30:00+02:00"


def test_a_description_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    register(client)
    assert len(write_impact_note(client, description="x" * 20_000)["description"]) == 20_000


INVALID_NOTES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown area", {"areas": ["sleep", "mood"]}, "areas"),
    ("empty areas", {"areas": []}, "areas"),
    ("no areas", {"areas": MISSING}, "areas"),
    ("no description", {"description": MISSING}, "description"),
    ("empty description", {"description": ""}, "description"),
    ("blank description", {"description": " \n\t "}, "description"),
    ("description too long", {"description": "x" * 20_001}, "description"),
    ("NUL", {"description": "tired\x00"}, "description"),
    ("control character", {"description": "ti\x0cred"}, "description"),
    ("naive time", {"noted_at": "2026-10-01T21:30:00"}, "noted_at"),
    ("no time", {"noted_at": MISSING}, "noted_at"),
    ("unknown field", {"mood": "low"}, "mood"),
]


@pytest.mark.parametrize(
    ("changes", "field"),
    [(changes, field) for _, changes, field in INVALID_NOTES],
    ids=[name for name, _, _ in INVALID_NOTES],
)
def test_invalid_notes_are_refused_and_nothing_is_saved(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    register(client)
    body = {k: v for k, v in (impact_note_body() | changes).items() if v is not MISSING}
    _validation_problem(client.post(IMPACT_NOTES, json=body), field)
    assert _all_notes(client) == []
    assert _actions(client) == ["account.created"]


def test_a_note_from_the_future_is_refused(client: TestClient) -> None:
    register(client)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    _validation_problem(client.post(IMPACT_NOTES, json=impact_note_body(noted_at=future)))
    assert _all_notes(client) == []


# Offline-safe creates


def test_repeating_a_create_returns_the_saved_note(client: TestClient) -> None:
    register(client)
    body = impact_note_body(id=str(uuid.uuid4()))

    first = client.post(IMPACT_NOTES, json=body)
    again = client.post(IMPACT_NOTES, json=body | {"areas": ["changed_routine", "sleep"]})

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(_all_notes(client)) == 1


def test_repeating_a_create_after_an_amendment_returns_the_current_note(
    client: TestClient,
) -> None:
    register(client)
    body = impact_note_body(id=str(uuid.uuid4()))
    client.post(IMPACT_NOTES, json=body)
    amended = client.patch(f"{IMPACT_NOTES}/{body['id']}", json={"areas": ["health"]}).json()

    again = client.post(IMPACT_NOTES, json=body)

    assert again.status_code == 200, again.text
    assert again.json() == amended
    assert again.json()["areas"] == ["health"]


def test_the_same_id_with_different_content_is_a_conflict(client: TestClient) -> None:
    register(client)
    body = impact_note_body(id=str(uuid.uuid4()))
    note = client.post(IMPACT_NOTES, json=body).json()

    assert_problem(client.post(IMPACT_NOTES, json=body | {"areas": ["finances"]}), 409)
    assert read(client, _url(note)) == note


def test_another_victims_id_is_a_conflict_that_reveals_nothing(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    note = write_impact_note(alice, id=str(uuid.uuid4()))

    response = mallory.post(IMPACT_NOTES, json=impact_note_body(id=note["id"]))

    assert_problem(response, 409)
    assert note["description"] not in response.text
    assert read(alice, _url(note)) == note
    assert _all_notes(mallory) == []
    assert _actions(mallory) == ["account.created"]


# Amending


def test_an_amendment_makes_a_new_revision_and_keeps_every_earlier_one(
    client: TestClient,
) -> None:
    user = register(client, display_name="Robin")
    note = write_impact_note(client, noted_at=at(0, offset_hours=1))
    url = _url(note)

    second = client.patch(url, json={"description": "I moved in with my sister."}).json()
    third = client.patch(url, json={"areas": ["moved_home"], "noted_at": at(1, offset_hours=1)})

    assert second["revision"] == 2
    assert third.status_code == 200, third.text
    assert third.json()["revision"] == 3
    assert third.json()["recorded_at"] == note["recorded_at"]
    history = revisions(client, url)
    assert [r["revision"] for r in history] == [1, 2, 3]
    assert [r["description"] for r in history] == [
        note["description"],
        "I moved in with my sister.",
        "I moved in with my sister.",
    ]
    assert [r["areas"] for r in history] == [note["areas"], note["areas"], ["moved_home"]]
    assert history[2]["noted_at"] == at(1, offset_hours=1)
    assert all(r["by"] == {"id": user["id"], "display_name": "Robin"} for r in history)
    assert instant(history[0]["at"]) <= instant(history[1]["at"]) <= instant(history[2]["at"])


def test_an_amendment_that_changes_nothing_makes_no_revision(client: TestClient) -> None:
    register(client)
    note = write_impact_note(client)
    response = client.patch(_url(note), json={"areas": list(reversed(note["areas"]))})
    assert response.status_code == 200, response.text
    assert response.json() == note
    assert len(revisions(client, _url(note))) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": None}, "description"),
        ({"areas": None}, "areas"),
        ({"noted_at": None}, "noted_at"),
        ({"areas": []}, "areas"),
        ({"areas": ["mood"]}, "areas"),
        ({"description": ""}, "description"),
        ({"description": "x" * 20_001}, "description"),
        ({"noted_at": "2026-10-01T21:30:00"}, "noted_at"),
        ({"recorded_at": at()}, "recorded_at"),
    ],
)
def test_an_invalid_amendment_is_refused_and_nothing_changes(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    register(client)
    note = write_impact_note(client)
    _validation_problem(client.patch(_url(note), json=changes), field)
    assert read(client, _url(note)) == note
    assert len(revisions(client, _url(note))) == 1


# Withdrawal


def test_withdrawal_hides_the_note_keeps_it_and_is_final(client: TestClient) -> None:
    register(client)
    kept = write_impact_note(client, noted_at=at(0))
    gone = write_impact_note(client, noted_at=at(1))

    response = withdraw(client, _url(gone), "Wrote it on the wrong day")

    assert response.status_code == 200, response.text
    assert response.json()["withdrawn"] is True
    assert response.json()["withdrawn_reason"] == "Wrote it on the wrong day"
    assert [n["id"] for n in read(client, IMPACT_NOTES)["items"]] == [kept["id"]]
    assert [i["id"] for i in timeline(client)] == [kept["id"]]
    assert [n["id"] for n in _all_notes(client)] == [kept["id"], gone["id"]]
    assert [i["id"] for i in timeline(client, include_withdrawn="true")] == [
        kept["id"],
        gone["id"],
    ]
    assert_problem(withdraw(client, _url(gone), "Again"), 409)
    assert_problem(client.patch(_url(gone), json={"areas": ["health"]}), 409)
    assert read(client, _url(gone)) == response.json()
    assert _actions(client)[-1] == "impact_note.withdrawn"


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "x" * 1_001}])
def test_withdrawing_needs_a_reason(client: TestClient, body: dict[str, Any] | None) -> None:
    register(client)
    note = write_impact_note(client)
    _validation_problem(client.request("DELETE", _url(note), json=body))
    assert read(client, _url(note)) == note
