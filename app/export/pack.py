"""Assemble the evidence pack as a zip that streams with its exact size known in advance.

The small files (README, PDF, CSV, JSON, audit trail, manifest, signature, SHA256SUMS) are made
first, in memory; the evidence files are decrypted and streamed straight into the zip. Entries
are stored, not compressed (photos and video do not compress, and stored entries let the total
size be worked out before the first byte is sent), so memory does not grow with the evidence.
"""

import base64
import hashlib
import json
import re
import textwrap
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zipstream import ZipStream

from app import __version__
from app.export.content import KIND_ORDER, AuditEntry, PackContent, utc_stamp
from app.export.sidecars import sidecars
from app.export.timeline_csv import timeline_csv
from app.export.times import PACK_ZONE, in_zone, short_zone_time, utc_instant, zone_date
from app.services.media_types import accepted
from app.storage.crypto import SigningKey, key_fingerprint, public_key_pem, sign

# Decrypted evidence bytes for one file: (evidence id) -> chunks.
EvidenceSource = Callable[[uuid.UUID], Iterator[bytes]]


@dataclass(frozen=True)
class Pack:
    filename: str
    size: int
    chunks: Iterator[bytes]


def grouped(fingerprint: str) -> str:
    """The fingerprint in 16 groups of four, to be read aloud or compared by eye."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


def same_fingerprint(given: str, fingerprint: str) -> bool:
    """Whether `given` names this fingerprint, however it was written: upper or lower case,
    in groups, with colons, or with a "SHA256:" prefix."""
    cleaned = given.strip().lower().removeprefix("sha256:")
    return re.sub(r"[\s:]", "", cleaned) == fingerprint


def _slug(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem.lower()).strip("-")
    return slug[:40].strip("-") or "file"


def evidence_paths(content: PackContent, exhibits: dict[uuid.UUID, str]) -> dict[uuid.UUID, str]:
    """evidence/AH-1-2026-09-30-front-door.jpg: the exhibit reference (a file name cannot hold
    its slash), the date it is placed at in the pack's zone, and the original name made safe."""
    paths = {}
    for item in content.evidence:
        moment = in_zone(content.placed_at(item))
        media = accepted(item.media_type)
        extension = media.extension if media else "bin"
        paths[item.id] = (
            f"evidence/{exhibits[item.id].replace('/', '-')}-{moment:%Y-%m-%d}-"
            f"{_slug(item.original_filename)}.{extension}"
        )
    return paths


