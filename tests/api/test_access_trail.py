"""The access trail: every look an advocate takes at a shared log, every note, share and revoke,
on the victim's own hash-chained audit trail (GET /audit), in words the victim understands,
naming the advocate and their organisation ("Sam (Crossroads) viewed your timeline.")."""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, delete

from app.models.user import User
from tests.conftest import ClientFactory
from tests.factories.accounts import STRONG_PASSWORD, assert_problem, me
from tests.factories.evidence import png_screenshot, upload_evidence
from tests.factories.records import AUDIT, INCIDENTS, log_incident, read, withdraw
from tests.factories.sharing import (
    ADVOCATE_NAME,
    CASES,
    ORGANISATION,
    case_url,
    revoke,
    share_with,
    shared_case,
    signed_in_staff,
    signed_in_victim,
    write_note,
)

VERIFY = f"{AUDIT}/verify"
SAM = f"{ADVOCATE_NAME} ({ORGANISATION})"


def _trail(victim: TestClient) -> list[dict[str, Any]]:
    """The victim's whole trail, oldest first."""
    page = read(victim, AUDIT, order="asc", limit=200)
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


def _after(victim: TestClient, seq: int) -> list[dict[str, Any]]:
    return [event for event in _trail(victim) if event["seq"] > seq]


def _head(victim: TestClient) -> int:
    seq = _trail(victim)[-1]["seq"]
    assert isinstance(seq, int), seq
    return seq


def _assert_valid(victim: TestClient) -> None:
    verification = read(victim, VERIFY)
    assert verification["valid"] is True, verification
    assert verification["count"] == _head(victim)


@dataclass
class Case:
    victim: TestClient
    advocate: TestClient
    case_id: str
    advocate_id: str
    incident_id: str
    evidence_id: str


@pytest.fixture
def case(app: FastAPI, make_client: ClientFactory) -> Case:
    victim, advocate, case_id = shared_case(app, make_client)
    incident = log_incident(victim)
    evidence = upload_evidence(
        victim, png_screenshot(), filename="screenshot.png", content_type="image/png"
    )
    return Case(victim, advocate, case_id, me(advocate)["id"], incident["id"], evidence["id"])


def _by_sam(event: dict[str, Any], case: Case) -> None:
    assert event["actor"] == {"id": case.advocate_id, "role": "advocate", "display_name": "Sam"}


@pytest.mark.parametrize(
    ("rest", "action", "target_kind", "words"),
    [
        ("", "case.viewed", "share", "viewed your timeline"),
        ("/timeline", "case.viewed", "share", "viewed your timeline"),
        ("/incidents/{incident}", "incident.viewed", "incident", "looked at an incident"),
        ("/evidence/{evidence}", "evidence.viewed", "evidence", "looked at a file's details"),
        ("/evidence/{evidence}/content", "evidence.downloaded", "evidence", "downloaded a file"),
    ],
    ids=["case", "timeline", "incident", "evidence", "content"],
)
def test_each_look_is_one_event_naming_the_advocate(
    rest: str, action: str, target_kind: str, words: str, case: Case
) -> None:
    seq = _head(case.victim)
    url = case_url(case.case_id, rest.format(incident=case.incident_id, evidence=case.evidence_id))

    assert case.advocate.get(url).status_code == 200

    (event,) = _after(case.victim, seq)
    assert event["action"] == action
    assert event["description"] == f"{SAM} {words}."
    _by_sam(event, case)
    assert event["target_kind"] == target_kind
    expected_target = {
        "share": case.case_id,
        "incident": case.incident_id,
        "evidence": case.evidence_id,
    }[target_kind]
    assert event["target_id"] == expected_target
    _assert_valid(case.victim)


def test_a_partial_download_is_a_download_too(case: Case) -> None:
    seq = _head(case.victim)
    content = case_url(case.case_id, f"/evidence/{case.evidence_id}/content")

    assert case.advocate.get(content, headers={"Range": "bytes=0-9"}).status_code == 206
    # A range that cannot be served hands over nothing, and is not a download.
    assert case.advocate.get(content, headers={"Range": "bytes=999999-"}).status_code == 416

    assert [e["action"] for e in _after(case.victim, seq)] == ["evidence.downloaded"]


