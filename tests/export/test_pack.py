"""GET /api/v1/exports/pack and /cases/{id}/exports/pack: the evidence pack an officer receives.

First a realistic log (three months of incidents, an amended and a withdrawn one, two crime
references, impact notes, a photo with EXIF, a video, a call log, an advocate's notes), exported
once and read back: the zip's layout, `sha256sum -c` and `openssl` as an officer runs them,
`waymark verify-pack` on the pack and on copies with one byte changed, the PDF's text. Then the
filters, then who may export, each with a log of its own.
"""

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from app.storage.crypto import key_fingerprint, public_key_pem
from tests.conftest import ClientFactory, _empty_all_tables
from tests.factories.accounts import assert_problem
from tests.factories.evidence import png_screenshot, sha256_of, upload_evidence
from tests.factories.exports import (
    AMENDED_DESCRIPTION,
    CRIME_REFERENCE,
    INCIDENTS_KEPT,
    OTHER_CRIME_REFERENCE,
    PACK,
    PACK_FILES,
    SIGNING_KEY,
    WITHDRAWN_MARKER,
    Log,
    Pack,
    case_pack_url,
    csv_rows,
    export,
    flip_byte,
    keep_realistic_log,
    open_pack,
    pack_items,
    pdf_pages,
    rewrite_pack,
    signing_key_fingerprint,
    verify_pack,
    words,
)
from tests.factories.records import AUDIT, TIMELINE, log_incident, read, walk
from tests.factories.settings import development_settings
from tests.factories.sharing import (
    SharedCase,
    audit_count,
    revoke,
    share_with,
    shared_case,
    signed_in_staff,
    user_id,
    write_note,
)
from tests.support import missing_service

VICTIM_NAME = "Zoë Ní Bhriain"
ALL_INCLUDED = "impact_notes,evidence,advocate_notes"
FOLDER = re.compile(r"waymark-evidence-pack-\d{8}T\d{6}Z")
INTACT = "This pack is intact."
DAMAGED = "This pack has been changed or is damaged."


# One realistic pack, exported once and only read by the tests that use it.


@dataclass(frozen=True)
class Sample:
    log: Log
    status: int
    headers: dict[str, str]
    pack: Pack
    fingerprint: str
    signing_key_pem: str
    audit_after: dict[str, Any]  # GET /audit/verify right after the export
    last_event: dict[str, Any]  # the newest audit event right after the export


@pytest.fixture(scope="module")
def sample(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, cleanup_engine: Engine
) -> Iterator[Sample]:
    application = create_app(
        development_settings(tmp_path_factory.mktemp("sample") / "data", database_url)
    )
    try:
        with ExitStack() as clients:

            def make_client() -> TestClient:
                return clients.enter_context(TestClient(application))

            case = shared_case(application, make_client, victim_name=VICTIM_NAME, can_export=True)
            log = keep_realistic_log(
                case.victim,
                victim_name=VICTIM_NAME,
                advocate=case.advocate,
                case_id=case.case_id,
                engine=application.state.runtime.engine,
            )
            response = case.victim.get(PACK, params={"include": ALL_INCLUDED})
            assert response.status_code == 200, response.text
            made = Sample(
                log=log,
                status=response.status_code,
                headers=dict(response.headers),
                pack=open_pack(response.content),
                fingerprint=signing_key_fingerprint(case.victim),
                signing_key_pem=case.victim.get(SIGNING_KEY).json()["pem"],
                audit_after=read(case.victim, f"{AUDIT}/verify"),
                last_event=read(case.victim, AUDIT, limit=1)["items"][0],
            )
    finally:
        application.state.runtime.engine.dispose()
        _empty_all_tables(cleanup_engine)
    yield made


