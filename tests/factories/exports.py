"""Small typed helpers for evidence packs: a realistic log kept through the API (incidents over
three months, police reports, impact notes, photos, video, a call log, an advocate's notes),
the pack read back member by member, a pack rewritten with one member changed, and
`waymark verify-pack` run on it."""

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, col, update
from typer.testing import CliRunner, Result

from app.cli import main as waymark
from app.models.advocate_note import AdvocateNote
from tests.factories.evidence import (
    EVIDENCE,
    PhotoClaims,
    call_log_csv,
    jpeg_photo,
    mp4_with_movie_header,
    png_screenshot,
    sha256_of,
    text_note,
    upload_evidence,
)
from tests.factories.records import (
    IMPACT_NOTES,
    INCIDENTS,
    log_incident,
    record_police_report,
    withdraw,
    write_impact_note,
)
from tests.factories.sharing import case_url, write_note

API = "/api/v1"
PACK = f"{API}/exports/pack"
SIGNING_KEY = f"{API}/signing-key"

# Every file the pack's folder holds besides the evidence.
PACK_FILES = frozenset(
    {
        "README.txt",
        "timeline.pdf",
        "statement-draft.pdf",
        "timeline.csv",
        "timeline.json",
        "audit.json",
        "manifest.json",
        "manifest.sig",
        "signing-key.pub",
        "SHA256SUMS",
        "SHA256SUMS.sig",
    }
)

CRIME_REFERENCE = "CR/123456/26"
OTHER_CRIME_REFERENCE = "CR/987654/26"
WITHDRAWN_MARKER = "WITHDRAWN-DUPLICATE-7741"


def case_pack_url(case_id: str) -> str:
    return case_url(case_id, "/exports/pack")


@dataclass(frozen=True)
class Kept:
    """An evidence file as the phone sent it, and the record the server made of it."""

    id: str
    content: bytes
    filename: str
    record: dict[str, Any]

    @property
    def sha256(self) -> str:
        return sha256_of(self.content)


@dataclass
class Log:
    """A victim's log, kept through the API. Records are keyed by a short label."""

    victim_name: str
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    impact_notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, Kept] = field(default_factory=dict)
    advocate_notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    withdrawn: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ids(self, kind: str, *labels: str) -> set[str]:
        records: dict[str, Any] = getattr(self, kind)
        return {
            (value.id if isinstance(value, Kept) else value["id"])
            for label, value in records.items()
            if not labels or label in labels
        }


# Incidents over three months (local times as the victim remembers them, British Summer Time
# until the clocks went back on 25 October 2026). (occurred_at, behaviours, channel, location,
# description).
INCIDENTS_KEPT: dict[str, tuple[str, list[str], str | None, str, str]] = {
    "station": (
        "2026-08-03T22:15:00+01:00",
        ["following"],
        "in_person",
        "Cambridge railway station to Elm Close",
        "He followed me from the station all the way to Elm Close in his silver Corsa.",
    ),
    "drive": (
        "2026-08-17T07:40:00+01:00",
        ["turning_up", "loitering"],
        "in_person",
        "End of my drive, 9 Elm Close",
        "He was standing at the end of the drive when I left for work and did not move.",
    ),
    "calls": (
        "2026-09-02T23:05:00+01:00",
        ["contacting"],
        "phone_call",
        "At home",
        "Eleven missed calls from a withheld number between eleven and midnight.",
    ),
    "roses": (
        "2026-09-14T19:20:00+01:00",
        ["gifts", "threats"],
        "letter_or_item",
        "Front doorstep",
        "Dead roses left on the doorstep with a card saying I know where you live now.",
    ),
    "car": (
        "2026-09-30T18:40:00+01:00",
        ["watching", "property"],
        None,
        "Opposite the house",
        "Parked opposite the house photographing the front door, then let down my tyres.",
    ),
    "post": (
        "2026-10-11T21:10:00+01:00",
        ["publishing", "threats"],
        "social_media",
        "Facebook",
        "Posted my new address publicly and wrote that he would be waiting for me.",
    ),
    "sister": (
        "2026-10-27T08:00:00+00:00",
        ["third_parties", "monitoring"],
        "messaging_app",
        "WhatsApp",
        "Messaged my sister Zofia: „Gdzie ona teraz mieszka?” (where is she living now?)",
    ),
}
AMENDED_DESCRIPTION = (
    "Fourteen missed calls from a withheld number between eleven and midnight; "
    "the last one left a silent voicemail."
)