def test_a_note_is_one_event_even_when_sent_twice(case: Case) -> None:
    seq = _head(case.victim)
    note_id = str(uuid.uuid4())

    assert write_note(case.advocate, case.case_id, "Called Robin.", note_id).status_code == 201
    assert write_note(case.advocate, case.case_id, "Called Robin.", note_id).status_code == 200
    assert write_note(case.advocate, case.case_id, "Changed.", note_id).status_code == 409

    (event,) = _after(case.victim, seq)
    assert event["action"] == "note.created"
    assert event["description"] == f"{SAM} wrote a note on your case."
    assert event["target_kind"] == "advocate_note"
    assert event["target_id"] == note_id
    _by_sam(event, case)
    _assert_valid(case.victim)


def test_listing_the_caseload_is_a_look_at_every_case_on_it(
    case: Case, app: FastAPI, make_client: ClientFactory
) -> None:
    """The caseload gives each case's counts and last activity: each victim sees that look."""
    other_victim = signed_in_victim(make_client, "Robin")
    share_with(other_victim, case.advocate)
    seq, other_seq = _head(case.victim), _head(other_victim)

    listed = case.advocate.get(CASES)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2

    for victim, since, case_id in (
        (case.victim, seq, case.case_id),
        (other_victim, other_seq, listed.json()["items"][1]["id"]),
    ):
        (event,) = _after(victim, since)
        assert event["action"] == "case.summary_viewed"
        assert event["description"] == (
            f"{SAM} saw how many records your log has and when it last changed."
        )
        assert (event["target_kind"], event["target_id"]) == ("share", case_id)
        _by_sam(event, case)
        _assert_valid(victim)


def test_the_case_detail_with_its_counts_is_a_look(case: Case) -> None:
    seq = _head(case.victim)
    detail = case.advocate.get(case_url(case.case_id))
    assert detail.status_code == 200 and "counts" in detail.json()
    assert [e["action"] for e in _after(case.victim, seq)] == ["case.viewed"]


def test_reading_their_own_notes_or_refused_reads_add_nothing(case: Case) -> None:
    withdrawn = log_incident(case.victim, description="Logged twice")
    assert withdraw(case.victim, f"{INCIDENTS}/{withdrawn['id']}").status_code == 200
    seq = _head(case.victim)

    assert case.advocate.get(case_url(case.case_id, "/notes")).status_code == 200
    assert_problem(case.advocate.get(case_url(case.case_id, f"/incidents/{withdrawn['id']}")), 404)
    assert_problem(case.advocate.get(case_url(case.case_id, f"/evidence/{uuid.uuid4()}")), 404)
    assert_problem(case.advocate.get(case_url(case.case_id, "/timeline?kinds=gossip")), 422)

    assert _after(case.victim, seq) == []


def test_the_victim_sees_the_whole_story_in_plain_words(
    app: FastAPI, make_client: ClientFactory
) -> None:
    """A share, a look at everything, a note, a revoke: all of it, in order, on one valid chain."""
    victim, advocate, case_id = shared_case(app, make_client)
    incident = log_incident(victim)
    evidence = upload_evidence(victim, png_screenshot(), filename="a.png", content_type="image/png")
    seq = _head(victim)

    for rest in (
        "/timeline",
        f"/incidents/{incident['id']}",
        f"/evidence/{evidence['id']}",
        f"/evidence/{evidence['id']}/content",
    ):
        assert advocate.get(case_url(case_id, rest)).status_code == 200
    assert write_note(advocate, case_id, "Called Robin back.").status_code == 201
    assert revoke(victim, case_id).status_code == 204

    story = [(e["action"], e["description"]) for e in _after(victim, seq)]
    assert story == [
        ("case.viewed", f"{SAM} viewed your timeline."),
        ("incident.viewed", f"{SAM} looked at an incident."),
        ("evidence.viewed", f"{SAM} looked at a file's details."),
        ("evidence.downloaded", f"{SAM} downloaded a file."),
        ("note.created", f"{SAM} wrote a note on your case."),
        ("share.revoked", f"You stopped sharing your log with {SAM}."),
    ]
    actions = [e["action"] for e in _trail(victim)]
    assert "share.created" in actions
    _assert_valid(victim)
    # Newest first by default: the revoke is on top.
    assert read(victim, AUDIT)["items"][0]["action"] == "share.revoked"