def saved(tmp_path: Path, body: bytes, name: str = "pack.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def extracted(tmp_path: Path, pack: Pack) -> Path:
    with zipfile.ZipFile(saved(tmp_path, pack.body)) as archive:
        archive.extractall(tmp_path / "unzipped")
    return tmp_path / "unzipped" / pack.folder


def evidence_path(pack: Pack, kept_sha256: str) -> str:
    """The path in the pack of the evidence file with this SHA-256 (from the manifest)."""
    manifest = json.loads(pack.members["manifest.json"])
    (path,) = [f["path"] for f in manifest["files"] if f["sha256"] == kept_sha256]
    assert isinstance(path, str)
    return path


# The pack as a download.


def test_the_pack_is_a_zip_download_of_exactly_the_announced_size(sample: Sample) -> None:
    assert sample.status == 200
    assert sample.headers["content-type"] == "application/zip"
    assert int(sample.headers["content-length"]) == len(sample.pack.body)
    disposition = sample.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{sample.pack.folder}.zip"' in disposition


def test_one_top_folder_holds_exactly_the_pack_files_and_the_evidence(sample: Sample) -> None:
    pack = sample.pack
    assert FOLDER.fullmatch(pack.folder), pack.folder
    with zipfile.ZipFile(io.BytesIO(pack.body)) as archive:
        assert all(name.startswith(f"{pack.folder}/") for name in archive.namelist())
    others = set(pack.members) - PACK_FILES
    assert set(pack.members) >= PACK_FILES
    assert others == set(pack.evidence_paths) | set(pack.sidecar_paths)
    # Live evidence only (the withdrawn photo is not there), named by exhibit reference from
    # the exporter's initials (Zoë Ní Bhriain: ZNB-1 for ZNB/1…) with no gaps.
    assert len(pack.evidence_paths) == len(sample.log.evidence) == 5
    references = [path.split("/")[1][:5] for path in pack.evidence_paths]
    assert references == [f"ZNB-{n}" for n in range(1, 6)]
    assert all(
        re.fullmatch(r"evidence/ZNB-\d-\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.[a-z0-9]+", p)
        for p in pack.evidence_paths
    )


def test_evidence_is_numbered_in_timeline_order(sample: Sample) -> None:
    pack, log = sample.pack, sample.log
    items = json.loads(pack.members["timeline.json"])["items"]
    in_time_order = [item["data"]["path"] for item in items if item["kind"] == "evidence"]
    assert in_time_order == sorted(pack.evidence_paths) == pack.evidence_paths
    moments = [datetime.fromisoformat(item["at"]) for item in items if item["kind"] == "evidence"]
    assert moments == sorted(moments)
    # The photo claims 30 September 18:45 BST and the video 11 October; the files with no
    # capture time sit at their incidents: the screenshot at the station (3 August), the call
    # log at the calls (2 September), the notes at the roses (14 September).
    assert pack.evidence_paths == [
        "evidence/ZNB-1-2026-08-03-screenshot-2026-08-03.png",
        "evidence/ZNB-2-2026-09-02-call-log-september.csv",
        "evidence/ZNB-3-2026-09-14-notes-about-the-roses.txt",
        "evidence/ZNB-4-2026-09-30-front-door.jpg",
        "evidence/ZNB-5-2026-10-11-doorbell-clip.mp4",
    ]
    for label, path in zip(
        ("screenshot", "call log", "statement", "photo", "video"), pack.evidence_paths, strict=True
    ):
        assert evidence_path(pack, log.evidence[label].sha256) == path, label
    station = next(i for i in items if i["id"] == log.incidents["station"]["id"])
    screenshot = next(i for i in items if i["id"] == log.evidence["screenshot"].id)
    assert screenshot["at"] == station["at"]
    assert screenshot["data"]["captured_at"] is None


def test_evidence_files_are_byte_for_byte_what_was_uploaded(sample: Sample) -> None:
    for kept in sample.log.evidence.values():
        path = evidence_path(sample.pack, kept.sha256)
        assert sample.pack.members[path] == kept.content, kept.filename
        assert sha256_of(sample.pack.members[path]) == kept.record["sha256"]


# Checks an officer runs without Waymark.


def test_sha256sum_checks_every_file_from_inside_the_folder(sample: Sample, tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        missing_service("sha256sum (GNU coreutils) is not installed")
    folder = extracted(tmp_path, sample.pack)
    result = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checked = {line.rsplit(": ", 1)[0] for line in result.stdout.splitlines()}
    assert all(line.endswith(": OK") for line in result.stdout.splitlines())
    assert checked == set(sample.pack.members) - {"SHA256SUMS", "SHA256SUMS.sig"}


def openssl_3() -> None:
    """Skips unless OpenSSL 3 is here: Ed25519 with `pkeyutl -rawin` needs it."""
    if shutil.which("openssl") is None or shutil.which("sha256sum") is None:
        missing_service("openssl or sha256sum (GNU coreutils) is not installed")
    found = re.match(
        r"OpenSSL (\d+)\.",
        subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout,
    )
    if not found or int(found.group(1)) < 3:
        pytest.skip("Ed25519 with pkeyutl -rawin needs OpenSSL 3.0 or newer")


def readme_commands(readme: str, section: str) -> list[str]:
    """The commands a README.txt section tells the officer to type: its lines indented by
    exactly two spaces, with backslash-continued lines joined as a shell would join them."""
    lines = readme.replace("\r\n", "\n").split("\n")
    start = lines.index(section) + 2  # past its underline
    end = next(
        (n for n in range(start, len(lines) - 1) if re.fullmatch(r"-+", lines[n + 1])),
        len(lines),
    )
    commands: list[str] = []
    continued = False
    for line in lines[start:end]:
        if continued:
            commands[-1] += " " + line.strip()
        elif re.match(r"  \S", line):
            commands.append(line.strip())
        continued = commands != [] and commands[-1].endswith("\\")
        if continued:
            commands[-1] = commands[-1][:-1].rstrip()
    return commands


@dataclass(frozen=True)
class Ran:
    ok: bool
    output: str


def run_readme_checks(folder: Path) -> Ran:
    """The README.txt's own "two commands", typed as written, in the unzipped folder: both must
    succeed, with the signature verified."""
    readme = (folder / "README.txt").read_bytes().decode()
    commands = readme_commands(readme, "How to check nothing has been changed (two commands)")
    assert len(commands) == 2, commands
    outputs, ok = [], True
    for command in commands:
        result = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)
        outputs.append(f"$ {command}\n{result.stdout}{result.stderr}")
        ok = ok and result.returncode == 0
    return Ran(ok and "Signature Verified Successfully" in outputs[-1], "\n".join(outputs))


def fingerprint_by_readme(folder: Path) -> str:
    """The fingerprint worked out as README.txt says, with openssl and sha256sum."""
    readme = (folder / "README.txt").read_bytes().decode()
    (command,) = [c for c in readme_commands(readme, "Whose key signed it") if "openssl" in c]
    result = subprocess.run(
        ["bash", "-c", command], cwd=folder, capture_output=True, text=True, check=True
    )
    return result.stdout.split()[0]


def swap_photo(folder: Path, pack: Pack) -> None:
    """What a forger would do: replace the first photo and write SHA256SUMS again, as
    sha256sum writes it."""
    (photo,) = [path for path in pack.evidence_paths if path.endswith("front-door.jpg")]
    (folder / photo).write_bytes(png_screenshot())
    listed = [line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text().splitlines()]
    sums = subprocess.run(
        ["sha256sum", "--", *listed], cwd=folder, capture_output=True, text=True, check=True
    )
    (folder / "SHA256SUMS").write_text(sums.stdout)


def test_the_readmes_two_commands_pass_an_untouched_pack(sample: Sample, tmp_path: Path) -> None:
    openssl_3()
    folder = extracted(tmp_path, sample.pack)
    ran = run_readme_checks(folder)
    assert ran.ok, ran.output
    # Every file but SHA256SUMS and its signature is checked, each one OK.
    checked = {line.rsplit(": ", 1)[0] for line in ran.output.splitlines() if ": OK" in line}
    assert checked == set(sample.pack.members) - {"SHA256SUMS", "SHA256SUMS.sig"}
    assert {"manifest.json", "manifest.sig", "signing-key.pub"} <= checked
    assert f"there must be {len(checked)} lines" in sample.pack.members["README.txt"].decode()


def test_a_swapped_photo_with_sha256sums_rebuilt_fails_the_readmes_commands(
    sample: Sample, tmp_path: Path
) -> None:
    openssl_3()
    folder = extracted(tmp_path, sample.pack)
    swap_photo(folder, sample.pack)
    ran = run_readme_checks(folder)
    assert not ran.ok, ran.output
    assert "Signature Verification Failure" in ran.output
    # And so does verify-pack, on the folder and on it zipped again.
    for path in (folder, Path(shutil.make_archive(str(tmp_path / "again"), "zip", folder.parent))):
        result = verify_pack(path, sample.fingerprint)
        assert result.exit_code == 1, result.output
        assert "FAIL  SHA256SUMS.sig does not match SHA256SUMS" in result.output
        assert "does not match the manifest" in result.output


def test_a_pack_resigned_with_another_key_fails_the_fingerprint_comparison(
    sample: Sample, tmp_path: Path
) -> None:
    """The forger swaps the photo and signs everything again with a key of their own: the two
    commands pass, but the key is not the one the service publishes."""
    openssl_3()
    folder = extracted(tmp_path, sample.pack)
    forger = Ed25519PrivateKey.generate()
    (folder / "signing-key.pub").write_bytes(public_key_pem(forger.public_key()))
    manifest = json.loads((folder / "manifest.json").read_bytes())
    (target,) = [path for path in sample.pack.evidence_paths if path.endswith("front-door.jpg")]
    (folder / target).write_bytes(png_screenshot())
    for entry in manifest["files"]:
        data = (folder / entry["path"]).read_bytes()
        entry["size"], entry["sha256"] = len(data), sha256_of(data)
    manifest["signing_key_fingerprint"] = key_fingerprint(forger.public_key())
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "manifest.sig").write_bytes(
        base64.b64encode(forger.sign((folder / "manifest.json").read_bytes()))
    )
    swap_photo(folder, sample.pack)  # the same new photo; SHA256SUMS rebuilt
    (folder / "SHA256SUMS.sig").write_bytes(forger.sign((folder / "SHA256SUMS").read_bytes()))

    ran = run_readme_checks(folder)
    assert ran.ok, ran.output  # the two commands alone cannot tell
    published = sample.fingerprint.replace(" ", "")
    assert fingerprint_by_readme(folder) != published
    (tmp_path / "real").mkdir()
    assert fingerprint_by_readme(extracted(tmp_path / "real", sample.pack)) == published
    assert verify_pack(folder).exit_code == 0  # without the fingerprint, nothing to compare
    result = verify_pack(folder, sample.fingerprint)
    assert result.exit_code == 1, result.output
    assert "is NOT the expected one" in result.output