def keep_realistic_log(
    victim: TestClient,
    *,
    victim_name: str,
    advocate: TestClient | None = None,
    case_id: str | None = None,
    engine: Engine | None = None,
) -> Log:
    """The log a victim keeps over three months, as the PWA would send it.

    With an advocate (and the case), the advocate writes two notes; with the engine as well,
    the first note is dated into August, as if written then (notes take the server's clock).
    """
    log = Log(victim_name=victim_name)
    for label, (occurred_at, behaviours, channel, location, description) in INCIDENTS_KEPT.items():
        log.incidents[label] = log_incident(
            victim,
            occurred_at=occurred_at,
            behaviours=behaviours,
            channel=channel,
            location=location,
            description=description,
            time_is_approximate=label == "drive",
            witnesses="My neighbour Mrs Okafor" if label == "roses" else None,
        )
    # Amended: the victim remembered more the next morning.
    calls_url = f"{INCIDENTS}/{log.incidents['calls']['id']}"
    response = victim.patch(calls_url, json={"description": AMENDED_DESCRIPTION})
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
    log.incidents["calls"] = response.json()
    # Withdrawn: logged twice by mistake.
    duplicate = log_incident(
        victim,
        occurred_at="2026-09-14T19:25:00+01:00",
        behaviours=["gifts"],
        location="Front doorstep (duplicate)",
        description=f"Roses on the doorstep again. {WITHDRAWN_MARKER}",
    )
    response = withdraw(victim, f"{INCIDENTS}/{duplicate['id']}")
    assert response.status_code == 200, response.text
    log.withdrawn["incident"] = response.json()

    log.reports["first"] = record_police_report(
        victim,
        crime_reference=CRIME_REFERENCE,
        reported_at="2026-09-03T10:00:00+01:00",
        method="non_emergency_101",
        incident_ids=[log.incidents[label]["id"] for label in ("station", "drive", "calls")],
    )
    log.reports["second"] = record_police_report(
        victim,
        crime_reference=OTHER_CRIME_REFERENCE,
        reported_at="2026-10-12T09:30:00+01:00",
        method="emergency_999",
        officer="PC Dunmore",
        notes="Officer attended and took a statement.",
        incident_ids=[log.incidents[label]["id"] for label in ("car", "post")],
    )

    for label, noted_at, areas, description in (
        ("before", "2026-08-01T20:00:00+01:00", ["sleep"], "I lie awake listening for cars."),
        (
            "august",
            "2026-08-20T21:00:00+01:00",
            ["changed_routine", "work_or_study"],
            "I have stopped taking the train and now leave work early every day.",
        ),
        (
            "october",
            "2026-10-05T09:00:00+01:00",
            ["fear_of_violence", "home_security"],
            "We fitted a doorbell camera and I will not open the door after dark.",
        ),
    ):
        log.impact_notes[label] = write_impact_note(
            victim, noted_at=noted_at, areas=areas, description=description
        )
    withdrawn_note = write_impact_note(
        victim, noted_at="2026-08-21T21:00:00+01:00", description=f"Draft. {WITHDRAWN_MARKER}"
    )
    response = withdraw(victim, f"{IMPACT_NOTES}/{withdrawn_note['id']}")
    assert response.status_code == 200, response.text
    log.withdrawn["impact_note"] = response.json()

    def keep(
        label: str, content: bytes, filename: str, description: str, incidents: Iterable[str]
    ) -> None:
        record = upload_evidence(
            victim,
            content,
            filename=filename,
            description=description,
            incident_ids=[log.incidents[name]["id"] for name in incidents],
            sha256=sha256_of(content),
        )
        log.evidence[label] = Kept(record["id"], content, filename, record)

    keep(
        "photo",
        jpeg_photo(PhotoClaims(taken="2026:09:30 18:45:12", offset="+01:00")),
        "front door.jpg",
        "Photo of his car opposite the house.",
        ["car"],
    )
    keep(
        "video",
        mp4_with_movie_header(datetime(2026, 10, 11, 20, 30, tzinfo=UTC), 12_500, payload=6000),
        "Doorbell clip.mp4",
        "Doorbell camera: him at the gate.",
        ["post"],
    )
    keep(
        "call log",
        call_log_csv(rows=14),
        "Call log (September).csv",
        "Exported call log from my phone.",
        ["calls"],
    )
    keep(
        "screenshot",
        png_screenshot(),
        "Screenshot_2026-08-03.png",
        "Screenshot of the station car park camera message.",
        ["station"],
    )
    keep(
        "statement",
        text_note("My own notes of what happened on the night of the roses.\n"),
        "notes about the roses.txt",
        "Written the same night.",
        ["roses"],
    )
    withdrawn_photo = jpeg_photo(PhotoClaims(taken="2026:08:03 22:20:00", offset="+01:00"))
    record = upload_evidence(
        victim,
        withdrawn_photo,
        filename="blurry.jpg",
        description=f"Too blurry. {WITHDRAWN_MARKER}",
        incident_ids=[log.incidents["station"]["id"]],
    )
    response = withdraw(victim, f"{EVIDENCE}/{record['id']}")
    assert response.status_code == 200, response.text
    log.withdrawn["evidence"] = response.json()

    if advocate is not None and case_id is not None:
        for label, body in (
            ("august", "Safety plan agreed; advised to report every incident to 101."),
            ("now", "Referred to the local authority for a housing move."),
        ):
            response = write_note(advocate, case_id, body)
            assert response.status_code == 201, response.text
            log.advocate_notes[label] = response.json()
        if engine is not None:
            august = datetime(2026, 8, 25, 11, 0, tzinfo=UTC)
            with Session(engine) as db:
                db.exec(
                    update(AdvocateNote)
                    .where(col(AdvocateNote.id) == uuid.UUID(log.advocate_notes["august"]["id"]))
                    .values(recorded_at=august)
                )
                db.commit()
    return log


