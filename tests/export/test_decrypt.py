"""app/export/decrypt.py: an evidence file's plaintext for the pack, from few large reads.

Sizes around the edges that matter (empty, one byte, a segment, a store read), the chunks the
zip stream receives, how many times the store is read, and a blob changed on disk.
"""

import random
import uuid
from pathlib import Path

import pytest

from app.export.decrypt import CHUNK_SIZE, READ_SIZE, decrypted
from app.storage import write_blob
from app.storage.crypto import SEGMENT_SIZE, DecryptionError, encrypt_all, new_data_key
from app.storage.local import LocalBlobStore


class CountingStore(LocalBlobStore):
    """The local store, counting how often and how much it is read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[int] = []

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        self.reads.append(length)
        return super().read_at(key, offset, length)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "blobs")


def kept(store: CountingStore, plaintext: bytes, data_key: bytes) -> str:
    key = uuid.uuid4().hex
    write_blob(store, key, encrypt_all(data_key, [plaintext]))
    store.reads.clear()
    return key


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        SEGMENT_SIZE - 1,
        SEGMENT_SIZE,
        SEGMENT_SIZE + 1,
        CHUNK_SIZE,
        READ_SIZE + 1,
        3 * CHUNK_SIZE + SEGMENT_SIZE // 2,
    ],
)
def test_the_plaintext_comes_back_byte_for_byte(store: CountingStore, size: int) -> None:
    data_key = new_data_key()
    plaintext = random.Random(size).randbytes(size)
    key = kept(store, plaintext, data_key)
    chunks = list(decrypted(store, key, data_key, size))
    assert b"".join(chunks) == plaintext
    # Whole MiB chunks for the zip stream (the last one shorter), never empty ones.
    assert all(len(chunk) == CHUNK_SIZE for chunk in chunks[:-1])
    assert all(chunks) or size == 0


def test_the_store_is_read_a_mib_at_a_time_not_a_segment_at_a_time(
    store: CountingStore,
) -> None:
    data_key = new_data_key()
    size = 5 * CHUNK_SIZE + 123
    key = kept(store, random.Random(5).randbytes(size), data_key)
    for _ in decrypted(store, key, data_key, size):
        pass
    # The header's read brings in the first window; then one read per window.
    assert len(store.reads) <= size // (READ_SIZE - SEGMENT_SIZE) + 2
    assert all(length == READ_SIZE for length in store.reads)


def test_nothing_is_read_before_the_zip_stream_asks(store: CountingStore) -> None:
    data_key = new_data_key()
    key = kept(store, b"evidence", data_key)
    chunks = decrypted(store, key, data_key, len(b"evidence"))
    assert store.reads == []
    assert b"".join(chunks) == b"evidence"


def test_a_changed_blob_fails_loudly(store: CountingStore) -> None:
    data_key = new_data_key()
    size = 2 * CHUNK_SIZE
    key = kept(store, random.Random(2).randbytes(size), data_key)
    path = store.path(key)
    changed = bytearray(path.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    path.write_bytes(bytes(changed))
    with pytest.raises(DecryptionError):
        for _ in decrypted(store, key, data_key, size):
            pass