def test_the_service_publishes_its_key_and_the_fingerprint_openssl_gives(
    sample: Sample, tmp_path: Path
) -> None:
    openssl_3()
    folder = extracted(tmp_path, sample.pack)
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", sample.fingerprint)
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", "signing-key.pub", "-outform", "DER"],
        cwd=folder,
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(der).hexdigest() == sample.fingerprint.replace(" ", "")
    assert sample.fingerprint in sample.pack.members["README.txt"].decode()
    assert sample.signing_key_pem == sample.pack.members["signing-key.pub"].decode()


def test_openssl_verifies_the_manifest_signature_too(sample: Sample, tmp_path: Path) -> None:
    openssl_3()
    folder = extracted(tmp_path, sample.pack)
    (folder / "manifest.sig.bin").write_bytes(base64.b64decode(sample.pack.members["manifest.sig"]))
    command = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "signing-key.pub",
        "-rawin",
        "-in",
        "manifest.json",
        "-sigfile",
        "manifest.sig.bin",
    ]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = folder / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"evidence": 5', b'"evidence": 4'))
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Signature Verified Successfully" not in result.stdout


# What the pack says.


def test_withdrawn_records_are_nowhere_in_the_pack(sample: Sample) -> None:
    pack, log = sample.pack, sample.log
    pdf_text = words(" ".join(pdf_pages(pack.members["timeline.pdf"])))
    readable = {
        "timeline.pdf": pdf_text,
        "statement-draft.pdf": words(" ".join(pdf_pages(pack.members["statement-draft.pdf"]))),
        "timeline.csv": pack.members["timeline.csv"].decode("utf-8-sig"),
        "timeline.json": pack.members["timeline.json"].decode(),
        "README.txt": pack.members["README.txt"].decode(),
        "audit.json": pack.members["audit.json"].decode(),
    }
    for name, text in readable.items():
        assert WITHDRAWN_MARKER not in text, name
        assert "Front doorstep (duplicate)" not in text, name
    for withdrawn in log.withdrawn.values():
        for name in ("timeline.csv", "timeline.json"):
            assert withdrawn["id"] not in readable[name], name
    withdrawn_ids = {w["id"] for w in log.withdrawn.values()}
    assert not withdrawn_ids & {row["id"] for row in csv_rows(pack)}
    assert all(row["withdrawn"] == "False" for row in csv_rows(pack))
    items = json.loads(pack.members["timeline.json"])["items"]
    assert all(item["data"].get("withdrawn") in (False, None) for item in items)


