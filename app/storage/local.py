"""Blobs in a folder on this machine: the single-machine default.

Writes go to a temporary file in the same file system, are fsynced, renamed into place and the
folder fsynced, so a blob is either wholly there or not there at all, even after a power cut.
"""

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from app.storage import BlobNotFound, check_key


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.staging = root / "staging"
        for folder in (root, self.objects, self.staging):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, key: str) -> Path:
        check_key(key)
        # Two levels of fan-out keep folders small at millions of blobs.
        return self.objects / key[:2] / key[2:4] / key

    def check(self) -> bool:
        return self.root.is_dir() and os.access(self.objects, os.W_OK | os.X_OK)

    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.staging / f"{key}.{secrets.token_hex(8)}.partial"
        written = 0
        try:
            with temporary.open("xb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    written += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(target)
            _fsync_dir(target.parent)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return written

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)