# The pack, read back.


@dataclass(frozen=True)
class Pack:
    body: bytes
    folder: str
    members: dict[str, bytes]  # path inside the folder -> bytes, in zip order

    @property
    def evidence_paths(self) -> list[str]:
        """The originals, in zip order (which is time order); not their sidecars."""
        return [
            name
            for name in self.members
            if name.startswith("evidence/") and not name.endswith(".json")
        ]

    @property
    def sidecar_paths(self) -> list[str]:
        return [f"{path}.json" for path in self.evidence_paths]


def open_pack(body: bytes) -> Pack:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        folders = {name.split("/", 1)[0] for name in names}
        assert len(folders) == 1, names
        (folder,) = folders
        members = {name.split("/", 1)[1]: archive.read(name) for name in names}
    return Pack(body, folder, members)


def export(client: TestClient, url: str = PACK, **params: str) -> Pack:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return open_pack(response.content)


def rewrite_pack(
    pack: Pack,
    change: Callable[[str, bytes], bytes] = lambda _name, data: data,
    *,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """The same zip written again by Python's zipfile, with `change` applied to every member
    (the zip's own CRCs are right, as a careful forger's would be) and extra files added."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in pack.members.items():
            archive.writestr(f"{pack.folder}/{name}", change(name, data))
        for name, data in (extra or {}).items():
            archive.writestr(f"{pack.folder}/{name}", data)
    return out.getvalue()


def flip_byte(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def verify_pack(path: Path, fingerprint: str | None = None) -> Result:
    """`waymark verify-pack PATH [--fingerprint …]`, as an officer's expert runs it."""
    arguments = ["verify-pack", str(path)]
    if fingerprint is not None:
        arguments += ["--fingerprint", fingerprint]
    return CliRunner().invoke(waymark, arguments)


def signing_key_fingerprint(client: TestClient) -> str:
    """The fingerprint as the service publishes it (16 groups of four hex digits)."""
    response = client.get(SIGNING_KEY)
    assert response.status_code == 200, response.text
    fingerprint: str = response.json()["fingerprint"]
    return fingerprint


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page of a PDF, as a text extractor reads it."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def words(text: str) -> str:
    """Text with every run of whitespace made one space (a PDF breaks lines where it likes)."""
    return " ".join(text.split())


def pack_items(pack: Pack) -> dict[str, set[str]]:
    """The ids in timeline.json, by kind."""
    found: dict[str, set[str]] = {
        kind: set()
        for kind in ("incident", "police_report", "impact_note", "advocate_note", "evidence")
    }
    for item in json.loads(pack.members["timeline.json"])["items"]:
        found[item["kind"]].add(item["id"])
    return found


def csv_rows(pack: Pack) -> list[dict[str, str]]:
    text = pack.members["timeline.csv"].decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))
