"""/api/v1/timeline: every kind of record in time order, with filters, search and keyset pages."""

import base64
import json
import uuid
from datetime import timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.services import search
from app.services.search import Plan
from tests.conftest import ClientFactory
from tests.factories.accounts import STRONG_PASSWORD, assert_problem, register
from tests.factories.advocates import sign_in_advocate
from tests.factories.evidence import EVIDENCE, jpeg_photo, upload_evidence
from tests.factories.records import (
    BASE,
    IMPACT_NOTES,
    INCIDENTS,
    POLICE_REPORTS,
    TIMELINE,
    at,
    instant,
    log_incident,
    read,
    record_police_report,
    timeline,
    walk,
    withdraw,
    write_impact_note,
)


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _found(client: TestClient, **params: Any) -> list[str]:
    return _ids(timeline(client, **params))


def _cursor(raw: Any) -> str:
    """A cursor made by hand, as someone tampering with one would."""
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.fixture(params=list(Plan))
def search_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Plan:
    """A search's plan follows how many records match (see app/services/search.py), and a
    test log is small, so its matches are always looked up. With no count few enough, every
    search walks the timeline instead: both plans must give the same answers."""
    plan: Plan = request.param
    if plan is Plan.WALK:
        monkeypatch.setattr(search, "FEW_MATCHES", -1)
    return plan


# Who may ask


def test_anonymous_gets_401(client: TestClient) -> None:
    assert_problem(client.get(TIMELINE), 401)


def test_an_advocate_gets_403(app: FastAPI, client: TestClient) -> None:
    sign_in_advocate(app, client)
    assert_problem(client.get(TIMELINE), 403)


