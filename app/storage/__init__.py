"""Blob stores (local folder, S3-compatible) behind one protocol."""

import os
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from app.config import ConfigurationError


class BlobStore(Protocol):
    def check(self) -> bool:
        """True when the store can be written to now (for /health)."""
        ...


class LocalBlobStore:
    """Blobs in a folder on this machine: the single-machine default."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def check(self) -> bool:
        return self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)


def open_blob_store(url: str) -> BlobStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(unquote(parsed.path)))
    raise ConfigurationError(
        f"WAYMARK_STORAGE_URL scheme {parsed.scheme!r} is not supported by this version "
        "(use a file:// folder)"
    )
