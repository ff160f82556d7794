"""Times in the pack: UK time named BST or GMT wherever a person reads one, UTC for software.

First app/export/times.py on its own (a summer and a winter date, the night the clocks go back
when 01:30 happens twice, the night they go forward when it never happens), then a pack read as
an officer reads it: pdftotext on timeline.pdf, the CSV, the JSON and README.txt.
"""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.export.times import short_zone_time, utc_instant, wall_time_in_zone, zone_time
from tests.conftest import ClientFactory
from tests.factories.evidence import PhotoClaims, jpeg_photo, text_note, upload_evidence
from tests.factories.exports import csv_rows, export
from tests.factories.records import log_incident, record_police_report, write_impact_note
from tests.factories.sharing import signed_in_victim

# The last Sunday of October 2026: at 02:00 BST the clocks go back to 01:00 GMT.
CLOCKS_BACK = "2026-10-25"
# The last Sunday of March 2026: at 01:00 GMT the clocks go forward to 02:00 BST.
CLOCKS_FORWARD = "2026-03-29"


def test_a_summer_time_is_bst() -> None:
    moment = datetime(2026, 8, 3, 21, 15, tzinfo=UTC)
    assert zone_time(moment) == "Mon 03 Aug 2026, 22:15 BST"
    assert short_zone_time(moment) == "03 Aug 2026 22:15 BST"


def test_a_winter_time_is_gmt() -> None:
    moment = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    assert zone_time(moment) == "Thu 03 Dec 2026, 14:05 GMT"


def test_the_two_0130s_of_the_night_the_clocks_go_back_are_told_apart() -> None:
    first = datetime.fromisoformat(f"{CLOCKS_BACK}T00:30:00+00:00")
    second = datetime.fromisoformat(f"{CLOCKS_BACK}T01:30:00+00:00")
    assert zone_time(first) == (
        "Sun 25 Oct 2026, 01:30 BST, the first time that hour, before the clocks went back"
    )
    assert zone_time(second) == (
        "Sun 25 Oct 2026, 01:30 GMT, the second time that hour, after the clocks went back"
    )
    # Either side of the repeated hour, nothing needs saying.
    assert zone_time(datetime.fromisoformat(f"{CLOCKS_BACK}T02:30:00+00:00")).endswith("02:30 GMT")
    assert zone_time(datetime.fromisoformat("2026-10-24T23:30:00+00:00")).endswith("00:30 BST")


def test_a_file_time_with_no_zone_is_read_as_uk_time() -> None:
    summer = wall_time_in_zone(datetime(2026, 8, 1, 7, 5))
    assert utc_instant(summer.instant) == "2026-08-01T06:05:00Z"
    assert summer.note == ""
    winter = wall_time_in_zone(datetime(2026, 12, 1, 7, 5, tzinfo=UTC))
    assert utc_instant(winter.instant) == "2026-12-01T07:05:00Z"


def test_a_file_time_in_the_repeated_hour_is_read_as_the_first_and_says_so() -> None:
    read = wall_time_in_zone(datetime.fromisoformat(f"{CLOCKS_BACK}T01:30:00"))
    assert utc_instant(read.instant) == f"{CLOCKS_BACK}T00:30:00Z"
    assert "happened twice" in read.note and "BST" in read.note


def test_a_file_time_the_clocks_skipped_says_so() -> None:
    read = wall_time_in_zone(datetime.fromisoformat(f"{CLOCKS_FORWARD}T01:30:00"))
    assert utc_instant(read.instant) == f"{CLOCKS_FORWARD}T01:30:00Z"
    assert "skipped" in read.note
    assert zone_time(read.instant).endswith("02:30 BST")


# A pack, read as the officer reads it.

AUGUST_PHOTO = "photo taken in August.jpg"
UNDATED_FILE = "my notes.txt"


