"""`waymark verify-pack`: check a pack the way an officer's expert would, and say so plainly.

Checks: every file listed in SHA256SUMS is present and matches; nothing unlisted was added; the
manifest's sizes and hashes match the files, and it lists every file but itself, its signature
and SHA256SUMS; manifest.sig is a valid Ed25519 signature of manifest.json by signing-key.pub
(and, if given, that key is the expected one); the audit trail's hash chain holds and ends at
the head the manifest recorded.
"""

import base64
import binascii
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.export.pack import key_fingerprint
from app.models.audit import AuditEvent
from app.services.audit import verify_events

CHUNK = 1024 * 1024


@dataclass
class Report:
    checks: list[tuple[bool, str]] = field(default_factory=list)

    def add(self, ok: bool, message: str) -> bool:
        self.checks.append((ok, message))
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for ok, _ in self.checks)

    def lines(self) -> list[str]:
        return [f"{'OK  ' if ok else 'FAIL'}  {message}" for ok, message in self.checks]


def _sha256(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_pack(path: Path, expected_fingerprint: str | None = None) -> Report:
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        report.add(False, f"not a readable zip file ({type(error).__name__})")
        return report
    with archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        folders = {n.split("/", 1)[0] for n in names}
        if len(folders) != 1 or any("/" not in n for n in names):
            report.add(False, "the pack must hold exactly one top folder")
            return report
        folder = folders.pop()
        report.add(folder.startswith("waymark-evidence-pack-"), f"top folder {folder}")

        def read(name: str) -> bytes | None:
            try:
                return archive.read(f"{folder}/{name}")
            except KeyError:
                report.add(False, f"{name} is missing")
                return None

        sums, manifest_bytes, signature, public_pem, audit_bytes = (
            read("SHA256SUMS"),
            read("manifest.json"),
            read("manifest.sig"),
            read("signing-key.pub"),
            read("audit.json"),
        )
        if None in (sums, manifest_bytes, signature, public_pem, audit_bytes):
            return report
        assert sums and manifest_bytes and signature and public_pem and audit_bytes
        _check_sums(archive, folder, names, sums, report)
        manifest = _check_manifest(archive, folder, names, manifest_bytes, report)
        _check_signature(
            manifest_bytes, signature, public_pem, expected_fingerprint, manifest, report
        )
        _check_audit(audit_bytes, manifest, report)
    return report


def _check_sums(
    archive: zipfile.ZipFile, folder: str, names: list[str], sums: bytes, report: Report
) -> None:
    listed: dict[str, str] = {}
    good = True
    # Lines end in "\n" and nothing else, as sha256sum writes and reads them: splitlines()
    # would also break at "\v", "\f", "\x1c"…, so a changed line break would go unnoticed.
    lines = sums.decode("utf-8", "replace").split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        digest, separator, name = line.partition("  ")
        if not separator or not name:
            good = report.add(False, "SHA256SUMS has a line that is not 'sha256  file'")
            continue
        listed[name] = digest
    for name, digest in listed.items():
        member = f"{folder}/{name}"
        if member not in names:
            good = report.add(False, f"{name} is listed in SHA256SUMS but missing") and good
            continue
        actual, _ = _sha256(archive, member)
        if actual != digest:
            good = report.add(False, f"{name} does not match its SHA-256") and good
    unlisted = sorted(n.split("/", 1)[1] for n in names)
    extra = [n for n in unlisted if n not in listed and n != "SHA256SUMS"]
    for name in extra:
        good = report.add(False, f"{name} is not listed in SHA256SUMS (added later?)") and good
    if good:
        report.add(True, f"SHA256SUMS: all {len(listed)} files match")


def _check_manifest(
    archive: zipfile.ZipFile, folder: str, names: list[str], manifest_bytes: bytes, report: Report
) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(manifest_bytes)
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        report.add(False, "manifest.json is not a Waymark manifest")
        return {}
    good = True
    recorded: set[str] = set()
    for entry in files:
        try:
            path, expected_sha256, expected_size = entry["path"], entry["sha256"], entry["size"]
        except (KeyError, TypeError):
            good = report.add(False, "manifest.json has a file entry it cannot read")
            continue
        member = f"{folder}/{path}"
        recorded.add(member)
        try:
            actual, size = _sha256(archive, member)
        except KeyError:
            good = report.add(False, f"{path} is in the manifest but missing") and good
            continue
        if actual != expected_sha256 or size != expected_size:
            good = report.add(False, f"{path} does not match the manifest") and good
    # The signed file list is the one the service made: nothing may have been added to it.
    unsigned = {f"{folder}/{name}" for name in ("manifest.json", "manifest.sig", "SHA256SUMS")}
    for member in sorted(set(names) - recorded - unsigned):
        good = report.add(False, f"{member.split('/', 1)[1]} is not in the manifest") and good
    if good:
        report.add(True, f"manifest: all {len(files)} files have the recorded size and SHA-256")
    return manifest


def _check_signature(
    manifest_bytes: bytes,
    signature: bytes,
    public_pem: bytes,
    expected: str | None,
    manifest: dict[str, Any],
    report: Report,
) -> None:
    try:
        key = serialization.load_pem_public_key(public_pem)
        raw_signature = base64.b64decode(signature.strip(), validate=True)
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        report.add(False, "signing-key.pub or manifest.sig cannot be read")
        return
    if not isinstance(key, Ed25519PublicKey):
        report.add(False, "signing-key.pub is not an Ed25519 key")
        return
    try:
        key.verify(raw_signature, manifest_bytes)
        report.add(True, "manifest.sig is a valid signature of manifest.json")
    except InvalidSignature:
        report.add(False, "manifest.sig does not match manifest.json")
    fingerprint = key_fingerprint(key)
    if manifest.get("signing_key_fingerprint") not in (None, fingerprint):
        report.add(False, "the manifest names a different signing key")
    if expected is not None:
        report.add(
            fingerprint == expected,
            f"signing key {fingerprint} "
            f"{'is' if fingerprint == expected else 'is NOT'} the expected one",
        )
    else:
        report.add(
            True, f"signed by key {fingerprint} (compare it with the service's published key)"
        )


def _check_audit(audit_bytes: bytes, manifest: dict[str, Any], report: Report) -> None:
    try:
        raw_events = json.loads(audit_bytes)["events"]
        events = [
            AuditEvent(
                victim_id=e["victim_id"],
                seq=e["seq"],
                at=datetime.fromisoformat(e["at"]),
                actor_id=e["actor_id"],
                actor_role=e["actor_role"],
                action=e["action"],
                target_kind=e["target_kind"],
                target_id=e["target_id"],
                prev_hash=e["prev_hash"],
                hash=e["hash"],
            )
            for e in raw_events
        ]
    except (ValueError, KeyError, TypeError):
        report.add(False, "audit.json cannot be read")
        return
    result = verify_events(events, manifest.get("audit_head"))
    if result.valid:
        report.add(True, f"audit trail: {result.count} events, hash chain intact")
    else:
        report.add(False, f"audit trail: the hash chain breaks at event {result.broken_at}")