@pytest.mark.usefixtures("search_plan")
def test_each_victim_sees_only_their_own_records(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    incident = log_incident(alice)
    note = write_impact_note(alice)
    report = record_police_report(alice, incident_ids=[incident["id"]])

    assert timeline(mallory, include_withdrawn="true") == []
    assert timeline(mallory, crime_reference="CR/123456/26") == []
    assert timeline(mallory, q="bike racks") == []
    assert set(_found(alice)) == {incident["id"], note["id"], report["id"]}


# Order


def test_every_kind_is_merged_in_time_order(client: TestClient) -> None:
    register(client)
    report = record_police_report(client, reported_at=at(3, offset_hours=1))
    first = log_incident(client, occurred_at=at(0, offset_hours=-5))
    note = write_impact_note(client, noted_at=at(2))
    second = log_incident(client, occurred_at=at(1, offset_hours=9))

    items = timeline(client)

    assert _ids(items) == [first["id"], second["id"], note["id"], report["id"]]
    assert [i["kind"] for i in items] == ["incident", "incident", "impact_note", "police_report"]
    assert [i["at"] for i in items] == [
        at(0, offset_hours=-5),
        at(1, offset_hours=9),
        at(2).replace("+00:00", "Z"),
        at(3, offset_hours=1),
    ]
    assert _found(client, order="desc") == _ids(items)[::-1]


def test_each_item_has_a_summary_and_the_record(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, behaviours=["threats", "turning_up"])
    note = write_impact_note(client, noted_at=at(1))
    report = record_police_report(client, reported_at=at(2), incident_ids=[incident["id"]])

    items = timeline(client)

    assert items[0] == {
        "kind": "incident",
        "id": incident["id"],
        "at": incident["occurred_at"],
        "summary": "Turning up, Threats: He was waiting by the bike racks when I came out.",
        "data": incident | {"crime_references": ["CR/123456/26"]},
    }
    assert items[1]["summary"] == (
        "How it is affecting me: I now take a different bus every day and sleep badly."
    )
    assert items[1]["data"] == note
    assert items[2]["summary"] == "Reported to police (CR/123456/26)"
    assert items[2]["data"] == report


def test_each_item_holds_its_record_as_the_records_own_endpoint_gives_it(
    client: TestClient,
) -> None:
    """Items are built straight from the tables; links (crime references of live reports,
    files, a report's incidents) must read as each kind's endpoint reads them."""
    register(client)
    incident = log_incident(client, occurred_at=at(0, offset_hours=2), behaviours=["gifts"])
    other = log_incident(client, occurred_at=at(1), location="Mill Lane")
    record_police_report(
        client,
        crime_reference="CR/1/26",
        reported_at=at(2),
        incident_ids=[other["id"], incident["id"]],
    )
    withdrawn = record_police_report(
        client, crime_reference="CR/2/26", reported_at=at(3), incident_ids=[incident["id"]]
    )
    withdraw(client, f"{POLICE_REPORTS}/{withdrawn['id']}")
    upload_evidence(client, jpeg_photo(), filename="door.jpg", incident_ids=[incident["id"]])
    write_impact_note(client, noted_at=at(4, offset_hours=-5))
    client.patch(f"{INCIDENTS}/{other['id']}", json={"witnesses": "Sam at number 4"})
    urls = {
        "incident": INCIDENTS,
        "impact_note": IMPACT_NOTES,
        "police_report": POLICE_REPORTS,
        "evidence": EVIDENCE,
    }

    items = timeline(client, include_withdrawn="true")

    assert {item["kind"] for item in items} == set(urls)
    for item in items:
        assert item["data"] == read(client, f"{urls[item['kind']]}/{item['id']}"), item["kind"]


def test_a_long_description_is_shortened_in_the_summary(client: TestClient) -> None:
    register(client)
    log_incident(client, behaviours=["contacting"], description="word " * 200)
    summary = timeline(client)[0]["summary"]
    assert summary.startswith("Contacting: word word")
    assert summary.endswith("…")
    assert len(summary) < 200


# Filters


def test_from_is_inclusive_and_to_is_exclusive(client: TestClient) -> None:
    register(client)
    ids = [log_incident(client, occurred_at=at(hours))["id"] for hours in range(4)]
    write_impact_note(client, noted_at=at(1.5))

    # The same instants written with another offset mean the same thing.
    found = _found(client, **{"from": at(1, offset_hours=2), "to": at(3), "kinds": "incident"})

    assert found == ids[1:3]
    assert _found(client, **{"from": at(3)}) == ids[3:]
    assert _found(client, to=at(0.5)) == ids[:1]


def test_kinds_narrow_the_timeline(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, occurred_at=at(0))
    note = write_impact_note(client, noted_at=at(1))
    report = record_police_report(client, reported_at=at(2))

    assert _found(client, kinds="incident") == [incident["id"]]
    assert _found(client, kinds="impact_note") == [note["id"]]
    assert _found(client, kinds="police_report,incident") == [incident["id"], report["id"]]
    assert _found(client, kinds=" impact_note , police_report ") == [note["id"], report["id"]]


def test_behaviours_keep_incidents_with_any_of_them(client: TestClient) -> None:
    register(client)
    threats = log_incident(client, occurred_at=at(0), behaviours=["threats"])
    both = log_incident(client, occurred_at=at(1), behaviours=["following", "threats"])
    following = log_incident(client, occurred_at=at(2), behaviours=["following"])
    log_incident(client, occurred_at=at(3), behaviours=["gifts"])
    write_impact_note(client)
    record_police_report(client)

    assert _found(client, behaviours="threats") == [threats["id"], both["id"]]
    assert _found(client, behaviours="following,threats") == [
        threats["id"],
        both["id"],
        following["id"],
    ]
    # "threats" must not match a code that merely contains it.
    assert _found(client, behaviours="third_parties") == []


def test_crime_reference_keeps_its_reports_and_linked_incidents(client: TestClient) -> None:
    register(client)
    linked = log_incident(client, occurred_at=at(0))
    log_incident(client, occurred_at=at(1))  # not linked
    write_impact_note(client, noted_at=at(2))
    report = record_police_report(
        client, crime_reference="CR/123456/26", reported_at=at(3), incident_ids=[linked["id"]]
    )
    record_police_report(client, crime_reference="CR/999/26", reported_at=at(4))

    expected = [linked["id"], report["id"]]
    assert _found(client, crime_reference="CR/123456/26") == expected
    assert _found(client, crime_reference="  cr/123456/26 ") == expected
    assert _found(client, crime_reference="CR/123456/26", kinds="incident") == [linked["id"]]
    assert _found(client, crime_reference="CR/123456") == []

    withdraw(client, f"{POLICE_REPORTS}/{report['id']}")
    assert _found(client, crime_reference="CR/123456/26") == []


@pytest.mark.usefixtures("search_plan")
def test_filters_combine(client: TestClient) -> None:
    register(client)
    match = log_incident(
        client, occurred_at=at(1), behaviours=["threats"], description="He threatened me"
    )
    log_incident(client, occurred_at=at(-5), behaviours=["threats"], description="Threatened")
    log_incident(client, occurred_at=at(2), behaviours=["gifts"], description="Threatened")
    log_incident(client, occurred_at=at(3), behaviours=["threats"], description="Flowers")

    found = _found(client, **{"from": at(0), "behaviours": "threats", "q": "threaten"})

    assert found == [match["id"]]


def test_withdrawn_records_show_only_when_asked_for(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, occurred_at=at(0))
    note = write_impact_note(client, noted_at=at(1))
    report = record_police_report(client, reported_at=at(2))
    for url in (
        f"{INCIDENTS}/{incident['id']}",
        f"{IMPACT_NOTES}/{note['id']}",
        f"{POLICE_REPORTS}/{report['id']}",
    ):
        assert withdraw(client, url).status_code == 200

    assert timeline(client) == []
    shown = timeline(client, include_withdrawn="true")
    assert _ids(shown) == [incident["id"], note["id"], report["id"]]
    assert all(item["data"]["withdrawn"] for item in shown)


@pytest.mark.parametrize(
    "params",
    [
        {"kinds": "incident,evidance"},
        {"kinds": "INCIDENT"},
        {"behaviours": "threats,stalking"},
        {"behaviours": "threats\x00"},
        {"from": at(2), "to": at(1)},
        {"from": at(1), "to": at(1)},
        {"from": "2026-10-01T21:30:00"},
        {"from": "0001-01-01T00:00:00+01:00"},
        {"to": "9999-12-31T23:59:00-01:00"},
        {"to": "yesterday"},
        {"order": "newest"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "not-a-cursor"},
        {"cursor": _cursor(["2026-10-01T21:30:00+00:00", "incident"])},
        {"cursor": _cursor(["2026-10-01T21:30:00", "incident", str(uuid.uuid4())])},
        {"cursor": _cursor(["2026-10-01T21:30:00+00:00", "incident", "not-a-uuid"])},
        {"cursor": _cursor({"at": "2026-10-01T21:30:00+00:00"})},
        {"cursor": _cursor("0001-01-01T00:00:00+01:00")},
        {"cursor": _cursor(["0001-01-01T00:00:00+01:00", "incident", str(uuid.uuid4())])},
        {"cursor": base64.urlsafe_b64encode(b"\xff\xfe[").decode()},
        {"q": "x" * 201},
    ],
)
def test_invalid_parameters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    register(client)
    log_incident(client)
    problem = assert_problem(client.get(TIMELINE, params=params), 422)
    assert problem["errors"]


@pytest.mark.parametrize("reference", ["CR/123456/26\x00", "CR/\x1b123456/26"])
def test_a_crime_reference_with_control_characters_is_422(
    client: TestClient, reference: str
) -> None:
    register(client)
    record_police_report(client)
    problem = assert_problem(client.get(TIMELINE, params={"crime_reference": reference}), 422)
    assert problem["errors"][0]["loc"] == ["query", "crime_reference"]


# Search


@pytest.mark.usefixtures("search_plan")
@pytest.mark.parametrize(
    ("field", "text", "query"),
    [
        ("description", "He left a dead bird on my doorstep.", "bird"),
        ("location", "Tesco car park, Newmarket Road", "newmarket"),
        ("witnesses", "Mrs Okafor from number 12", "Okafor"),
        ("feelings", "Terrified to open the front door", "terrified"),
    ],
)
def test_search_finds_words_in_what_an_incident_says(
    client: TestClient, field: str, text: str, query: str
) -> None:
    register(client)
    wanted = log_incident(client, **{field: text})
    log_incident(client, description="Nothing like it")
    assert _found(client, q=query) == [wanted["id"]]


@pytest.mark.usefixtures("search_plan")
def test_search_finds_words_in_notes_and_police_reports(client: TestClient) -> None:
    register(client)
    log_incident(client, description="A quiet day")
    note = write_impact_note(client, noted_at=at(1), description="I missed my sister's wedding")
    report = record_police_report(
        client, reported_at=at(2), notes="Told to call back about the doorbell camera footage"
    )
    by_officer = record_police_report(client, reported_at=at(3), officer="DC Abernathy")

    assert _found(client, q="wedding") == [note["id"]]
    assert _found(client, q="doorbell footage") == [report["id"]]
    assert _found(client, q="abernathy") == [by_officer["id"]]


@pytest.mark.usefixtures("search_plan")
def test_search_stems_english_words(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, description="He kept following me home from work")
    note = write_impact_note(client, noted_at=at(1), description="I have been followed twice")

    assert _found(client, q="followed") == [incident["id"], note["id"]]
    assert _found(client, q="follows") == [incident["id"], note["id"]]
    assert _found(client, q="FOLLOWING home") == [incident["id"]]


@pytest.mark.usefixtures("search_plan")
def test_search_needs_every_word(client: TestClient) -> None:
    register(client)
    both = log_incident(client, description="Red car outside the school")
    log_incident(client, description="Red scarf left on the gate")
    assert _found(client, q="red school") == [both["id"]]
    assert _found(client, q="red airport") == []


@pytest.mark.usefixtures("search_plan")
def test_search_does_not_find_another_victims_words(make_client: ClientFactory) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    log_incident(alice, description="Parcel of photographs at the hospital reception")
    log_incident(mallory, description="Nothing about it")
    assert timeline(mallory, q="photographs") == []
    assert timeline(mallory, q="hospital reception") == []


@pytest.mark.usefixtures("search_plan")
def test_search_follows_amendments_and_withdrawals(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, description="He rang the doorbell at midnight")
    url = f"{INCIDENTS}/{incident['id']}"
    client.patch(url, json={"description": "He knocked on the window at midnight"})

    assert _found(client, q="doorbell") == []
    assert _found(client, q="window") == [incident["id"]]

    withdraw(client, url)
    assert _found(client, q="window") == []
    assert _found(client, q="window", include_withdrawn="true") == [incident["id"]]


@pytest.mark.usefixtures("search_plan")
def test_the_search_index_follows_amendments_and_erasure(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    alice, bob = make_client(), make_client()
    register(alice)
    register(bob)
    incident = log_incident(alice, description="A blue van outside the school")
    alice.patch(f"{INCIDENTS}/{incident['id']}", json={"description": "A red car this time"})
    log_incident(bob, description="A blue van again")
    erased = bob.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})
    assert erased.status_code == 204, erased.text

    assert _found(alice, q="van") == []
    assert _found(alice, q="red car") == [incident["id"]]
    with db_engine.begin() as connection:
        documents = connection.execute(text("SELECT count(*) FROM search_documents")).scalar()
        assert documents == 1
        if db_engine.dialect.name == "sqlite":
            # FTS5 checks its index against the table it reads (an error if they differ).
            connection.execute(
                text(
                    "INSERT INTO search_documents_fts (search_documents_fts, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )


# Words the FTS engines would read as syntax; the first group holds only the record's words.
PLAIN_QUERIES = [
    '"bike',
    'bike"',
    '"bike racks"',
    "bike*",
    "(bike",
    "racks)",
    "-bike",
    "^bike",
    "bike & racks | !",
    "bike:*",
    "{bike}",
    "\x00bike",
]
# These have no word, or words the record lacks (which PostgreSQL may drop as stop words).
OTHER_QUERIES = [
    '"',
    "*",
    "'",
    "\\",
    "%",
    "_",
    "()",
    "NEAR(bike racks)",
    "NEAR(bike racks, 2)",
    "bike OR nothing",
    "bike AND racks",
    "bike NOT racks",
    "body:bike",
    "owner: bike",
    "kind:incident bike",
    "bike's",
]


@pytest.mark.usefixtures("search_plan")
@pytest.mark.parametrize("query", PLAIN_QUERIES + OTHER_QUERIES)
def test_search_syntax_is_plain_text(client: TestClient, query: str) -> None:
    register(client)
    bikes = log_incident(client, description="He was waiting by the bike racks")
    log_incident(client, description="Nothing like it")

    response = client.get(TIMELINE, params={"q": query})

    assert response.status_code == 200, response.text
    found = _ids(response.json()["items"])
    if query in PLAIN_QUERIES:
        assert found == [bikes["id"]]
    else:
        assert found in ([], [bikes["id"]])


def test_an_id_is_never_shared_between_records_of_different_kinds(
    make_client: ClientFactory,
) -> None:
    alice, mallory = make_client(), make_client()
    register(alice)
    register(mallory)
    incident = log_incident(alice, id=str(uuid.uuid4()), description="Broken wing mirror")

    # Alice's incident id tried for records of the other kinds, by Mallory and by Alice.
    for client in (mallory, alice):
        for url, body in ((IMPACT_NOTES, _note_body()), (POLICE_REPORTS, _report_body())):
            response = client.post(url, json={"id": incident["id"], **body})
            assert_problem(response, 409)
            assert "mirror" not in response.text

    assert _found(alice, q="mirror") == [incident["id"]]
    assert _found(alice) == [incident["id"]]
    assert timeline(mallory) == []


def _note_body() -> dict[str, Any]:
    return {"noted_at": at(), "areas": ["sleep"], "description": "Cannot sleep"}


def _report_body() -> dict[str, Any]:
    return {"reported_at": at(), "method": "online", "notes": "Reported online"}


# Keyset pagination


def _same_moment_log(client: TestClient) -> list[str]:
    """25 records of every kind at one instant (written with different offsets), with others
    before and after. Returns every id."""
    moment = BASE
    ids: list[str] = []
    for n in range(10):
        written = moment.astimezone(_zone(n)).isoformat()
        ids.append(log_incident(client, occurred_at=written, description=f"same {n}")["id"])
    for n in range(8):
        written = moment.astimezone(_zone(n)).isoformat()
        ids.append(write_impact_note(client, noted_at=written)["id"])
    for n in range(7):
        written = moment.astimezone(_zone(n)).isoformat()
        ids.append(record_police_report(client, reported_at=written)["id"])
    for hours in (-2, -1, 1, 2):
        ids.append(log_incident(client, occurred_at=at(hours))["id"])
    ids.append(write_impact_note(client, noted_at=at(-1))["id"])
    ids.append(record_police_report(client, reported_at=at(1))["id"])
    return ids


def _zone(n: int) -> timezone:
    return timezone(timedelta(hours=n - 4))


def _assert_in_time_order(items: list[dict[str, Any]], descending: bool = False) -> None:
    instants = [instant(item["at"]) for item in items]
    assert instants == sorted(instants, reverse=descending)


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 24, 25, 26])
def test_pages_walk_every_item_exactly_once_in_both_orders(client: TestClient, limit: int) -> None:
    register(client)
    ids = _same_moment_log(client)

    forwards = walk(client, TIMELINE, limit=limit)
    backwards = walk(client, TIMELINE, limit=limit, order="desc")

    assert sorted(_ids(forwards)) == sorted(ids)
    assert len(set(_ids(forwards))) == len(ids)
    assert _ids(backwards) == _ids(forwards)[::-1]
    _assert_in_time_order(forwards)
    _assert_in_time_order(backwards, descending=True)
    assert forwards == walk(client, TIMELINE, limit=200)