def test_sharing_and_revoking_are_the_victims_own_acts(case: Case) -> None:
    (created,) = [e for e in _trail(case.victim) if e["action"] == "share.created"]
    victim_id = me(case.victim)["id"]
    assert created["actor"]["id"] == victim_id
    assert created["actor"]["role"] == "victim"
    assert created["target_kind"] == "share"
    assert created["target_id"] == case.case_id
    assert created["description"].startswith("You shared your log with ")

    seq = _head(case.victim)
    assert revoke(case.victim, case.case_id).status_code == 204
    (revoked,) = _after(case.victim, seq)
    assert revoked["action"] == "share.revoked"
    assert revoked["actor"]["id"] == victim_id
    assert revoked["target_id"] == case.case_id
    assert revoked["description"].startswith("You stopped sharing your log with ")
    _assert_valid(case.victim)


def test_sharing_and_revoking_name_the_advocate_and_organisation(
    case: Case, app: FastAPI, make_client: ClientFactory
) -> None:
    """With two advocates, "an advocate" does not tell the victim which one they stopped."""
    jo, _ = signed_in_staff(app, make_client, display_name="Jo", organisation_name="Harbour")
    jo_case = share_with(case.victim, jo)
    assert revoke(case.victim, jo_case).status_code == 204

    described = {
        (e["action"], e["target_id"]): e["description"]
        for e in _trail(case.victim)
        if e["action"].startswith("share.")
    }
    assert described == {
        ("share.created", case.case_id): f"You shared your log with {SAM}.",
        ("share.created", jo_case): "You shared your log with Jo (Harbour).",
        ("share.revoked", jo_case): "You stopped sharing your log with Jo (Harbour).",
    }


def test_the_trail_outlasts_the_share(case: Case) -> None:
    assert case.advocate.get(case_url(case.case_id)).status_code == 200
    assert revoke(case.victim, case.case_id).status_code == 204

    viewed = [e for e in _trail(case.victim) if e["action"] == "case.viewed"]
    assert [e["description"] for e in viewed] == [f"{SAM} viewed your timeline."]
    _assert_valid(case.victim)


def test_staff_cannot_erase_their_own_account(case: Case) -> None:
    """Staff leave through their organisation, so cases end visibly on each victim's trail."""
    erased = case.advocate.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})
    assert_problem(erased, 403)
    assert case.advocate.get(case_url(case.case_id)).status_code == 200


def test_the_trail_outlasts_the_advocates_account(case: Case, app: FastAPI) -> None:
    assert case.advocate.get(case_url(case.case_id)).status_code == 200
    seq = _head(case.victim)
    # An operator removes the advocate's account from the database altogether.
    with Session(app.state.runtime.engine) as db:
        db.exec(delete(User).where(col(User.id) == uuid.UUID(case.advocate_id)))
        db.commit()

    trail = _trail(case.victim)
    (viewed,) = [e for e in trail if e["action"] == "case.viewed"]
    assert viewed["actor"]["id"] == case.advocate_id
    assert viewed["actor"]["role"] == "advocate"
    assert "viewed your timeline" in viewed["description"]
    assert _head(case.victim) == seq
    _assert_valid(case.victim)


def test_staff_have_no_trail_of_their_own(case: Case) -> None:
    assert_problem(case.advocate.get(AUDIT), 403)
    assert_problem(case.advocate.get(VERIFY), 403)
