"""The PDF's first page: why this is stalking, counted under the law's headings (s.2A(3) of
the Protection from Harassment Act 1997 for what was done, s.4A for its effect) and the FOUR
pattern, with escalation by month, the firsts and every crime reference with its date. Read
with pdftotext, as an officer reads it.
"""

import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ClientFactory
from tests.factories.exports import export
from tests.factories.records import log_incident, record_police_report, write_impact_note
from tests.factories.sharing import signed_in_victim

# (occurred_at, behaviours): August quiet, September busier, October every few days.
INCIDENTS = [
    ("2026-08-03T22:15:00+01:00", ["following"]),
    ("2026-08-24T19:00:00+01:00", ["contacting"]),
    ("2026-09-02T23:05:00+01:00", ["contacting"]),
    ("2026-09-03T23:30:00+01:00", ["contacting", "gifts"]),
    ("2026-09-04T07:40:00+01:00", ["turning_up"]),
    ("2026-09-14T19:20:00+01:00", ["gifts", "threats"]),
    ("2026-10-02T02:10:00+01:00", ["watching", "property"]),
    ("2026-10-05T21:10:00+01:00", ["publishing", "threats"]),
    ("2026-10-08T08:00:00+01:00", ["third_parties", "monitoring"]),
    ("2026-10-11T18:00:00+01:00", ["loitering", "order_breach"]),
]


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    client = signed_in_victim(make_client, display_name="Robin Ashworth")
    ids = [
        log_incident(client, occurred_at=at, behaviours=behaviours, description=f"Incident {n}")[
            "id"
        ]
        for n, (at, behaviours) in enumerate(INCIDENTS, start=1)
    ]
    record_police_report(
        client,
        crime_reference="CR/111/26",
        reported_at="2026-09-05T10:00:00+01:00",
        method="non_emergency_101",
        incident_ids=ids[:5],
    )
    record_police_report(
        client,
        crime_reference="CR/222/26",
        reported_at="2026-10-12T09:30:00+01:00",
        method="emergency_999",
        incident_ids=ids[5:],
    )
    write_impact_note(client, noted_at="2026-09-15T21:00:00+01:00", areas=["fear_of_violence"])
    write_impact_note(
        client, noted_at="2026-10-06T21:00:00+01:00", areas=["fear_of_violence", "sleep"]
    )
    write_impact_note(client, noted_at="2026-10-09T21:00:00+01:00", areas=["changed_routine"])
    return client


def first_pages(pdf: bytes, tmp_path: Path) -> str:
    """The course of conduct's pages (it may run onto a second) before the chronology."""
    path = tmp_path / "timeline.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    text = result.stdout.split("Chronology")[0]
    return " ".join(text.split())


def test_the_first_page_sets_out_the_pattern(victim: TestClient, tmp_path: Path) -> None:
    text = first_pages(export(victim).members["timeline.pdf"], tmp_path)
    first_page = text.split("Page 1 of")[0]
    assert "Why this is stalking: the course of conduct" in first_page
    assert "Whether they amount to stalking is for the officer and the court." in first_page
    # FOUR, each with its facts.
    # Weeks from Monday 3 August to the week of Monday 5 October: ten, six with an incident.
    assert "Repeated 10 incidents on 10 days, in 6 of the 10 weeks from the first to the last" in (
        text
    )
    assert "Fixated behaviour of 12 kinds; Contacting the most often (3 incidents)" in text
    assert "Obsessive 4 incidents at night (10 pm to 6 am); the longest run 3 days in a row;" in (
        text
    )
    assert "the busiest week 3 incidents (from 31 Aug 2026)" in text
    assert "Unwanted reported to the police 2 times under 2 crime references; 1 incident" in text
    assert "recorded as a breach of an order; 3 notes on the harm it is doing" in text


def test_behaviours_are_counted_under_the_s2a3_headings(victim: TestClient, tmp_path: Path) -> None:
    text = first_pages(export(victim).members["timeline.pdf"], tmp_path)
    assert "What was done, under s.2A(3)" in text
    # pdftotext -layout keeps a table's rows on their lines (a wrapped cell continues below).
    for row in (
        "(a) following a person Following 1 1 03 Aug 2026 03 Aug 2026",
        "(b) contacting, or attempting to Contacting 3, Gifts 2, Through 5 24 Aug 2026 08 Oct 2026",
        "(e) loitering in any place Turning up 1, Loitering 1 2 04 Sep 2026 11 Oct 2026",
        "(g) watching or spying on a person Watching 1 1 02 Oct 2026 02 Oct 2026",
        "Other conduct: threats, breaches of Threats 2, Order breach 1 3 14 Sep 2026 11 Oct 2026",
    ):
        assert row in text, row


def test_escalation_firsts_and_crime_references(victim: TestClient, tmp_path: Path) -> None:
    text = first_pages(export(victim).members["timeline.pdf"], tmp_path)
    assert "Escalation: incidents per week" in text
    assert re.search(r"August 2026 2 Following 1, Contacting 1", text)
    assert "September 2026 4 Contacting 2, Gifts 2, Turning up 1, Threats 1" in text
    assert re.search(r"October 2026 4 ", text)
    for first, day in (
        ("First incident recorded", "03 Aug 2026"),
        ("First time turning up or loitering", "04 Sep 2026"),
        ("First report to the police", "05 Sep 2026"),
        ("First threat", "14 Sep 2026"),
        ("First breach of an order", "11 Oct 2026"),
    ):
        assert f"{first} {day}" in text, first
    assert "CR/111/26 05 Sep 2026 10:00 BST 101 call" in text
    assert "CR/222/26 12 Oct 2026 09:30 BST 999 call" in text


def test_the_effect_is_counted_under_s4a(victim: TestClient, tmp_path: Path) -> None:
    text = first_pages(export(victim).members["timeline.pdf"], tmp_path)
    assert "The effect on them, under s.4A" in text
    assert "Fear that violence will be used, Fear of violence 2 2 15 Sep 2026 06 Oct 2026" in text
    assert (
        "Substantial adverse effect on usual Sleep 1, Changed routine 1 2 06 Oct 2026 09 Oct 2026"
        in text
    )
