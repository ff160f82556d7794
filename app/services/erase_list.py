"""The erase list: the id of every erased account, one a line, in a file kept outside the
database (by default `keys/erased` in the data folder, beside the development keys).

A backup taken before an erasure still holds the person's rows and her wrapped data key, and
the master key opens it. `waymark restore` therefore deletes, from what it restores, every
account on this list before the service starts (docs/backups.md,
docs/adr/0007-erase-list-applied-at-restore.md). The list holds random ids only: without a
backup of before, an id says nothing about anyone.

An id is written, and synced to disk, before the erasure commits: a crash in between leaves an
id on the list whose account still exists, which errs towards forgetting someone who asked to
be forgotten. If the erasure rolls back instead, the id is taken off again (withdraw).
"""

import fcntl
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from app.config import Settings

FILE_NAME = "erased"


class EraseListError(Exception):
    pass


def path_for(settings: Settings) -> Path:
    return settings.keys_dir / FILE_NAME


def record(path: Path, account_id: uuid.UUID) -> None:
    """Append the id and sync it to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Processes (several workers, the CLI) append in turn, never into each other's lines.
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        # A line cut short by a crash belonged to an erasure that never committed: drop it
        # rather than glue this id onto it.
        content = os.pread(fd, size, 0) if size else b""
        kept = content[: content.rfind(b"\n") + 1]
        if len(kept) != size:
            os.ftruncate(fd, len(kept))
        os.pwrite(fd, f"{account_id}\n".encode(), len(kept))
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _sync_folder(path.parent)


def withdraw(path: Path, account_id: uuid.UUID) -> None:
    """Take an id off again, because its erasure rolled back and the account lives on."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        lines = os.pread(fd, os.fstat(fd).st_size, 0).splitlines(keepends=True)
        line = f"{account_id}\n".encode()
        if line not in lines:
            return
        # The newest entry is this erasure's own (an account is erased once).
        del lines[len(lines) - 1 - lines[::-1].index(line)]
        kept = b"".join(lines)
        os.pwrite(fd, kept, 0)
        os.ftruncate(fd, len(kept))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(paths: Iterable[Path]) -> set[uuid.UUID]:
    """Every id on the lists that exist (a missing list is an empty one)."""
    erased: set[uuid.UUID] = set()
    for path in paths:
        try:
            content = path.read_text()
        except FileNotFoundError:
            continue
        # The last line without its newline is a write cut short (see record): not an id.
        complete = content[: content.rfind("\n") + 1]
        for number, line in enumerate(complete.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                erased.add(uuid.UUID(line.strip()))
            except ValueError as error:
                raise EraseListError(f"{path} line {number} is not an account id") from error
    return erased


def _sync_folder(folder: Path) -> None:
    """Make the new file's name durable too, not only its content."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