def test_pages_of_one_cross_kinds_sharing_a_timestamp(client: TestClient) -> None:
    register(client)
    incident = log_incident(client, occurred_at=at(0, offset_hours=2))
    note = write_impact_note(client, noted_at=at(0, offset_hours=-3))
    report = record_police_report(client, reported_at=at(0))

    forwards = walk(client, TIMELINE, limit=1)
    backwards = walk(client, TIMELINE, limit=1, order="desc")

    assert sorted(_ids(forwards)) == sorted([incident["id"], note["id"], report["id"]])
    assert {i["kind"] for i in forwards} == {"incident", "impact_note", "police_report"}
    assert _ids(backwards) == _ids(forwards)[::-1]
    first = read(client, TIMELINE, limit=1)
    assert len(first["items"]) == 1
    assert first["next_cursor"]


@pytest.mark.usefixtures("search_plan")
def test_pages_keep_their_filters(client: TestClient) -> None:
    register(client)
    ids = [
        log_incident(client, occurred_at=at(0), description=f"black van number {n}")["id"]
        for n in range(6)
    ]
    log_incident(client, occurred_at=at(0), description="a white car")
    write_impact_note(client, noted_at=at(0), description="the van again")

    found = walk(client, TIMELINE, limit=4, q="van", kinds="incident")

    assert sorted(_ids(found)) == sorted(ids)
    assert len(found) == 6


def test_a_cursor_from_one_order_used_for_the_other_does_not_fail(client: TestClient) -> None:
    register(client)
    for hours in range(4):
        log_incident(client, occurred_at=at(hours))
    cursor = client.get(TIMELINE, params={"limit": 2}).json()["next_cursor"]

    response = client.get(TIMELINE, params={"limit": 2, "cursor": cursor, "order": "desc"})

    assert response.status_code == 200, response.text
    _assert_in_time_order(response.json()["items"], descending=True)
