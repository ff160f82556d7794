"""timeline.csv: every field of every item, quoted as RFC 4180 says, and safe in a spreadsheet.

RFC 4180 ("Common Format and MIME Type for Comma-Separated Values (CSV) Files") is what
spreadsheets read: records end in CRLF, every record has the same fields as the header, a field
holding a comma, a double quote or a line break is enclosed in double quotes, and a double
quote inside one is doubled. A cell beginning with = + - @ tab or CR could be run as a formula
(CSV injection), so such cells begin with an apostrophe.
"""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from app.export.timeline_csv import COLUMNS, safe_cell
from tests.conftest import ClientFactory
from tests.factories.evidence import text_note, upload_evidence
from tests.factories.exports import csv_rows, export
from tests.factories.records import (
    log_incident,
    record_police_report,
    write_impact_note,
)
from tests.factories.sharing import signed_in_victim

HYPERLINK = '=HYPERLINK("http://x","y")'
AWKWARD = 'He said "you\'ll see", then left,\r\nslamming the gate.'


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    return signed_in_victim(make_client, display_name="Robin Ashworth")


def test_a_formula_in_a_description_is_written_as_text(victim: TestClient) -> None:
    """The cell a spreadsheet reads is the description with an apostrophe before it, quoted
    and with its double quotes doubled as RFC 4180 section 2 (rules 5 to 7) requires."""
    log_incident(victim, occurred_at="2026-08-03T22:15:00+01:00", description=HYPERLINK)
    raw = export(victim).members["timeline.csv"]
    assert b'"\'=HYPERLINK(""http://x"",""y"")"' in raw
    assert b",=HYPERLINK" not in raw and b',"=HYPERLINK' not in raw
    (row,) = [r for r in csv_rows(export(victim)) if r["kind"] == "incident"]
    assert row["description"] == "'" + HYPERLINK


def test_every_cell_a_spreadsheet_could_run_begins_with_an_apostrophe(
    victim: TestClient,
) -> None:
    incident = log_incident(
        victim,
        occurred_at="2026-08-03T22:15:00+01:00",
        description="+44 7700 900123 rang eleven times",
        location="@his_account on Instagram",
        witnesses="-none-",
        feelings="=1+1",
    )
    record_police_report(
        victim,
        reported_at="2026-08-04T10:00:00+01:00",
        officer="@PC_Dunmore",
        notes="-",
        incident_ids=[incident["id"]],
    )
    rows = csv_rows(export(victim))
    incident_row = next(r for r in rows if r["kind"] == "incident")
    assert incident_row["description"] == "'+44 7700 900123 rang eleven times"
    assert incident_row["location"] == "'@his_account on Instagram"
    assert incident_row["witnesses"] == "'-none-"
    assert incident_row["feelings"] == "'=1+1"
    report_row = next(r for r in rows if r["kind"] == "police_report")
    assert report_row["officer"] == "'@PC_Dunmore"
    assert report_row["notes"] == "'-"
    # No cell anywhere begins with what a spreadsheet could run.
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_neutralises_each_formula_lead(lead: str) -> None:
    assert safe_cell(f"{lead}SUM(A1:A9)") == f"'{lead}SUM(A1:A9)"


@pytest.mark.parametrize("value", ["", "He waited.", "2026-08-03T21:15:00Z", "a=b", " =x"])
def test_safe_cell_leaves_other_values_alone(value: str) -> None:
    assert safe_cell(value) == value


