"""A small file system of a test's own, to fill up for real: a tmpfs, or where the kernel will
not mount one here, an ext4 image on a loop device. Both need the right to mount (root, or
CAP_SYS_ADMIN); without it the test skips, and fails in CI (tests/support.py)."""

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import missing_service

MiB = 1024 * 1024


def _mount(arguments: list[str]) -> str | None:
    """Run mount; None if it worked, else why not (its message, for the skip reason)."""
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def _unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        # Something still has a file open there (a server that would not stop): detach it
        # now, and the kernel frees it once the last file is closed.
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=True)


@contextmanager
def small_filesystem(folder: Path, size_mib: int) -> Iterator[Path]:
    """Mount a file system of `size_mib` MiB at `folder` (made if need be); unmount it after."""
    folder.mkdir(parents=True, exist_ok=True)
    tmpfs = _mount(["-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(folder)])
    if tmpfs is None:
        try:
            yield folder
        finally:
            _unmount(folder)
        return
    image = folder.with_suffix(".img")
    with image.open("wb") as file:
        file.truncate(size_mib * MiB)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True)
    loop = _mount(["-o", "loop", str(image), str(folder)]) if made.returncode == 0 else made.stderr
    if loop is not None:
        image.unlink()
        missing_service(
            f"no small file system to fill: mounting a tmpfs failed ({tmpfs}), and so did an "
            f"ext4 image on a loop device ({loop}); both need root or CAP_SYS_ADMIN"
        )
    try:
        yield folder
    finally:
        _unmount(folder)
        image.unlink()


def fill(folder: Path) -> Path:
    """Write one file in `folder` until its file system has no room left; returns the file."""
    filler = folder / "filler"
    piece = b"\0" * MiB
    with filler.open("wb", buffering=0) as file:
        for size in (MiB, 4096, 1):
            try:
                while True:
                    file.write(piece[:size])
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
        try:
            os.fsync(file.fileno())
        except OSError as error:  # ext4 may only now find it cannot keep what it took
            if error.errno != errno.ENOSPC:
                raise
    return filler
