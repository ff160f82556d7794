"""Amendments of every kind in the pack: each earlier version in timeline.json, and in the PDF
an Amended line saying when, by whom and what changed, for incidents, police reports, impact
notes and evidence alike."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ClientFactory
from tests.factories.evidence import EVIDENCE, text_note, upload_evidence
from tests.factories.exports import export
from tests.factories.records import (
    IMPACT_NOTES,
    POLICE_REPORTS,
    log_incident,
    record_police_report,
    write_impact_note,
)
from tests.factories.sharing import signed_in_victim

AMENDED_AT = r"\d\d \w{3} \d{4} \d\d:\d\d (GMT|BST)"


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    client = signed_in_victim(make_client, display_name="Robin Ashworth")
    incident = log_incident(client, occurred_at="2026-08-03T22:15:00+01:00")
    report = record_police_report(
        client, reported_at="2026-08-04T10:00:00+01:00", incident_ids=[incident["id"]]
    )
    note = write_impact_note(
        client, noted_at="2026-08-20T21:00:00+01:00", description="I sleep badly."
    )
    kept = upload_evidence(client, text_note(), filename="notes.txt", description="Notes.")
    for url, change in (
        (f"{IMPACT_NOTES}/{note['id']}", {"description": "I sleep badly and wake at 3."}),
        (f"{IMPACT_NOTES}/{note['id']}", {"areas": ["sleep", "health"]}),
        (f"{EVIDENCE}/{kept['id']}", {"description": "Notes written that night."}),
        (f"{POLICE_REPORTS}/{report['id']}", {"officer": "PC Dunmore"}),
    ):
        response = client.patch(url, json=change)
        assert response.status_code == 200, response.text
    return client


def test_timeline_json_has_every_version_of_every_kind(victim: TestClient) -> None:
    items = json.loads(export(victim).members["timeline.json"])["items"]
    by_kind = {item["kind"]: item for item in items}
    note = by_kind["impact_note"]
    assert [r["revision"] for r in note["revisions"]] == [1, 2, 3]
    assert [r["description"] for r in note["revisions"]] == [
        "I sleep badly.",
        "I sleep badly and wake at 3.",
        "I sleep badly and wake at 3.",
    ]
    assert note["revisions"][2]["areas"] == ["sleep", "health"]
    evidence = by_kind["evidence"]
    assert [r["description"] for r in evidence["revisions"]] == [
        "Notes.",
        "Notes written that night.",
    ]
    assert [r["revision"] for r in by_kind["police_report"]["revisions"]] == [1, 2]
    assert by_kind["incident"]["revisions"] == []  # never amended


def test_the_pdf_says_when_each_amendment_was_made_and_what_it_changed(
    victim: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "timeline.pdf"
    path.write_bytes(export(victim).members["timeline.pdf"])
    text = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert re.search(
        rf"Amended {AMENDED_AT} by Robin Ashworth: description changed; {AMENDED_AT} by "
        r"Robin Ashworth: areas affected changed\. Every version is in timeline\.json\.",
        text,
    ), text
    assert re.search(rf"Amended {AMENDED_AT} by Robin Ashworth: officer changed\.", text)
    assert re.search(rf"Amended {AMENDED_AT} by Robin Ashworth: description changed\.", text)
    assert text.count("Amended ") == 3  # the incident was never amended
