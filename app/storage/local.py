"""Blobs in a folder on this machine: the single-machine default.

A blob is written to a temporary file in the same file system, fsynced, renamed into place and
the folder fsynced, so it is either wholly there or not there at all, even after a power cut.
"""

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from app.storage import KEY_PATTERN, BlobNotFound, Stored, check_key, owner_of


def stored_file(path: Path, name: str) -> Stored | None:
    """A file as the sweep sees it (None if it went meanwhile or is not one of ours)."""
    owner = owner_of(path.name)
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None
    return Stored(name=name, owner=owner, modified=modified) if owner else None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobWriter:
    def __init__(self, temporary: Path, target: Path) -> None:
        self._temporary = temporary
        self._target = target
        self._handle: BinaryIO | None = temporary.open("xb")

    def write(self, data: bytes) -> None:
        assert self._handle is not None, "writer already closed"
        self._handle.write(data)

    def commit(self) -> None:
        assert self._handle is not None, "writer already closed"
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        self._target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._temporary.replace(self._target)
        fsync_dir(self._target.parent)

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._temporary.unlink(missing_ok=True)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.staging = root / "staging"
        for folder in (root, self.objects, self.staging):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, key: str) -> Path:
        check_key(key)
        # Two levels of fan-out keep folders small at millions of blobs.
        return self.objects / key[:2] / key[2:4] / key

    def check(self) -> bool:
        return self.root.is_dir() and os.access(self.objects, os.W_OK | os.X_OK)

    def open_writer(self, key: str) -> LocalBlobWriter:
        target = self.path(key)
        return LocalBlobWriter(self.staging / f"{key}.{secrets.token_hex(8)}.partial", target)

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        try:
            with self.path(key).open("rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def listing(self) -> Iterator[Stored]:
        for path in self.objects.glob("*/*/*"):
            if KEY_PATTERN.match(path.name):
                found = stored_file(path, path.name)
                if found is not None:
                    yield found

    def delete(self, key: str) -> None:
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)
