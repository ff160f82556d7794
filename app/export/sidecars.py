"""A sidecar JSON beside each original in evidence/, for a force's evidence portal.

Portals (Axon Evidence's community requests, NICE Investigate and the like) take files one by
one, and a photo's capture time, where it came from and its hash are lost on the way unless
they travel with it. So each original `evidence/AH-1-….jpg` has `evidence/AH-1-….jpg.json`
beside it, saying what the pack says about that file alone. The originals are not copied into
a second folder: the pack would double in size for files that are already side by side.
"""

import json
import uuid
from typing import Any

from app.export.content import PackContent
from app.export.times import short_zone_time, utc_instant
from app.models.evidence import EvidencePublic
from app.models.incident import IncidentPublic


def sidecar_path(path: str) -> str:
    return f"{path}.json"


def sidecars(
    content: PackContent, exhibits: dict[uuid.UUID, str], paths: dict[uuid.UUID, str], folder: str
) -> dict[str, bytes]:
    """Every original's sidecar, by its path in the pack."""
    incidents = {incident.id: incident for incident in content.incidents}
    references = content.crime_references
    return {
        sidecar_path(paths[item.id]): _sidecar(
            content,
            item,
            exhibits[item.id],
            paths[item.id],
            folder,
            [incidents[i] for i in item.incident_ids if i in incidents],
            references,
        )
        for item in content.evidence
    }


def _sidecar(
    content: PackContent,
    item: EvidencePublic,
    exhibit: str,
    path: str,
    folder: str,
    linked: list[IncidentPublic],
    references: list[str],
) -> bytes:
    value: dict[str, Any] = {
        "exhibit": exhibit,
        "file": path.rsplit("/", 1)[-1],
        "original_filename": item.original_filename,
        "media_type": item.media_type,
        "size": item.size,
        "sha256": item.sha256,
        "captured_at": utc_instant(item.captured_at) if item.captured_at else None,
        "captured_uk_time": short_zone_time(item.captured_at) if item.captured_at else None,
        "capture_time_source": (
            "the file's own metadata, as the file claims it"
            + (f"; {content.capture_notes[item.id]}" if item.id in content.capture_notes else "")
            if item.captured_at
            else "no capture time in the file"
        ),
        "uploaded_at": utc_instant(item.uploaded_at),
        "uploaded_uk_time": short_zone_time(item.uploaded_at),
        "source": f"uploaded to Waymark by {content.victim.display_name}",
        "description": item.description,
        "file_metadata": item.file_metadata,
        "incidents": [
            {
                "id": str(incident.id),
                "occurred_at": utc_instant(incident.occurred_at),
                "uk_time": short_zone_time(incident.occurred_at),
                "crime_references": incident.crime_references,
            }
            for incident in linked
        ],
        "case": content.case_label,
        "crime_references": references,
        "pack": folder,
        "verify": "sha256sum of the file must equal sha256; the pack's SHA256SUMS, signed, "
        "lists both this file and the original (see README.txt)",
    }
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
