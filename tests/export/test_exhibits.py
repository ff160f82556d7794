"""Exhibit references and the case header: what lets an officer cite a pack's files in a
statement. Every original is an exhibit (the exporter's initials and a number, AH/1, AH/2, …,
or letters chosen at export), named by it in evidence/, the PDF, the CSV and the JSON; the PDF
is the exhibit after them, and every page of it says whose case, which crime reference and
which exhibit it is. Read back with pdftotext, page by page, as an officer would.
"""

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.export.content import initials
from tests.conftest import ClientFactory
from tests.factories.evidence import PhotoClaims, jpeg_photo, text_note, upload_evidence
from tests.factories.exports import csv_rows, export
from tests.factories.records import log_incident, record_police_report
from tests.factories.sharing import signed_in_victim

CRIME_REFERENCE = "CR/123456/26"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Alice Hart", "AH"),
        ("alice   hart", "AH"),
        ("Zoë Ní Bhriain", "ZNB"),
        ("Mary-Jane O'Neil", "MJO"),
        ("Ana María de la Cruz Pérez", "AMDL"),
        ("王小明", "EX"),  # no letters A to Z: "exhibit"
        ("", "EX"),
        (None, "EX"),
    ],
)
def test_initials(name: str | None, expected: str) -> None:
    assert initials(name) == expected


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    client = signed_in_victim(make_client, display_name="Alice Hart")
    incident = log_incident(
        client, occurred_at="2026-08-03T22:15:00+01:00", description="Followed from the station."
    )
    later = log_incident(
        client, occurred_at="2026-09-14T19:20:00+01:00", description="Dead roses on the step."
    )
    record_police_report(
        client,
        crime_reference=CRIME_REFERENCE,
        reported_at="2026-09-15T10:00:00+01:00",
        incident_ids=[incident["id"], later["id"]],
    )
    upload_evidence(
        client,
        jpeg_photo(PhotoClaims(taken="2026:08:03 22:20:00", offset="+01:00")),
        filename="station car park.jpg",
        incident_ids=[incident["id"]],
    )
    upload_evidence(client, text_note(), filename="roses.txt", incident_ids=[later["id"]])
    return client


def pdf_page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """Each page's text as pdftotext gives it (pages end in a form feed)."""
    path = tmp_path / "timeline.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return [" ".join(page.split()) for page in result.stdout.split("\f") if page.strip()]


def test_originals_are_exhibits_from_the_exporters_initials(victim: TestClient) -> None:
    pack = export(victim)
    assert pack.evidence_paths == [
        "evidence/AH-1-2026-08-03-station-car-park.jpg",
        f"evidence/AH-2-{pack.evidence_paths[1].split('-', 2)[2]}",
    ]
    assert pack.evidence_paths[1].endswith("-roses.txt")
    items = json.loads(pack.members["timeline.json"])["items"]
    files = [item["data"] for item in items if item["kind"] == "evidence"]
    assert [(f["exhibit"], f["original_filename"]) for f in files] == [
        ("AH/1", "station car park.jpg"),
        ("AH/2", "roses.txt"),
    ]
    rows = csv_rows(pack)
    assert [r["exhibit"] for r in rows if r["kind"] == "evidence"] == ["AH/1", "AH/2"]
    first = next(r for r in rows if r["description"] == "Followed from the station.")
    assert first["exhibits"] == "AH/1"
    manifest = json.loads(pack.members["manifest.json"])
    assert manifest["exhibits"] == {"prefix": "AH", "originals": 2, "chronology": "AH/3"}
    readme = " ".join(pack.members["README.txt"].decode().split())
    assert "exhibits AH/1 to AH/2" in readme
    assert "the chronology to read, exhibit AH/3" in readme


def test_the_pdf_cites_the_exhibits_and_every_page_carries_the_case_header(
    victim: TestClient, tmp_path: Path
) -> None:
    pages = pdf_page_texts(export(victim).members["timeline.pdf"], tmp_path)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert page.startswith(f"Alice Hart · Crime ref {CRIME_REFERENCE} Exhibit AH/3"), (
            number,
            page[:120],
        )
        assert f"Page {number} of {len(pages)}" in page
    text = " ".join(pages)
    assert "Exhibits AH/1" in text  # the incident cites its file
    assert "Exhibit AH/1 station car park.jpg" in text
    assert "Exhibit AH/2 roses.txt" in text
    index = pages[-1]
    assert "Evidence index" in index and "AH/1" in index and "AH/2" in index


def test_the_letters_and_the_case_label_can_be_chosen_at_export(
    victim: TestClient, tmp_path: Path
) -> None:
    pack = export(victim, exhibit_prefix="dc", case_label="Operation Elm")
    assert [p.split("/")[1][:4] for p in pack.evidence_paths] == ["DC-1", "DC-2"]
    pages = pdf_page_texts(pack.members["timeline.pdf"], tmp_path)
    assert all(
        page.startswith(f"Operation Elm · Crime ref {CRIME_REFERENCE} Exhibit DC/3")
        for page in pages
    )
    assert json.loads(pack.members["manifest.json"])["case"] == "Operation Elm"


def test_a_pack_filtered_by_crime_reference_names_that_reference(
    victim: TestClient, tmp_path: Path
) -> None:
    record_police_report(victim, crime_reference="CR/999/26", reported_at="2026-09-20T10:00:00Z")
    pages = pdf_page_texts(
        export(victim, crime_reference=CRIME_REFERENCE).members["timeline.pdf"], tmp_path
    )
    assert all(page.startswith(f"Alice Hart · Crime ref {CRIME_REFERENCE} ") for page in pages)
    everything = pdf_page_texts(export(victim).members["timeline.pdf"], tmp_path)
    assert everything[0].startswith(f"Alice Hart · Crime refs {CRIME_REFERENCE}, CR/999/26 ")


# The draft producing statement.


def test_the_draft_statement_produces_every_exhibit_with_its_hash(
    victim: TestClient, tmp_path: Path
) -> None:
    pack = export(victim)
    pages = pdf_page_texts(pack.members["statement-draft.pdf"], tmp_path)
    text = " ".join(pages)
    assert "WITNESS STATEMENT: DRAFT" in text
    assert "Statement of Alice Hart" in text
    assert "I shall be liable to prosecution" in text
    for number, page in enumerate(pages, start=1):
        assert "DRAFT: not signed." in page, number
        assert page.startswith(f"Alice Hart · Crime ref {CRIME_REFERENCE}"), number
    manifest = json.loads(pack.members["manifest.json"])
    sha256_of = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    for reference, path in zip(("AH/1", "AH/2"), pack.evidence_paths, strict=True):
        entry = text[text.index(f"{reference}: ") :]
        entry = entry[: entry.index("Kept at") + len("Kept at ") + len(path)]
        assert f"SHA-256 {sha256_of[path]}" in entry, reference
        assert f"Kept at {path}" in entry, reference
        assert "uploaded to Waymark by Alice Hart" in entry
    assert "AH/1: station car park.jpg" in text
    assert "Captured Mon 03 Aug 2026, 22:20 BST, as the file itself claims" in text
    assert "AH/3: timeline.pdf" in text
    assert f"SHA-256 {sha256_of['timeline.pdf']}" in text
