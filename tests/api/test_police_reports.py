"""/api/v1/police-reports: contacts with the police, their crime references and the incidents
they cover."""

import uuid
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
    POLICE_REPORTS,
    at,
    log_incident,
    police_report_body,
    read,
    record_police_report,
    revisions,
    timeline,
    withdraw,
)

MISSING = object()  # a key left out of the body


def _url(report: dict[str, Any]) -> str:
    return f"{POLICE_REPORTS}/{report['id']}"


def _incident(client: TestClient, incident: dict[str, Any]) -> dict[str, Any]:
    return read(client, f"{INCIDENTS}/{incident['id']}")


def _all_reports(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = read(client, POLICE_REPORTS, include_withdrawn="true")["items"]
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
    url = POLICE_REPORTS + path.format(id=uuid.uuid4())
    body = {"POST": police_report_body(), "PATCH": {"officer": "x"}, "DELETE": {"reason": "x"}}
    assert_problem(client.request(method, url, json=body.get(method)), 401)


def test_another_victim_gets_404_and_the_report_is_unchanged(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    incident = log_incident(alice)
    report = record_police_report(alice, incident_ids=[incident["id"]])
    url = _url(report)

    for response in (
        mallory.get(url),
        mallory.patch(url, json={"crime_reference": "NONE", "incident_ids": []}),
        withdraw(mallory, url, "Never happened"),
        mallory.get(f"{url}/revisions"),
    ):
        assert_problem(response, 404)
        assert "CR/123456/26" not in response.text
        assert incident["id"] not in response.text

    assert read(alice, url) == report
    assert len(revisions(alice, url)) == 1
    assert _incident(alice, incident)["crime_references"] == ["CR/123456/26"]
    assert _all_reports(mallory) == []


def test_an_advocate_gets_403_on_victim_routes(app: FastAPI, make_client: ClientFactory) -> None:
    victim, advocate = make_client(), make_client()
    register(victim)
    report = record_police_report(victim)
    sign_in_advocate(app, advocate)
    url = _url(report)

    assert_problem(advocate.get(POLICE_REPORTS), 403)
    assert_problem(advocate.post(POLICE_REPORTS, json=police_report_body()), 403)
    for response in (
        advocate.get(url),
        advocate.patch(url, json={"officer": "PC Jones"}),
        withdraw(advocate, url),
        advocate.get(f"{url}/revisions"),
    ):
        assert_problem(response, 403)
        assert "CR/123456/26" not in response.text
    assert read(victim, url) == report


# Recording and reading


def test_record_a_police_report_linking_incidents(client: TestClient) -> None:
    register(client)
    first, second = log_incident(client, occurred_at=at(-48)), log_incident(client)
    body = police_report_body(
        crime_reference="  CR/123456/26 ",
        reported_at=at(1, offset_hours=1),
        method="in_person",
        incident_ids=[second["id"], first["id"], second["id"]],
    )

    response = client.post(POLICE_REPORTS, json=body)

    assert response.status_code == 201, response.text
    report = response.json()
    assert report["crime_reference"] == "CR/123456/26"
    assert report["reported_at"] == at(1, offset_hours=1)
    assert report["force"] == "Cambridgeshire Constabulary"
    assert report["officer"] == "PC Patel"
    assert report["method"] == "in_person"
    assert report["notes"] == "Officer said to keep logging everything."
    assert report["incident_ids"] == sorted([first["id"], second["id"]])
    assert report["revision"] == 1
    assert report["withdrawn"] is False
    assert read(client, _url(report)) == report
    assert _incident(client, first)["crime_references"] == ["CR/123456/26"]
    assert _incident(client, second)["crime_references"] == ["CR/123456/26"]


def test_a_report_without_a_crime_reference_yet(client: TestClient) -> None:
    register(client)
    incident = log_incident(client)
    body = {"reported_at": at(), "method": "emergency_999", "incident_ids": [incident["id"]]}

    report = client.post(POLICE_REPORTS, json=body).json()

    assert report["crime_reference"] is None
    assert report["force"] is None and report["officer"] is None and report["notes"] is None
    assert _incident(client, incident)["crime_references"] == []
    assert timeline(client, kinds="police_report")[0]["summary"] == (
        "Reported to police (no crime reference yet)"
    )


def test_spaces_inside_a_crime_reference_are_collapsed(client: TestClient) -> None:
    register(client)
    report = record_police_report(client, crime_reference="\t14 / 98765  /26 ")
    assert report["crime_reference"] == "14 / 98765 /26"


def test_every_method_code_is_accepted(client: TestClient) -> None:
    register(client)
    methods = ["emergency_999", "non_emergency_101", "online", "in_person", "other"]
    for method in methods:
        assert record_police_report(client, method=method)["method"] == method


def test_text_up_to_each_limit_is_accepted(client: TestClient) -> None:
    register(client)
    report = record_police_report(
        client, crime_reference="R" * 64, force="f" * 200, officer="o" * 200, notes="n" * 10_000
    )
    assert len(report["crime_reference"]) == 64
    assert len(report["notes"]) == 10_000


def test_crime_references_are_compared_ignoring_case_in_any_script(client: TestClient) -> None:
    register(client)
    incident = log_incident(client)
    report = record_police_report(
        client, crime_reference="ẞ/Straße/26", incident_ids=[incident["id"]]
    )

    found = timeline(client, crime_reference="ss/STRASSE/26")

    assert report["crime_reference"] == "ẞ/Straße/26"
    assert [i["id"] for i in found] == [incident["id"], report["id"]]


def test_a_reference_too_long_once_case_is_ignored_is_refused(client: TestClient) -> None:
    register(client)
    # 64 characters as written, but 128 as compared ("ß" is "ss"): a clear 422, never a 500.
    response = client.post(POLICE_REPORTS, json=police_report_body(crime_reference="ß" * 64))
    _validation_problem(response, "crime_reference")
    assert _all_reports(client) == []


def test_linked_incidents_show_every_live_crime_reference(client: TestClient) -> None:
    register(client)
    incident = log_incident(client)
    first = record_police_report(
        client, crime_reference="CR/1/26", reported_at=at(1), incident_ids=[incident["id"]]
    )
    record_police_report(
        client, crime_reference="CR/2/26", reported_at=at(2), incident_ids=[incident["id"]]
    )
    assert _incident(client, incident)["crime_references"] == ["CR/1/26", "CR/2/26"]

    withdraw(client, _url(first), "Wrong reference")

    assert _incident(client, incident)["crime_references"] == ["CR/2/26"]
    assert timeline(client, kinds="incident")[0]["data"]["crime_references"] == ["CR/2/26"]


def test_amending_the_links_moves_the_crime_reference(client: TestClient) -> None:
    register(client)
    first, second = log_incident(client, occurred_at=at(-1)), log_incident(client)
    report = record_police_report(client, incident_ids=[first["id"]])

    response = client.patch(_url(report), json={"incident_ids": [second["id"]]})

    assert response.status_code == 200, response.text
    assert response.json()["incident_ids"] == [second["id"]]
    assert response.json()["revision"] == 2
    assert _incident(client, first)["crime_references"] == []
    assert _incident(client, second)["crime_references"] == ["CR/123456/26"]
    assert [r["incident_ids"] for r in revisions(client, _url(report))] == [
        [first["id"]],
        [second["id"]],
    ]


def test_linking_another_victims_incident_is_refused_and_nothing_is_saved(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    alices = log_incident(alice)
    mallorys = log_incident(mallory)

    response = mallory.post(
        POLICE_REPORTS, json=police_report_body(incident_ids=[mallorys["id"], alices["id"]])
    )

    _validation_problem(response, "incident_ids")
    assert alices["description"] not in response.text
    assert _all_reports(mallory) == []
    assert _actions(mallory) == ["account.created", "incident.created"]
    assert _incident(alice, alices)["crime_references"] == []
    assert _incident(mallory, mallorys)["crime_references"] == []


def test_linking_another_victims_incident_on_amendment_is_refused(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    alices = log_incident(alice)
    report = record_police_report(mallory)

    response = mallory.patch(_url(report), json={"incident_ids": [alices["id"]]})

    _validation_problem(response, "incident_ids")
    assert read(mallory, _url(report)) == report
    assert _incident(alice, alices)["crime_references"] == []


def test_linking_an_incident_that_does_not_exist_is_refused(client: TestClient) -> None:
    register(client)
    body = police_report_body(incident_ids=[str(uuid.uuid4())])
    _validation_problem(client.post(POLICE_REPORTS, json=body), "incident_ids")
    assert _all_reports(client) == []


# Validation


INVALID_REPORTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown method", {"method": "carrier_pigeon"}, "method"),
    ("no method", {"method": MISSING}, "method"),
    ("no time", {"reported_at": MISSING}, "reported_at"),
    ("naive time", {"reported_at": "2026-10-01T21:30:00"}, "reported_at"),
    ("future time", {"reported_at": "2099-01-01T00:00:00+00:00"}, "reported_at"),
    ("empty crime reference", {"crime_reference": ""}, "crime_reference"),
    ("blank crime reference", {"crime_reference": "   "}, "crime_reference"),
    ("crime reference too long", {"crime_reference": "R" * 65}, "crime_reference"),
    ("force too long", {"force": "f" * 201}, "force"),
    ("officer too long", {"officer": "o" * 201}, "officer"),
    ("notes too long", {"notes": "n" * 10_001}, "notes"),
    ("NUL in notes", {"notes": "a\x00b"}, "notes"),
    ("NUL in crime reference", {"crime_reference": "CR/1\x00"}, "crime_reference"),
    ("control character in officer", {"officer": "PC\x08 Patel"}, "officer"),
    ("not an incident id", {"incident_ids": ["yesterday"]}, "incident_ids"),
    ("unknown field", {"station": "Parkside"}, "station"),
]


@pytest.mark.parametrize(
    ("changes", "field"),
    [(changes, field) for _, changes, field in INVALID_REPORTS],
    ids=[name for name, _, _ in INVALID_REPORTS],
)
def test_invalid_reports_are_refused_and_nothing_is_saved(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    register(client)
    body = {k: v for k, v in (police_report_body() | changes).items() if v is not MISSING}
    _validation_problem(client.post(POLICE_REPORTS, json=body), field)
    assert _all_reports(client) == []
    assert _actions(client) == ["account.created"]


# Offline-safe creates


def test_repeating_a_create_returns_the_saved_report(client: TestClient) -> None:
    register(client)
    first, second = log_incident(client, occurred_at=at(-1)), log_incident(client)
    body = police_report_body(id=str(uuid.uuid4()), incident_ids=[first["id"], second["id"]])

    created = client.post(POLICE_REPORTS, json=body)
    again = client.post(
        POLICE_REPORTS,
        json=body
        | {"incident_ids": [second["id"], first["id"]], "crime_reference": "CR/123456/26 "},
    )

    assert created.status_code == 201, created.text
    assert again.status_code == 200, again.text
    assert again.json() == created.json()
    assert len(_all_reports(client)) == 1


def test_repeating_a_create_after_an_amendment_returns_the_current_report(
    client: TestClient,
) -> None:
    register(client)
    body = police_report_body(id=str(uuid.uuid4()))
    client.post(POLICE_REPORTS, json=body)
    amended = client.patch(f"{POLICE_REPORTS}/{body['id']}", json={"officer": "DC Khan"}).json()

    again = client.post(POLICE_REPORTS, json=body)

    assert again.status_code == 200, again.text
    assert again.json() == amended


def test_the_same_id_with_different_content_is_a_conflict(client: TestClient) -> None:
    register(client)
    body = police_report_body(id=str(uuid.uuid4()))
    report = client.post(POLICE_REPORTS, json=body).json()

    assert_problem(client.post(POLICE_REPORTS, json=body | {"crime_reference": "CR/9/26"}), 409)
    assert read(client, _url(report)) == report


def test_another_victims_id_is_a_conflict_that_reveals_nothing(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    report = record_police_report(alice, id=str(uuid.uuid4()))

    response = mallory.post(POLICE_REPORTS, json=police_report_body(id=report["id"]))

    assert_problem(response, 409)
    assert "Patel" not in response.text
    assert read(alice, _url(report)) == report
    assert _all_reports(mallory) == []


# Amending and withdrawing


def test_an_amendment_keeps_every_revision(client: TestClient) -> None:
    user = register(client, display_name="Robin")
    report = record_police_report(client)

    response = client.patch(_url(report), json={"crime_reference": " cr/123456/26 ", "notes": None})

    assert response.status_code == 200, response.text
    assert response.json()["crime_reference"] == "cr/123456/26"
    assert response.json()["notes"] is None
    first, second = revisions(client, _url(report))
    assert (first["revision"], first["crime_reference"], first["notes"]) == (
        1,
        "CR/123456/26",
        report["notes"],
    )
    assert (second["revision"], second["crime_reference"], second["notes"]) == (
        2,
        "cr/123456/26",
        None,
    )
    assert second["by"] == {"id": user["id"], "display_name": "Robin"}


def test_an_amendment_that_changes_nothing_makes_no_revision(client: TestClient) -> None:
    register(client)
    report = record_police_report(client)
    response = client.patch(_url(report), json={"officer": " PC Patel ", "incident_ids": []})
    assert response.status_code == 200, response.text
    assert response.json() == report
    assert len(revisions(client, _url(report))) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reported_at": None}, "reported_at"),
        ({"method": None}, "method"),
        ({"incident_ids": None}, "incident_ids"),
        ({"method": "telegram"}, "method"),
        ({"crime_reference": ""}, "crime_reference"),
        ({"force": "f" * 201}, "force"),
    ],
)
def test_an_invalid_amendment_is_refused_and_nothing_changes(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    register(client)
    report = record_police_report(client)
    _validation_problem(client.patch(_url(report), json=changes), field)
    assert read(client, _url(report)) == report


def test_withdrawal_hides_the_report_keeps_it_and_is_final(client: TestClient) -> None:
    register(client)
    report = record_police_report(client)

    response = withdraw(client, _url(report), "Recorded on the wrong account")

    assert response.status_code == 200, response.text
    assert response.json()["withdrawn"] is True
    assert response.json()["withdrawn_reason"] == "Recorded on the wrong account"
    assert read(client, POLICE_REPORTS)["items"] == []
    assert timeline(client) == []
    assert [r["id"] for r in _all_reports(client)] == [report["id"]]
    assert [i["id"] for i in timeline(client, include_withdrawn="true")] == [report["id"]]
    assert_problem(withdraw(client, _url(report), "Again"), 409)
    assert_problem(client.patch(_url(report), json={"officer": "DC Khan"}), 409)
    assert_problem(withdraw(client, _url(record_police_report(client)), None), 422)
    assert _actions(client).count("police_report.withdrawn") == 1
