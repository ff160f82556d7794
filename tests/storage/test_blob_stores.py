"""The same behaviour from every blob store: a local folder and a real S3 server."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage import BlobNotFound, BlobStore, write_blob
from app.storage.local import LocalBlobStore
from app.storage.s3 import PART_SIZE
from app.storage.stores import open_blob_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return open_blob_store((tmp_path / "blobs").as_uri())
    url: str = request.getfixturevalue("s3_url")
    return open_blob_store(url)


def _key() -> str:
    return uuid.uuid4().hex


def _chunks(total: int, size: int = 1_000_003) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield bytes([sent % 256]) * n
        sent += n


def test_write_read_and_delete(store: BlobStore) -> None:
    key = _key()
    assert write_blob(store, key, [b"hello ", b"world"]) == 11
    assert store.size(key) == 11
    assert store.read_at(key, 0, 11) == b"hello world"
    assert store.read_at(key, 6, 100) == b"world"
    store.delete(key)
    with pytest.raises(BlobNotFound):
        store.read_at(key, 0, 1)
    store.delete(key)  # deleting twice is fine


def test_empty_blob(store: BlobStore) -> None:
    key = _key()
    assert write_blob(store, key, []) == 0
    assert store.size(key) == 0


def test_large_blob_spanning_several_parts(store: BlobStore) -> None:
    key = _key()
    total = 2 * PART_SIZE + 12_345
    assert write_blob(store, key, _chunks(total)) == total
    assert store.size(key) == total
    assert (
        store.read_at(key, PART_SIZE - 2, 4)
        == b"".join(_chunks(total))[PART_SIZE - 2 : PART_SIZE + 2]
    )


def test_a_failed_write_leaves_nothing(store: BlobStore) -> None:
    key = _key()

    def failing() -> Iterator[bytes]:
        yield b"x" * (PART_SIZE + 1)
        raise OSError("connection dropped")

    with pytest.raises(OSError):
        write_blob(store, key, failing())
    with pytest.raises(BlobNotFound):
        store.size(key)


def test_keys_must_be_ids(store: BlobStore) -> None:
    for bad in ("../etc/passwd", "a" * 32 + "/x", "photo.jpg", "", "A" * 32):
        with pytest.raises(ValueError):
            write_blob(store, bad, [b"x"])


def test_health_check(store: BlobStore) -> None:
    assert store.check()


def test_local_store_leaves_no_staging_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    write_blob(store, _key(), [b"abc"])
    with pytest.raises(OSError):
        write_blob(
            store, _key(), iter([b"x", *iter(lambda: (_ for _ in ()).throw(OSError("boom")), None)])
        )
    assert list(store.staging.iterdir()) == []