def _timeline_rows(
    content: PackContent, exhibits: dict[uuid.UUID, str], paths: dict[uuid.UUID, str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for incident in content.incidents:
        rows.append(
            {
                "kind": "incident",
                "id": str(incident.id),
                "at": utc_instant(incident.occurred_at),
                "uk_time": short_zone_time(incident.occurred_at),
                "data": incident.model_dump(mode="json"),
                "revisions": content.revisions.get(incident.id, []),
            }
        )
    for report in content.police_reports:
        rows.append(
            {
                "kind": "police_report",
                "id": str(report.id),
                "at": utc_instant(report.reported_at),
                "uk_time": short_zone_time(report.reported_at),
                "data": report.model_dump(mode="json"),
                "revisions": content.revisions.get(report.id, []),
            }
        )
    for note in content.impact_notes:
        rows.append(
            {
                "kind": "impact_note",
                "id": str(note.id),
                "at": utc_instant(note.noted_at),
                "uk_time": short_zone_time(note.noted_at),
                "data": note.model_dump(mode="json"),
                "revisions": content.revisions.get(note.id, []),
            }
        )
    for advocate_note in content.advocate_notes:
        rows.append(
            {
                "kind": "advocate_note",
                "id": str(advocate_note.id),
                "at": utc_instant(advocate_note.created_at),
                "uk_time": short_zone_time(advocate_note.created_at),
                "data": advocate_note.model_dump(mode="json"),
                "revisions": [],
            }
        )
    for item in content.evidence:
        data = item.model_dump(mode="json", by_alias=True)
        data["exhibit"], data["path"] = exhibits[item.id], paths[item.id]
        if item.id in content.capture_notes:  # captured_at was read in the pack's zone
            data["capture_note"] = content.capture_notes[item.id]
        rows.append(
            {
                "kind": "evidence",
                "id": str(item.id),
                "at": utc_instant(content.placed_at(item)),
                "uk_time": short_zone_time(content.placed_at(item)),
                "data": data,
                "revisions": content.revisions.get(item.id, []),
            }
        )
    rows.sort(
        key=lambda row: (
            datetime.fromisoformat(row["at"]).timestamp(),
            KIND_ORDER[row["kind"]],
            row["id"],
        )
    )
    return rows


def _audit_json(events: list[AuditEntry]) -> bytes:
    return _json_listing(
        {
            "about": "The custody trail of this log. Each event's hash is "
            "sha256(prev_hash bytes || canonical JSON of the event); see README.txt."
        },
        "events",
        [
            {
                "victim_id": str(e.victim_id),
                "seq": e.seq,
                "at": e.at.isoformat(timespec="microseconds"),
                "actor_id": str(e.actor_id) if e.actor_id else None,
                "actor_role": e.actor_role,
                "action": e.action,
                "target_kind": e.target_kind,
                "target_id": str(e.target_id) if e.target_id else None,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
    )


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json_listing(fields: dict[str, Any], key: str, items: list[Any]) -> bytes:
    """`fields` and then `key`: `items` as one JSON object, an item a line. (With `indent`,
    json falls back to its pure-Python encoder: 0.2 s for a log of 2,000 incidents.)"""
    head = "".join(f"  {_encode(name)}: {_encode(value)},\n" for name, value in fields.items())
    listed = ",\n".join(f"    {_encode(item)}" for item in items)
    return f"{{\n{head}  {_encode(key)}: [\n{listed}\n  ]\n}}\n".encode()


def _readme(
    content: PackContent, folder: str, generated_at: datetime, fingerprint: str, listed: int
) -> bytes:
    start, end = content.period()
    period = f"{zone_date(start)} to {zone_date(end)}" if start and end else "no dated items"
    prefix, count = content.exhibit_prefix, len(content.evidence)
    exhibits = (
        f"{prefix}/1 to {prefix}/{count}" if count > 1 else f"{prefix}/1" if count else "none"
    )
    wider = ""
    if content.wider_history is not None:
        line = content.wider_history.describe(", ".join(content.crime_references))
        wider = "\n\n" + textwrap.fill(line, width=92)
    text = f"""WAYMARK EVIDENCE PACK
=====================

This folder is a record of stalking incidents kept by {content.victim.display_name}, exported
from Waymark {__version__} at {short_zone_time(generated_at)} by
{content.exported_by.display_name} ({content.exported_by.role}). It covers {period}.{wider}

What is here
------------
timeline.pdf     the chronology to read, exhibit {content.chronology_exhibit}: a summary first,
                 then every item in time order, the impact on daily life, and an index
                 of the evidence with fingerprints
statement-draft.pdf
                 a draft statement producing the exhibits (what each is, how and when
                 it was obtained, its SHA-256, where it is kept): unsigned, to be
                 checked, completed and signed
timeline.csv     the same items, one row each, for a spreadsheet
timeline.json    the same, machine-readable, with every earlier version of amended items
evidence/        the original files, byte for byte as they were uploaded: exhibits
                 {exhibits}, in time order, each file's name starting with its
                 exhibit reference ({prefix}-1-... is {prefix}/1). Beside each is a
                 sidecar (the same name and .json) with its capture time, source,
                 incidents and SHA-256, to upload with it to a force evidence portal
audit.json       the custody trail: every action on this log, hash-chained
manifest.json    every file's size and SHA-256, the filters used, and the audit trail's head
manifest.sig     an Ed25519 signature of manifest.json (base64)
signing-key.pub  the public key the signatures check against
SHA256SUMS       the SHA-256 of every other file: {listed} files
SHA256SUMS.sig   an Ed25519 signature of SHA256SUMS (raw bytes)

How to check nothing has been changed (two commands)
----------------------------------------------------
From inside this folder:

  sha256sum -c SHA256SUMS
      every line must say OK, and there must be {listed} lines.
      On a Mac: shasum -a 256 -c SHA256SUMS

  openssl pkeyutl -verify -pubin -inkey signing-key.pub -rawin \\
      -in SHA256SUMS -sigfile SHA256SUMS.sig
      must say "Signature Verified Successfully" (OpenSSL 3.0 or newer).

Together they cover every byte: the first checks each file against SHA256SUMS, the second
that SHA256SUMS is the one the service signed. Any file in the folder that SHA256SUMS does not
list was not in the pack as it was made.

Whose key signed it
-------------------
A signature only proves where the pack came from if signing-key.pub is the service's own key.
Its fingerprint (SHA-256 of the key in DER form) is

  {grouped(fingerprint)}

Work it out yourself from the key in this folder:

  openssl pkey -pubin -in signing-key.pub -outform DER | sha256sum

and compare it with the fingerprint the service publishes at /api/v1/signing-key, or that
the victim's advocacy service gives you directly. If they differ, the pack was not signed
by that service.

With the Waymark software, `waymark verify-pack PACK.zip --fingerprint FINGERPRINT` runs every
check, including the manifest against the files and the audit trail's hash chain.

Notes for the reader
--------------------
- Every time a person reads here (timeline.pdf, this file, the *uk_time columns of
  timeline.csv) is UK time ({PACK_ZONE.key}), named BST or GMT at each time. When the clocks
  go back, 01:00 to 01:59 happen twice; BST is the first, GMT the second, and the text says
  so. timeline.json, manifest.json and the *at columns of timeline.csv give the same
  instants in UTC.
- In timeline.csv, a cell that would begin with = + - @ or a tab (which a spreadsheet could
  run as a formula) begins with an apostrophe instead; timeline.json has every value as
  written.
- A capture time a file gives without a time zone is read as UK time, and the chronology
  says so. A file with no capture time says so, and is placed with the incident it
  belongs to (or, with none in the pack, at its upload).
- Capture times of photos and video come from the files' own metadata: they are what the
  file claims, not something Waymark could check.
- Items the person withdrew are not in this pack. An amended item says in timeline.pdf when
  each amendment was made, by whom and what it changed; timeline.json holds every version.
- Impact notes and descriptions are the person's own words.

Folder: {folder}
"""
    return text.replace("\n", "\r\n").encode("utf-8")


def build(
    content: PackContent,
    *,
    signing_key: SigningKey,
    generated_at: datetime,
    evidence_bytes: EvidenceSource,
) -> Pack:
    folder = f"waymark-evidence-pack-{utc_stamp(generated_at)}"
    public_key = signing_key.public_key()
    fingerprint = key_fingerprint(public_key)
    exhibits = content.exhibits
    paths = evidence_paths(content, exhibits)
    # The PDF first: the memory it works in (fonts, pages) is freed when it is done, and the
    # rows of the timeline's other files are made in it, rather than on top of it.
    timeline_pdf = _pdf(content, generated_at)
    statement_pdf = _statement(
        content, generated_at, folder, paths, hashlib.sha256(timeline_pdf).hexdigest()
    )
    timeline_csv, timeline_json = _timeline_files(content, exhibits, paths)
    # Every file but the manifest, its signature and SHA256SUMS; with those two, what
    # SHA256SUMS lists.
    listed = 2 * len(content.evidence) + 9
    small: dict[str, bytes] = {
        "README.txt": _readme(content, folder, generated_at, fingerprint, listed),
        "timeline.pdf": timeline_pdf,
        "statement-draft.pdf": statement_pdf,
        "timeline.csv": timeline_csv,
        "timeline.json": timeline_json,
        "audit.json": _audit_json(content.audit_events),
        "signing-key.pub": public_key_pem(public_key),
    }
    small |= sidecars(content, exhibits, paths, folder)
    files = [
        {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for path, data in small.items()
    ] + [
        {"path": paths[item.id], "size": item.size, "sha256": item.sha256}
        for item in content.evidence
    ]
    small["manifest.json"] = _manifest(content, generated_at, fingerprint, files)
    small["manifest.sig"] = base64.b64encode(sign(signing_key, small["manifest.json"])) + b"\n"
    small["SHA256SUMS"] = _sha256sums(files, small)
    assert small["SHA256SUMS"].count(b"\n") == listed
    small["SHA256SUMS.sig"] = sign(signing_key, small["SHA256SUMS"])

    stream = ZipStream(sized=True)
    for name, data in small.items():
        stream.add(data, f"{folder}/{name}")
    for item in content.evidence:
        stream.add(evidence_bytes(item.id), f"{folder}/{paths[item.id]}", size=item.size)
    return Pack(filename=f"{folder}.zip", size=len(stream), chunks=iter(stream))


def _timeline_files(
    content: PackContent, exhibits: dict[uuid.UUID, str], paths: dict[uuid.UUID, str]
) -> tuple[bytes, bytes]:
    """timeline.csv and timeline.json (their rows are let go as soon as both are made)."""
    rows = _timeline_rows(content, exhibits, paths)
    timeline_json = _json_listing({"generator": f"Waymark {__version__}"}, "items", rows)
    del rows
    return timeline_csv(content, exhibits, paths), timeline_json


def _pdf(content: PackContent, generated_at: datetime) -> bytes:
    # Imported here, not at the top: fpdf2 and fontTools take about 20 MiB, which a server
    # process should hold only once it has made a pack.
    from app.export.pdf import render

    return render(content, generated_at)


def _statement(
    content: PackContent,
    generated_at: datetime,
    folder: str,
    paths: dict[uuid.UUID, str],
    chronology_sha256: str,
) -> bytes:
    from app.export.statement import render_statement  # with fpdf2, as _pdf says

    return render_statement(
        content, generated_at, folder=folder, paths=paths, chronology_sha256=chronology_sha256
    )


def _manifest(
    content: PackContent, generated_at: datetime, fingerprint: str, files: list[dict[str, Any]]
) -> bytes:
    return _json(
        {
            "generator": "Waymark",
            "version": __version__,
            "generated_at": generated_at.isoformat(),
            "kept_by": content.victim.display_name,
            "exported_by": {
                "display_name": content.exported_by.display_name,
                "role": content.exported_by.role,
            },
            "filters": content.filters.describe(),
            "case": content.case_label,
            "wider_history": _wider(content),
            "exhibits": {
                "prefix": content.exhibit_prefix,
                "originals": len(content.evidence),
                "chronology": content.chronology_exhibit,
            },
            "counts": {
                "incidents": len(content.incidents),
                "police_reports": len(content.police_reports),
                "impact_notes": len(content.impact_notes),
                "evidence": len(content.evidence),
                "advocate_notes": len(content.advocate_notes),
                "audit_events": len(content.audit_events),
            },
            "audit_head": content.audit_events[-1].hash if content.audit_events else None,
            "signing_key_fingerprint": fingerprint,
            "files": files,
        }
    )


def _wider(content: PackContent) -> dict[str, Any] | None:
    history = content.wider_history
    if history is None:
        return None
    return {
        "incidents": history.incidents,
        "incidents_in_pack": history.in_pack,
        "first": utc_instant(history.first) if history.first else None,
        "last": utc_instant(history.last) if history.last else None,
        "other_crime_references": [
            {"crime_reference": ref, "first_reported": utc_instant(at)}
            for ref, at in history.other_references
        ],
    }


def _sha256sums(files: list[dict[str, Any]], small: dict[str, bytes]) -> bytes:
    """Every file but SHA256SUMS itself: those the manifest lists, the manifest and its
    signature."""
    sums = [(entry["path"], entry["sha256"]) for entry in files]
    sums += [
        (name, hashlib.sha256(small[name]).hexdigest())
        for name in ("manifest.json", "manifest.sig")
    ]
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(sums)).encode()