@pytest.fixture
def victim(make_client: ClientFactory) -> TestClient:
    client = signed_in_victim(make_client, display_name="Robin Ashworth")
    summer = log_incident(
        client,
        occurred_at="2026-08-03T22:15:00+01:00",
        description="Followed from the station.",
    )
    log_incident(
        client,
        occurred_at=f"{CLOCKS_BACK}T00:30:00Z",
        description="First call in the night.",
    )
    log_incident(
        client,
        occurred_at=f"{CLOCKS_BACK}T01:30:00Z",
        description="Second call in the night.",
    )
    winter = log_incident(
        client,
        occurred_at="2026-11-20T18:00:00+00:00",
        description="Waiting by the gate.",
    )
    record_police_report(
        client, reported_at="2026-11-21T09:30:00Z", incident_ids=[summer["id"], winter["id"]]
    )
    write_impact_note(client, noted_at="2026-08-20T21:00:00+01:00")
    upload_evidence(
        client,
        jpeg_photo(PhotoClaims(taken="2026:08:03 07:05:00", offset=None)),
        filename=AUGUST_PHOTO,
        incident_ids=[summer["id"]],
    )
    upload_evidence(client, text_note(), filename=UNDATED_FILE, incident_ids=[winter["id"]])
    return client


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext gives it, the tool an officer is likely to have."""
    path = tmp_path / "timeline.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


# A clock time (22:15) not followed by the zone that names it.
UNNAMED_TIME = re.compile(r"\b\d{2}:\d{2}\b(?! (BST|GMT)\b)")


def test_every_time_in_the_pdf_names_bst_or_gmt(victim: TestClient, tmp_path: Path) -> None:
    text = pdftotext(export(victim).members["timeline.pdf"], tmp_path)
    assert "Mon 03 Aug 2026, 22:15 BST" in text
    assert "Fri 20 Nov 2026, 18:00 GMT" in text
    assert "01:30 BST, the first time that hour, before the clocks went back" in text
    assert "01:30 GMT, the second time that hour, after the clocks went back" in text
    assert "UTC" not in text
    assert not UNNAMED_TIME.findall(text), UNNAMED_TIME.findall(text)[:5]
    # The pack's own generation time too.
    assert re.search(r"Generated \d{2} \w{3} \d{4} \d{2}:\d{2} (BST|GMT)", text)


def test_a_photo_with_no_zone_in_its_exif_is_read_as_uk_time(
    victim: TestClient, tmp_path: Path
) -> None:
    pack = export(victim)
    text = pdftotext(pack.members["timeline.pdf"], tmp_path)
    assert "Captured Mon 03 Aug 2026, 07:05 BST, as the file itself claims" in text
    assert "the file gives no time zone, so it is read as UK time" in text
    items = json.loads(pack.members["timeline.json"])["items"]
    photo = next(i for i in items if i["data"].get("original_filename") == AUGUST_PHOTO)
    assert photo["data"]["captured_at"] == "2026-08-03T06:05:00Z"
    assert photo["data"]["capture_note"] == (
        "the file gives no time zone, so it is read as UK time"
    )
    assert photo["at"] == "2026-08-03T06:05:00Z"
    assert photo["uk_time"] == "03 Aug 2026 07:05 BST"
    # Placed before the incident of 22:15 BST that day, not an hour later.
    assert any(path.startswith("evidence/RA-1-2026-08-03-") for path in pack.members)


def test_a_file_with_no_capture_time_says_so_and_sits_with_its_incident(
    victim: TestClient, tmp_path: Path
) -> None:
    pack = export(victim)
    text = pdftotext(pack.members["timeline.pdf"], tmp_path)
    assert re.search(
        r"Fri 20 Nov 2026, 18:00 GMT \(the time of its incident\) · Evidence Exhibit RA/2 "
        rf"{UNDATED_FILE}",
        text,
    ), text
    assert re.search(
        r"Captured no capture time in the file; uploaded \d{2} \w{3} \d{4} \d\d:\d\d GMT; "
        r"placed with the incident it belongs to",
        text,
    )
    items = json.loads(pack.members["timeline.json"])["items"]
    undated = next(i for i in items if i["data"].get("original_filename") == UNDATED_FILE)
    assert undated["at"] == "2026-11-20T18:00:00Z"
    assert undated["data"]["captured_at"] is None
    kinds = [i["kind"] for i in items]
    # Right after the winter incident and before the police report of the next morning.
    assert kinds[kinds.index("police_report") - 1] == "evidence"


def test_the_csv_gives_the_utc_instant_and_the_uk_time(victim: TestClient) -> None:
    rows = csv_rows(export(victim))
    summer = next(r for r in rows if r["description"] == "Followed from the station.")
    assert summer["at"] == "2026-08-03T21:15:00Z"
    assert summer["uk_time"] == "03 Aug 2026 22:15 BST"
    second = next(r for r in rows if r["description"] == "Second call in the night.")
    assert second["uk_time"].startswith("25 Oct 2026 01:30 GMT, the second time that hour")
    report = next(r for r in rows if r["kind"] == "police_report")
    assert report["uk_time"] == "21 Nov 2026 09:30 GMT"


def test_the_readme_gives_the_generation_time_in_uk_time(victim: TestClient) -> None:
    readme = export(victim).members["README.txt"].decode()
    assert re.search(r"at \d{2} \w{3} \d{4} \d{2}:\d{2} (BST|GMT) by", readme)
    assert "UK time (Europe/London)" in " ".join(readme.split())


def test_the_zone_is_found_without_the_systems_zone_files() -> None:
    """A slim container image may have no /usr/share/zoneinfo: the tzdata package, pinned in
    requirements/app.lock, then provides Europe/London (PYTHONTZPATH empty hides the system's)."""
    script = (
        "from datetime import UTC, datetime\n"
        "from app.export.times import zone_time\n"
        "print(zone_time(datetime(2026, 8, 3, 21, 15, tzinfo=UTC)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONTZPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Mon 03 Aug 2026, 22:15 BST"
