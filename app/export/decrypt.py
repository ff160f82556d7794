"""An evidence file's plaintext for the pack, read and decrypted in large pieces.

A pack can carry gigabytes of evidence. Reading it one 64 KiB segment at a time meant a store
read (a file opened, or an S3 request) per segment, and a chunk per segment through the zip
stream and the response: the overhead of each, sixteen thousand times a GiB. Here the
ciphertext is read 1 MiB at a time and the plaintext leaves in chunks of about 1 MiB, so the
memory held per pack stays a few MiB however large the files are.
"""

from collections.abc import Iterable, Iterator

from app.storage import BlobStore
from app.storage.crypto import CIPHER_SEGMENT_SIZE, decrypt_range

# Whole encrypted segments per store read: 1 MiB of plaintext and their tags.
READ_SIZE = 16 * CIPHER_SEGMENT_SIZE
CHUNK_SIZE = 1024 * 1024


class _ReadAhead:
    """Serves decrypt_range's small ciphertext reads from one large store read at a time.

    Its reads go forward through the blob (the header, then segment after segment), so one
    window at a time is all it keeps.
    """

    def __init__(self, store: BlobStore, key: str) -> None:
        self._store = store
        self._key = key
        self._start = 0
        self._window = b""

    def read_at(self, offset: int, length: int) -> bytes:
        begin = offset - self._start
        if begin < 0 or begin + length > len(self._window):
            self._window = self._store.read_at(self._key, offset, max(length, READ_SIZE))
            self._start, begin = offset, 0
        return self._window[begin : begin + length]


def decrypted(store: BlobStore, key: str, data_key: bytes, size: int) -> Iterator[bytes]:
    """The blob's plaintext (`size` bytes) in chunks of about CHUNK_SIZE. Raises
    DecryptionError, as decrypt_range does, if the blob was altered."""
    return _joined(decrypt_range(data_key, _ReadAhead(store, key).read_at, size), CHUNK_SIZE)


def _joined(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    held: list[bytes] = []
    length = 0
    for piece in pieces:
        held.append(piece)
        length += len(piece)
        if length >= size:
            yield b"".join(held)
            held, length = [], 0
    if held:
        yield b"".join(held)