def test_the_json_and_csv_hold_every_live_item_in_time_order(sample: Sample) -> None:
    pack, log = sample.pack, sample.log
    expected = {
        "incident": log.ids("incidents"),
        "police_report": log.ids("reports"),
        "impact_note": log.ids("impact_notes"),
        "advocate_note": log.ids("advocate_notes"),
        "evidence": log.ids("evidence"),
    }
    assert pack_items(pack) == expected
    rows = csv_rows(pack)
    assert {(row["kind"], row["id"]) for row in rows} == {
        (kind, item) for kind, ids in expected.items() for item in ids
    }
    assert len(rows) == sum(len(ids) for ids in expected.values())
    moments = [datetime.fromisoformat(row["at"]) for row in rows]
    assert moments == sorted(moments)
    calls = next(row for row in rows if row["id"] == log.incidents["calls"]["id"])
    assert calls["description"] == AMENDED_DESCRIPTION
    assert calls["crime_references"] == CRIME_REFERENCE
    assert calls["revision"] == "2"
    photo = next(row for row in rows if row["id"] == log.evidence["photo"].id)
    assert photo["sha256"] == log.evidence["photo"].sha256
    assert photo["file"] == "evidence/ZNB-4-2026-09-30-front-door.jpg"
    assert photo["exhibit"] == "ZNB/4"


def test_timeline_json_keeps_every_revision_of_the_amended_incident(sample: Sample) -> None:
    items = json.loads(sample.pack.members["timeline.json"])["items"]
    calls = next(item for item in items if item["id"] == sample.log.incidents["calls"]["id"])
    assert calls["data"]["revision"] == 2
    assert calls["data"]["description"] == AMENDED_DESCRIPTION
    assert [r["revision"] for r in calls["revisions"]] == [1, 2]
    assert calls["revisions"][0]["description"] == INCIDENTS_KEPT["calls"][4]
    assert calls["revisions"][1]["description"] == AMENDED_DESCRIPTION
    assert all(r["by"]["display_name"] == VICTIM_NAME for r in calls["revisions"])
    never_amended = next(
        item for item in items if item["id"] == sample.log.incidents["station"]["id"]
    )
    assert never_amended["data"]["revision"] == 1