def test_the_file_is_rfc_4180(victim: TestClient) -> None:
    """RFC 4180 section 2: CRLF after every record (rule 1), the same number of fields in
    every record as in the header (rule 4), a field with a comma, quote or line break in double
    quotes with inner quotes doubled (rules 6 and 7), and the values read back exactly."""
    log_incident(victim, occurred_at="2026-08-03T22:15:00+01:00", description=AWKWARD)
    write_impact_note(victim, noted_at="2026-08-20T21:00:00+01:00")
    raw = export(victim).members["timeline.csv"]
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert text.endswith("\r\n")
    assert '"He said ""you\'ll see"", then left,\r\nslamming the gate."' in text
    # Take the quoted line break out: every other line break is a record's CRLF.
    unquoted = text.replace(AWKWARD.replace('"', '""'), "")
    assert "\n" not in unquoted.replace("\r\n", "")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == list(COLUMNS)
    assert all(len(record) == len(COLUMNS) for record in records)
    (row,) = [r for r in csv_rows(export(victim)) if r["kind"] == "incident"]
    assert row["description"] == AWKWARD


def test_every_field_of_every_kind_has_its_column(victim: TestClient) -> None:
    incident = log_incident(
        victim,
        occurred_at="2026-08-03T22:15:00+01:00",
        occurred_until="2026-08-03T22:40:00+01:00",
        location="Cambridge railway station",
        channel="in_person",
        behaviours=["following", "watching"],
        description="He followed me from the station.",
        witnesses="My neighbour Mrs Okafor",
        feelings="Shaking all the way home.",
    )
    record_police_report(
        victim,
        crime_reference="CR/123456/26",
        reported_at="2026-08-04T10:00:00+01:00",
        method="non_emergency_101",
        force="Cambridgeshire Constabulary",
        officer="PC Dunmore",
        notes="Took a statement.",
        incident_ids=[incident["id"]],
    )
    write_impact_note(
        victim,
        noted_at="2026-08-20T21:00:00+01:00",
        areas=["sleep", "changed_routine"],
        description="I no longer take the train.",
    )
    kept = upload_evidence(
        victim,
        text_note(),
        filename="my notes.txt",
        description="Written that night.",
        incident_ids=[incident["id"]],
    )
    rows = {row["kind"]: row for row in csv_rows(export(victim))}
    incident_row = rows["incident"]
    assert incident_row["at"] == "2026-08-03T21:15:00Z"
    assert incident_row["uk_time"] == "03 Aug 2026 22:15 BST"
    assert incident_row["until_uk_time"] == "03 Aug 2026 22:40 BST"
    assert incident_row["behaviours"] == "following;watching"
    assert incident_row["channel"] == "in_person"
    assert incident_row["location"] == "Cambridge railway station"
    assert incident_row["witnesses"] == "My neighbour Mrs Okafor"
    assert incident_row["feelings"] == "Shaking all the way home."
    assert incident_row["crime_references"] == "CR/123456/26"
    assert incident_row["evidence_ids"] == kept["id"]
    assert incident_row["exhibits"] == rows["evidence"]["exhibit"] != ""
    assert incident_row["recorded_uk_time"].endswith(("GMT", "BST"))
    assert incident_row["revision"] == "1"
    report_row = rows["police_report"]
    assert report_row["force"] == "Cambridgeshire Constabulary"
    assert report_row["location"] == ""  # the force is not a location
    assert report_row["officer"] == "PC Dunmore"
    assert report_row["report_method"] == "non_emergency_101"
    assert report_row["notes"] == "Took a statement."
    assert report_row["incident_ids"] == incident["id"]
    note_row = rows["impact_note"]
    assert note_row["impact_areas"] == "sleep;changed_routine"
    assert note_row["description"] == "I no longer take the train."
    evidence_row = rows["evidence"]
    assert evidence_row["original_filename"] == "my notes.txt"
    assert evidence_row["media_type"] == "text/plain"
    assert evidence_row["size"] == str(len(text_note()))
    assert evidence_row["sha256"] == kept["sha256"]
    assert evidence_row["file"].startswith("evidence/")
    assert evidence_row["captured_at"] == ""
    assert evidence_row["capture_note"] == "no capture time in the file"
    assert evidence_row["uploaded_uk_time"].endswith(("GMT", "BST"))
    assert evidence_row["incident_ids"] == incident["id"]
