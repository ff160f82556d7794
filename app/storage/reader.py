"""A seekable, read-only file over an encrypted blob, decrypting one segment at a time.

Pillow, hachoir and the evidence pack read plaintext through this without the whole file ever
being decrypted into memory or onto disk.
"""

import io
from collections.abc import Iterator

from app.storage import BlobStore
from app.storage.crypto import SEGMENT_SIZE, decrypt_range


class BlobReader(io.RawIOBase):
    def __init__(self, store: BlobStore, key: str, data_key: bytes, size: int) -> None:
        self._store = store
        self._key = key
        self._data_key = data_key
        self._size = size
        self._position = 0
        self._segment_index = -1
        self._segment = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        if self._position >= self._size:
            return 0
        index = self._position // SEGMENT_SIZE
        if index != self._segment_index:
            start = index * SEGMENT_SIZE
            self._segment = b"".join(self.range(start, min(start + SEGMENT_SIZE, self._size)))
            self._segment_index = index
        within = self._position - index * SEGMENT_SIZE
        piece = self._segment[within : within + len(buffer)]
        buffer[: len(piece)] = piece
        self._position += len(piece)
        return len(piece)

    def range(self, start: int, end: int) -> Iterator[bytes]:
        """Plaintext [start, end), decrypting only the segments it spans."""
        return decrypt_range(
            self._data_key,
            lambda offset, length: self._store.read_at(self._key, offset, length),
            self._size,
            start,
            end,
        )