def test_the_manifest_describes_every_file_and_the_audit_head(sample: Sample) -> None:
    pack = sample.pack
    manifest = json.loads(pack.members["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(pack.members) - {
        "manifest.json",
        "manifest.sig",
        "SHA256SUMS",
        "SHA256SUMS.sig",
    }
    for path, entry in listed.items():
        assert entry["size"] == len(pack.members[path]), path
        assert entry["sha256"] == sha256_of(pack.members[path]), path
    assert manifest["generator"] == "Waymark"
    assert manifest["kept_by"] == VICTIM_NAME
    assert manifest["exported_by"] == {"display_name": VICTIM_NAME, "role": "victim"}
    assert manifest["filters"] == {
        "from": None,
        "to": None,
        "crime_reference": None,
        "include": ["advocate_notes", "evidence", "impact_notes"],
    }
    assert manifest["counts"] == {
        "incidents": 7,
        "police_reports": 2,
        "impact_notes": 3,
        "evidence": 5,
        "advocate_notes": 2,
        "audit_events": sample.audit_after["count"],
    }
    assert manifest["signing_key_fingerprint"] == sample.fingerprint.replace(" ", "")
    # The custody trail ends with this very export, and its head is the victim's chain head.
    events = json.loads(pack.members["audit.json"])["events"]
    assert events[-1]["action"] == "pack.exported"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert manifest["audit_head"] == events[-1]["hash"] == sample.audit_after["head"]
    assert sample.audit_after["valid"] is True
    assert sample.last_event["action"] == "pack.exported"
    assert sample.last_event["hash"] == manifest["audit_head"]


def test_the_readme_says_whose_log_and_how_to_verify(sample: Sample) -> None:
    readme = sample.pack.members["README.txt"].decode()
    assert VICTIM_NAME in readme
    assert "sha256sum -c SHA256SUMS" in readme
    assert "openssl pkeyutl -verify -pubin -inkey signing-key.pub -rawin" in readme
    assert sample.fingerprint in readme
    assert sample.pack.folder in readme


def test_the_pdf_reads_back_with_every_incident_the_crime_references_and_the_hashes(
    sample: Sample,
) -> None:
    pdf = sample.pack.members["timeline.pdf"]
    assert pdf.startswith(b"%PDF-")
    pages = pdf_pages(pdf)
    text = words(" ".join(pages))
    log = sample.log
    for label, incident in log.incidents.items():
        assert words(incident["description"]) in text, label
        assert words(incident["location"]) in text, label
    assert INCIDENTS_KEPT["calls"][4] not in text  # the amended-away wording
    assert re.search(
        rf"Amended \d\d \w{{3}} \d{{4}} \d\d:\d\d (GMT|BST) by {VICTIM_NAME}: description "
        r"changed\. Every version is in timeline\.json\.",
        text,
    )
    assert "(approximate time)" in text
    assert CRIME_REFERENCE in text
    assert OTHER_CRIME_REFERENCE in text
    assert f"Kept by {VICTIM_NAME}" in text
    for note in log.impact_notes.values():
        assert words(note["description"]) in text
    for note in log.advocate_notes.values():
        assert words(note["body"]) in text
    unbroken = re.sub(r"\s+", "", " ".join(pages))
    for kept in log.evidence.values():
        assert kept.sha256 in unbroken, kept.filename
        assert kept.filename in text
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    # Cover first, the evidence index last.
    assert "Record of stalking incidents" in pages[0]
    assert "Evidence index" in pages[-1]


# `waymark verify-pack`.


def test_verify_pack_passes_an_untouched_pack(sample: Sample, tmp_path: Path) -> None:
    result = verify_pack(saved(tmp_path, sample.pack.body))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(INTACT)
    assert "FAIL" not in result.output


def test_verify_pack_reads_the_unzipped_folder_as_well(sample: Sample, tmp_path: Path) -> None:
    folder = extracted(tmp_path, sample.pack)
    result = verify_pack(folder, sample.fingerprint)
    assert result.exit_code == 0, result.output
    assert "OK    SHA256SUMS.sig is a valid signature of SHA256SUMS" in result.output
    photo = folder / sample.pack.evidence_paths[0]
    photo.write_bytes(flip_byte(photo.read_bytes(), 100))
    result = verify_pack(folder, sample.fingerprint)
    assert result.exit_code == 1, result.output
    assert f"FAIL  {sample.pack.evidence_paths[0]} does not match its SHA-256" in result.output


def test_verify_pack_does_not_follow_a_link_out_of_the_folder(
    sample: Sample, tmp_path: Path
) -> None:
    folder = extracted(tmp_path, sample.pack)
    photo = folder / sample.pack.evidence_paths[0]
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(photo.read_bytes())
    photo.unlink()
    photo.symlink_to(outside)
    result = verify_pack(folder)
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith(DAMAGED)
    assert "cannot be read (not a plain file)" in result.output


def test_verify_pack_passes_a_pack_rewritten_unchanged(sample: Sample, tmp_path: Path) -> None:
    """The rewrite below changes nothing by itself: what fails later is the flipped byte."""
    result = verify_pack(saved(tmp_path, rewrite_pack(sample.pack)))
    assert result.exit_code == 0, result.output


def structural_positions(name: str, data: bytes) -> list[int]:
    """Where a single changed byte is most likely to slip past a lenient reader."""
    if name == "SHA256SUMS":
        # The one file no other check covers: every line break and every separator.
        return [m.start() for m in re.finditer(rb"\n|  ", data)] + [
            m.start() + 1 for m in re.finditer(rb"  ", data)
        ]
    if name == "manifest.json":
        # The names of the fields verify-pack reads.
        return [
            data.index(key) + 1
            for key in (b'"files"', b'"path"', b'"size"', b'"sha256"', b'"audit_head"')
        ]
    if name in ("signing-key.pub", "manifest.sig", "SHA256SUMS.sig"):
        return list(range(len(data)))  # small: every byte
    return []


MEMBER_KINDS = [
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
    "evidence",
]


@pytest.mark.parametrize("kind", MEMBER_KINDS)
def test_flipping_one_byte_of_any_member_fails_verify_pack(
    sample: Sample, kind: str, tmp_path: Path
) -> None:
    pack = sample.pack
    name = pack.evidence_paths[0] if kind == "evidence" else kind
    data = pack.members[name]
    positions = sorted({0, len(data) // 2, len(data) - 1, *structural_positions(kind, data)})
    path = tmp_path / "pack.zip"
    for position in positions:

        def change(member: str, content: bytes, position: int = position) -> bytes:
            return flip_byte(content, position) if member == name else content

        path.write_bytes(rewrite_pack(pack, change))
        result = verify_pack(path)
        assert result.exit_code == 1, f"byte {position} of {name}: {result.output}"
        # A plain report, not a crash.
        assert result.output.rstrip().endswith(DAMAGED), f"byte {position}: {result.output}"
        assert "FAIL" in result.output


def test_an_added_file_fails_verify_pack(sample: Sample, tmp_path: Path) -> None:
    extra = {"evidence/ZNB-6-2026-10-01-planted.jpg": b"\xff\xd8\xff\xe0 not from the service"}
    result = verify_pack(saved(tmp_path, rewrite_pack(sample.pack, extra=extra)))
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith(DAMAGED)
    assert "planted" in result.output


def test_an_added_file_listed_in_sha256sums_still_fails(sample: Sample, tmp_path: Path) -> None:
    """A forger adds a line for the planted file to SHA256SUMS: its signature no longer holds,
    and the signed manifest's file list is the one the service made."""
    planted_name = "evidence/ZNB-6-2026-10-01-planted.jpg"
    planted = b"\xff\xd8\xff\xe0 not from the service"

    def change(member: str, content: bytes) -> bytes:
        if member != "SHA256SUMS":
            return content
        lines = content.decode().splitlines(keepends=True)
        lines.append(f"{sha256_of(planted)}  {planted_name}\n")
        return "".join(sorted(lines, key=lambda line: line.split("  ", 1)[1])).encode()

    result = verify_pack(
        saved(tmp_path, rewrite_pack(sample.pack, change, extra={planted_name: planted}))
    )
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith(DAMAGED)


def test_a_changed_file_with_sha256sums_recomputed_still_fails(
    sample: Sample, tmp_path: Path
) -> None:
    target = sample.pack.evidence_paths[0]
    forged = flip_byte(sample.pack.members[target], len(sample.pack.members[target]) // 2)

    def change(member: str, content: bytes) -> bytes:
        if member == target:
            return forged
        if member == "SHA256SUMS":
            return content.replace(
                sha256_of(sample.pack.members[target]).encode(), sha256_of(forged).encode()
            )
        return content

    result = verify_pack(saved(tmp_path, rewrite_pack(sample.pack, change)))
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith(DAMAGED)


def test_a_removed_file_fails_verify_pack(sample: Sample, tmp_path: Path) -> None:
    target = sample.pack.evidence_paths[-1]
    kept = {name: data for name, data in sample.pack.members.items() if name != target}
    sums = b"".join(
        line
        for line in sample.pack.members["SHA256SUMS"].splitlines(keepends=True)
        if not line.rstrip(b"\n").endswith(target.encode())
    )
    without = Pack(sample.pack.body, sample.pack.folder, kept | {"SHA256SUMS": sums})
    result = verify_pack(saved(tmp_path, rewrite_pack(without)))
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith(DAMAGED)


def test_a_second_top_folder_fails_verify_pack(sample: Sample, tmp_path: Path) -> None:
    body = rewrite_pack(sample.pack)
    path = saved(tmp_path, body)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("elsewhere/README.txt", b"read me instead")
    result = verify_pack(path)
    assert result.exit_code == 1, result.output


def test_verify_pack_checks_the_fingerprint_it_is_given(sample: Sample, tmp_path: Path) -> None:
    path = saved(tmp_path, sample.pack.body)
    right = verify_pack(path, sample.fingerprint)
    assert right.exit_code == 0, right.output
    assert f"signing key {sample.fingerprint} is the expected one" in right.output
    wrong_fingerprint = "SHA256:" + hashlib.sha256(b"some other key").hexdigest()
    wrong = verify_pack(path, wrong_fingerprint)
    assert wrong.exit_code == 1, wrong.output
    assert "is NOT the expected one" in wrong.output


def test_verify_pack_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    result = verify_pack(saved(tmp_path, b"%PDF-1.7 not a zip at all"))
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith(DAMAGED)


# Filters, each test with a log of its own.


@pytest.fixture
def case(app: FastAPI, make_client: ClientFactory) -> SharedCase:
    return shared_case(app, make_client, victim_name=VICTIM_NAME, can_export=True)


@pytest.fixture
def log(case: SharedCase, db_engine: Engine) -> Log:
    return keep_realistic_log(
        case.victim,
        victim_name=VICTIM_NAME,
        advocate=case.advocate,
        case_id=case.case_id,
        engine=db_engine,
    )


def expected_items(
    log: Log,
    *,
    incidents: tuple[str, ...],
    reports: tuple[str, ...],
    impact_notes: tuple[str, ...],
    advocate_notes: tuple[str, ...],
    evidence: tuple[str, ...],
) -> dict[str, set[str]]:
    def ids(kind: str, labels: tuple[str, ...]) -> set[str]:
        return log.ids(kind, *labels) if labels else set()

    return {
        "incident": ids("incidents", incidents),
        "police_report": ids("reports", reports),
        "impact_note": ids("impact_notes", impact_notes),
        "advocate_note": ids("advocate_notes", advocate_notes),
        "evidence": ids("evidence", evidence),
    }


def assert_pack_holds(pack: Pack, log: Log, expected: dict[str, set[str]]) -> None:
    """timeline.json, timeline.csv, evidence/ and the manifest's counts all agree."""
    assert pack_items(pack) == expected
    assert {(row["kind"], row["id"]) for row in csv_rows(pack)} == {
        (kind, item) for kind, ids in expected.items() for item in ids
    }
    in_folder = {sha256_of(pack.members[path]) for path in pack.evidence_paths}
    assert in_folder == {k.sha256 for k in log.evidence.values() if k.id in expected["evidence"]}
    counts = json.loads(pack.members["manifest.json"])["counts"]
    assert counts["incidents"] == len(expected["incident"])
    assert counts["police_reports"] == len(expected["police_report"])
    assert counts["impact_notes"] == len(expected["impact_note"])
    assert counts["advocate_notes"] == len(expected["advocate_note"])
    assert counts["evidence"] == len(expected["evidence"])


def test_from_and_to_include_exactly_the_items_in_range(
    case: SharedCase, log: Log, tmp_path: Path
) -> None:
    # From the drive incident's moment (included) to the Facebook post's (excluded).
    start, end = INCIDENTS_KEPT["drive"][0], INCIDENTS_KEPT["post"][0]
    pack = export(case.victim, include=ALL_INCLUDED, **{"from": start, "to": end})
    expected = expected_items(
        log,
        incidents=("drive", "calls", "roses", "car"),
        reports=("first",),
        impact_notes=("august", "october"),
        advocate_notes=("august",),
        evidence=("photo",),
    )
    assert_pack_holds(pack, log, expected)
    # The same items the victim's own timeline shows for that period.
    on_timeline = walk(case.victim, TIMELINE, **{"from": start, "to": end})
    assert {(item["kind"], item["id"]) for item in on_timeline} == {
        (kind, item) for kind, ids in expected.items() for item in ids
    }
    manifest = json.loads(pack.members["manifest.json"])
    assert datetime.fromisoformat(manifest["filters"]["from"]) == datetime.fromisoformat(start)
    assert datetime.fromisoformat(manifest["filters"]["to"]) == datetime.fromisoformat(end)
    assert verify_pack(saved(tmp_path, pack.body)).exit_code == 0


def test_a_crime_reference_includes_its_incidents_reports_evidence_and_notes_of_their_span(
    case: SharedCase, log: Log, tmp_path: Path
) -> None:
    # Written as an officer might type it: another case, the same reference.
    pack = export(case.victim, crime_reference="cr/123456/26", include=ALL_INCLUDED)
    expected = expected_items(
        log,
        # The three incidents the 101 report covers, 3 August to 2 September.
        incidents=("station", "drive", "calls"),
        reports=("first",),
        # Impact notes from the first incident to the export: 20 August and 5 October (the
        # harm goes on after the last incident reported); not 1 August, before it.
        impact_notes=("august", "october"),
        # The note dated 25 August is inside; the one written today is not.
        advocate_notes=("august",),
        # The screenshot (station) and the call log (calls); not the withdrawn photo of the
        # station, and not files of other incidents.
        evidence=("screenshot", "call log"),
    )
    assert_pack_holds(pack, log, expected)
    text = words(" ".join(pdf_pages(pack.members["timeline.pdf"])))
    assert CRIME_REFERENCE in text
    # The other reference only in the wider history, never as part of this pack.
    wider = (
        f"Wider history This pack holds the 3 incidents under {CRIME_REFERENCE}. The whole "
        "log has 7 incidents, from 03 August 2026 to 27 October 2026: 4 of them are not in "
        f"this pack. Other crime references: {OTHER_CRIME_REFERENCE} (reported 12 October "
        "2026)."
    )
    assert wider in text
    assert text.count(OTHER_CRIME_REFERENCE) == 1
    assert wider.removeprefix("Wider history ") in words(pack.members["README.txt"].decode())
    for label in ("roses", "car", "post", "sister"):
        assert words(INCIDENTS_KEPT[label][4]) not in text, label
    manifest = json.loads(pack.members["manifest.json"])
    assert manifest["filters"]["crime_reference"] == "cr/123456/26"
    assert manifest["wider_history"] == {
        "incidents": 7,
        "incidents_in_pack": 3,
        "first": "2026-08-03T21:15:00Z",
        "last": "2026-10-27T08:00:00Z",
        "other_crime_references": [
            {"crime_reference": OTHER_CRIME_REFERENCE, "first_reported": "2026-10-12T08:30:00Z"}
        ],
    }
    assert verify_pack(saved(tmp_path, pack.body)).exit_code == 0


def test_the_other_crime_reference_gives_the_other_case(case: SharedCase, log: Log) -> None:
    pack = export(case.victim, crime_reference=f"  {OTHER_CRIME_REFERENCE.lower()} ")
    expected = expected_items(
        log,
        incidents=("car", "post"),
        reports=("second",),
        impact_notes=("october",),  # 5 October, after 30 September
        advocate_notes=(),
        evidence=("photo", "video"),
    )
    assert_pack_holds(pack, log, expected)


def test_a_crime_reference_with_a_period_keeps_incidents_reported_after_it(
    case: SharedCase, log: Log
) -> None:
    """August only: the 101 report (3 September) is after the period, but the August incidents
    it covers still carry its crime reference, as on the victim's timeline."""
    period = {"from": "2026-08-01T00:00:00+01:00", "to": "2026-09-01T00:00:00+01:00"}
    pack = export(case.victim, crime_reference=CRIME_REFERENCE, **period)
    expected = expected_items(
        log,
        incidents=("station", "drive"),
        reports=(),
        # Their span is 3 to 17 August: the advocate's note of 25 August falls outside it,
        # but impact notes run on to the end of the period (the note of 20 August). The
        # screenshot of the station was uploaded today.
        impact_notes=("august",),
        advocate_notes=(),
        evidence=(),
    )
    assert_pack_holds(pack, log, expected)
    # The timeline filtered the same way shows the same, but for the impact notes after the
    # last incident, which only the pack carries on to.
    on_timeline = walk(case.victim, TIMELINE, crime_reference=CRIME_REFERENCE, **period)
    assert {(item["kind"], item["id"]) for item in on_timeline} == {
        (kind, item) for kind, ids in expected.items() for item in ids if kind != "impact_note"
    }


def test_an_unknown_crime_reference_gives_a_pack_with_no_items(
    case: SharedCase, log: Log, tmp_path: Path
) -> None:
    pack = export(case.victim, crime_reference="CR/000000/26")
    expected = expected_items(
        log, incidents=(), reports=(), impact_notes=(), advocate_notes=(), evidence=()
    )
    assert_pack_holds(pack, log, expected)
    assert pack.evidence_paths == []
    assert verify_pack(saved(tmp_path, pack.body)).exit_code == 0


def test_advocate_notes_are_left_out_unless_asked_for(case: SharedCase, log: Log) -> None:
    """Risk assessments, MARAC referrals and safety code words are the charity's, not
    evidence: a pack holds them only when include names them."""
    for client, url in ((case.victim, PACK), (case.advocate, case_pack_url(case.case_id))):
        pack = export(client, url)
        assert pack_items(pack)["advocate_note"] == set()
        assert pack_items(pack)["impact_note"] == log.ids("impact_notes")
        assert pack_items(pack)["evidence"] == log.ids("evidence")
        manifest = json.loads(pack.members["manifest.json"])
        assert manifest["filters"]["include"] == ["evidence", "impact_notes"]
        text = words(" ".join(pdf_pages(pack.members["timeline.pdf"])))
        for note in log.advocate_notes.values():
            assert words(note["body"]) not in text
    chosen = export(case.victim, include=ALL_INCLUDED)
    assert pack_items(chosen)["advocate_note"] == log.ids("advocate_notes")


def test_include_evidence_only_leaves_the_notes_out(case: SharedCase, log: Log) -> None:
    pack = export(case.victim, include="evidence")
    expected = expected_items(
        log,
        incidents=tuple(log.incidents),
        reports=tuple(log.reports),
        impact_notes=(),
        advocate_notes=(),
        evidence=tuple(log.evidence),
    )
    assert_pack_holds(pack, log, expected)
    text = words(" ".join(pdf_pages(pack.members["timeline.pdf"])))
    assert words(log.impact_notes["august"]["description"]) not in text
    assert json.loads(pack.members["manifest.json"])["filters"]["include"] == ["evidence"]


def test_include_impact_notes_only_leaves_the_files_out(case: SharedCase, log: Log) -> None:
    pack = export(case.victim, include="impact_notes")
    expected = expected_items(
        log,
        incidents=tuple(log.incidents),
        reports=tuple(log.reports),
        impact_notes=tuple(log.impact_notes),
        advocate_notes=(),
        evidence=(),
    )
    assert_pack_holds(pack, log, expected)
    assert pack.evidence_paths == []


@pytest.mark.parametrize(
    "params",
    [
        {"include": "evidence,photos"},
        {"include": "everything"},
        {"from": "2026-10-01T00:00:00+01:00", "to": "2026-09-01T00:00:00+01:00"},
        {"from": "2026-10-01T00:00:00+01:00", "to": "2026-10-01T00:00:00+01:00"},
        {"from": "2026-10-01T00:00:00"},  # no offset: which zone would it be?
        {"to": "last tuesday"},
        {"crime_reference": "C" * 65},
        {"exhibit_prefix": "A1"},
        {"exhibit_prefix": "A/H"},
        {"exhibit_prefix": "ABCDEFG"},
        {"case_label": "x" * 101},
    ],
)
def test_bad_filters_are_422(case: SharedCase, params: dict[str, str], db_engine: Engine) -> None:
    victim_id = user_id(case.victim)
    before = audit_count(db_engine, victim_id)
    for url in (PACK, case_pack_url(case.case_id)):
        client = case.victim if url == PACK else case.advocate
        assert_problem(client.get(url, params=params), 422)
    assert audit_count(db_engine, victim_id) == before


# Who may export.


def test_nobody_signed_in_gets_401(client: TestClient) -> None:
    assert_problem(client.get(PACK), 401)
    assert_problem(client.get(case_pack_url(str(uuid.uuid4()))), 401)


def test_an_advocate_cannot_use_the_victims_export(case: SharedCase) -> None:
    body = assert_problem(case.advocate.get(PACK), 403)
    assert VICTIM_NAME not in json.dumps(body)


def test_an_advocate_without_export_permission_gets_403_and_nothing_is_recorded(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    refused = shared_case(app, make_client, victim_name=VICTIM_NAME, can_export=False)
    log_incident(refused.victim, description="He was at the school gates again.")
    victim_id = user_id(refused.victim)
    before = audit_count(db_engine, victim_id)
    body = assert_problem(refused.advocate.get(case_pack_url(refused.case_id)), 403)
    assert "school gates" not in json.dumps(body)
    assert audit_count(db_engine, victim_id) == before


def test_an_advocate_with_export_permission_gets_a_pack_that_verifies(
    case: SharedCase, tmp_path: Path
) -> None:
    incident = log_incident(case.victim, description="He was at the school gates again.")
    photo = png_screenshot()
    upload_evidence(case.victim, photo, filename="gates.png", incident_ids=[incident["id"]])
    response = case.advocate.get(case_pack_url(case.case_id))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["content-disposition"].startswith("attachment;")
    pack = open_pack(response.content)
    assert pack.members[pack.evidence_paths[0]] == photo
    manifest = json.loads(pack.members["manifest.json"])
    assert manifest["kept_by"] == VICTIM_NAME
    assert manifest["exported_by"] == {"display_name": "Sam", "role": "advocate"}
    assert "Sam (advocate)" in pack.members["README.txt"].decode()
    result = verify_pack(saved(tmp_path, response.content), signing_key_fingerprint(case.victim))
    assert result.exit_code == 0, result.output


def test_an_advocates_pack_holds_their_own_notes_not_another_advocates(
    app: FastAPI, make_client: ClientFactory, case: SharedCase
) -> None:
    """On the case timeline an advocate sees the notes of their own case only; the pack they
    export holds no more than that."""
    other, _ = signed_in_staff(
        app, make_client, display_name="Jo", organisation_name="Another Service"
    )
    other_case = share_with(case.victim, other, can_export=True)
    mine = write_note(case.advocate, case.case_id, "Crossroads: safety plan agreed.").json()
    theirs = write_note(other, other_case, "Another Service: housing referral made.").json()
    own_items = pack_items(export(case.advocate, case_pack_url(case.case_id), include=ALL_INCLUDED))
    assert own_items["advocate_note"] == {mine["id"]}
    other_items = pack_items(export(other, case_pack_url(other_case), include=ALL_INCLUDED))
    assert other_items["advocate_note"] == {theirs["id"]}
    # The victim's own pack holds both.
    assert pack_items(export(case.victim, include=ALL_INCLUDED))["advocate_note"] == {
        mine["id"],
        theirs["id"],
    }


def test_another_advocate_gets_404_for_a_case_that_is_not_theirs(
    app: FastAPI, make_client: ClientFactory, case: SharedCase
) -> None:
    log_incident(case.victim, description="He was at the school gates again.")
    stranger, _ = signed_in_staff(app, make_client, organisation_name="Elsewhere")
    colleague, _ = signed_in_staff(app, make_client, display_name="Kim")
    for advocate in (stranger, colleague):
        body = assert_problem(advocate.get(case_pack_url(case.case_id)), 404)
        assert VICTIM_NAME not in json.dumps(body)
    assert_problem(case.advocate.get(case_pack_url(str(uuid.uuid4()))), 404)


def test_a_revoked_share_exports_nothing(case: SharedCase) -> None:
    assert revoke(case.victim, case.case_id).status_code == 204
    assert_problem(case.advocate.get(case_pack_url(case.case_id)), 404)


def audit_events(client: TestClient) -> list[dict[str, Any]]:
    return walk(client, AUDIT, order="asc")


def test_every_export_is_on_the_victims_audit_trail(case: SharedCase) -> None:
    log_incident(case.victim)
    victim_id = str(user_id(case.victim))
    exports: list[tuple[TestClient, str, Callable[[dict[str, Any]], bool]]] = [
        (
            case.victim,
            PACK,
            lambda e: (
                e["actor"]["role"] == "victim"
                and e["target_kind"] == "account"
                and e["target_id"] == victim_id
            ),
        ),
        (
            case.advocate,
            case_pack_url(case.case_id),
            lambda e: (
                e["actor"]["role"] == "advocate"
                and e["actor"]["display_name"] == "Sam"
                and e["target_kind"] == "share"
                and e["target_id"] == case.case_id
            ),
        ),
        (
            case.victim,
            PACK,
            lambda e: e["actor"]["role"] == "victim",
        ),
    ]
    for client, url, expected_event in exports:
        before = audit_events(case.victim)
        pack = export(client, url, crime_reference=CRIME_REFERENCE)
        after = audit_events(case.victim)
        added = after[len(before) :]
        assert [e["action"] for e in added] == ["pack.exported"], added
        assert expected_event(added[0]), added[0]
        assert added[0]["description"]
        verification = read(case.victim, f"{AUDIT}/verify")
        assert verification["valid"] is True
        assert verification["count"] == len(after)
        # The pack's own trail ends with the event that records it.
        events = json.loads(pack.members["audit.json"])["events"]
        assert events[-1]["hash"] == added[0]["hash"] == verification["head"]
        assert json.loads(pack.members["manifest.json"])["audit_head"] == verification["head"]
