"""`waymark verify-pack`: check a pack the way an officer's expert would, and say so plainly.

The pack may be the zip as downloaded or the folder unzipped from it. Checks: every file listed
in SHA256SUMS is present and matches; nothing unlisted was added; SHA256SUMS.sig is a valid
Ed25519 signature of SHA256SUMS by signing-key.pub; the manifest's sizes and hashes match the
files, and it lists every file but itself, its signature and SHA256SUMS; manifest.sig is a valid
signature of manifest.json by the same key (and, if given, that key is the expected one); the
audit trail's hash chain holds and ends at the head the manifest recorded.
"""

import base64
import binascii
import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from app.export.pack import grouped, same_fingerprint
from app.models.audit import AuditEvent
from app.services.audit import verify_events
from app.storage.crypto import (
    KeyFormatError,
    VerifyKey,
    key_fingerprint,
    load_verify_key,
    signature_holds,
)

CHUNK = 1024 * 1024
# What SHA256SUMS cannot list: itself, and what is made from it once it is written.
NOT_LISTED = frozenset({"SHA256SUMS", "SHA256SUMS.sig"})


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


class Archive(Protocol):
    """The pack's files by their path from the folder above the pack's own (a zip's member
    names): `waymark-evidence-pack-…/README.txt`."""

    def namelist(self) -> list[str]: ...

    def open(self, name: str) -> IO[bytes]: ...

    def read(self, name: str) -> bytes: ...


class _Folder:
    """An unzipped pack, read as the zip would be. Symbolic links are not followed out of it:
    a link is reported as a file that cannot be read."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._parent = root.parent

    def namelist(self) -> list[str]:
        return sorted(
            path.relative_to(self._parent).as_posix()
            for path in self._root.rglob("*")
            if path.is_file() or path.is_symlink()
        )

    def _path(self, name: str) -> Path:
        path = self._parent / name
        if path.is_symlink() or not path.is_file() or self._parent not in path.parents:
            raise KeyError(name)
        return path

    def open(self, name: str) -> IO[bytes]:
        return self._path(name).open("rb")

    def read(self, name: str) -> bytes:
        return self._path(name).read_bytes()


@contextmanager
def _opened(path: Path) -> Iterator[Archive]:
    if path.is_dir():
        yield _Folder(path.resolve())
        return
    with zipfile.ZipFile(path) as archive:
        yield archive


def _sha256(archive: Archive, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_pack(path: Path, expected_fingerprint: str | None = None) -> Report:
    """`path` is the zip, or the pack's folder (the one named waymark-evidence-pack-…)."""
    report = Report()
    try:
        with _opened(path) as archive:
            _verify(archive, expected_fingerprint, report)
    except (zipfile.BadZipFile, OSError) as error:
        report.add(False, f"not a readable zip file or folder ({type(error).__name__})")
    return report


def _verify(archive: Archive, expected_fingerprint: str | None, report: Report) -> None:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    folders = {n.split("/", 1)[0] for n in names}
    if len(folders) != 1 or any("/" not in n for n in names):
        report.add(False, "the pack must hold exactly one top folder")
        return
    folder = folders.pop()
    report.add(folder.startswith("waymark-evidence-pack-"), f"top folder {folder}")

    def read(name: str) -> bytes | None:
        try:
            return archive.read(f"{folder}/{name}")
        except KeyError:
            report.add(False, f"{name} is missing")
            return None

    sums, sums_signature, manifest_bytes, signature, public_pem, audit_bytes = (
        read("SHA256SUMS"),
        read("SHA256SUMS.sig"),
        read("manifest.json"),
        read("manifest.sig"),
        read("signing-key.pub"),
        read("audit.json"),
    )
    if (
        sums is None
        or sums_signature is None
        or manifest_bytes is None
        or signature is None
        or public_pem is None
        or audit_bytes is None
    ):
        return
    _check_sums(archive, folder, names, sums, report)
    manifest = _check_manifest(archive, folder, names, manifest_bytes, report)
    key = _public_key(public_pem, report)
    if key is not None:
        _check_signatures(key, sums, sums_signature, manifest_bytes, signature, report)
        _check_key(key, expected_fingerprint, manifest, report)
    _check_audit(audit_bytes, manifest, report)


def _check_sums(
    archive: Archive, folder: str, names: list[str], sums: bytes, report: Report
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
        try:
            actual, _ = _sha256(archive, member)
        except KeyError:
            good = report.add(False, f"{name} cannot be read (not a plain file)") and good
            continue
        if actual != digest:
            good = report.add(False, f"{name} does not match its SHA-256") and good
    unlisted = sorted(n.split("/", 1)[1] for n in names)
    extra = [n for n in unlisted if n not in listed and n not in NOT_LISTED]
    for name in extra:
        good = report.add(False, f"{name} is not listed in SHA256SUMS (added later?)") and good
    if good:
        report.add(True, f"SHA256SUMS: all {len(listed)} files match")


def _check_manifest(
    archive: Archive, folder: str, names: list[str], manifest_bytes: bytes, report: Report
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
    unsigned = {
        f"{folder}/{name}"
        for name in ("manifest.json", "manifest.sig", "SHA256SUMS", "SHA256SUMS.sig")
    }
    for member in sorted(set(names) - recorded - unsigned):
        good = report.add(False, f"{member.split('/', 1)[1]} is not in the manifest") and good
    if good:
        report.add(True, f"manifest: all {len(files)} files have the recorded size and SHA-256")
    return manifest


def _public_key(public_pem: bytes, report: Report) -> VerifyKey | None:
    try:
        return load_verify_key(public_pem)
    except KeyFormatError as error:
        report.add(False, f"signing-key.pub {error}")
        return None


def _check_signatures(
    key: VerifyKey,
    sums: bytes,
    sums_signature: bytes,
    manifest_bytes: bytes,
    manifest_signature: bytes,
    report: Report,
) -> None:
    """SHA256SUMS.sig is raw (what openssl's -sigfile reads); manifest.sig is base64."""
    if signature_holds(key, sums_signature, sums):
        report.add(True, "SHA256SUMS.sig is a valid signature of SHA256SUMS")
    else:
        report.add(False, "SHA256SUMS.sig does not match SHA256SUMS")
    try:
        raw_signature = base64.b64decode(manifest_signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw_signature = b""  # then it cannot match
    if signature_holds(key, raw_signature, manifest_bytes):
        report.add(True, "manifest.sig is a valid signature of manifest.json")
    else:
        report.add(False, "manifest.sig does not match manifest.json")


def _check_key(
    key: VerifyKey, expected: str | None, manifest: dict[str, Any], report: Report
) -> None:
    fingerprint = key_fingerprint(key)
    if manifest.get("signing_key_fingerprint") not in (None, fingerprint):
        report.add(False, "the manifest names a different signing key")
    if expected is not None:
        matches = same_fingerprint(expected, fingerprint)
        report.add(
            matches,
            f"signing key {grouped(fingerprint)} {'is' if matches else 'is NOT'} the expected one",
        )
    else:
        report.add(
            True,
            f"signed by key {grouped(fingerprint)} "
            "(compare it with the service's published key, or pass --fingerprint)",
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
