"""The blob store that WAYMARK_STORAGE_URL names.

Apart from the protocol (app/storage/__init__.py) so that each store's module, which needs the
protocol's errors and key check, is not also imported by it: no import circle.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

from app.config import ConfigurationError
from app.storage import BlobStore


def open_blob_store(url: str) -> BlobStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        from app.storage.local import LocalBlobStore

        return LocalBlobStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        from app.storage.s3 import S3BlobStore

        return S3BlobStore.from_url(url)
    raise ConfigurationError(
        f"WAYMARK_STORAGE_URL must be file:///… or s3://bucket?endpoint=…, not {parsed.scheme!r}"
    )
