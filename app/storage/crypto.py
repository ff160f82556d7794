"""The app's cryptography, all of it: encryption at rest, the keyed MACs and the signatures.
Nothing else in app/ imports `cryptography` or `hmac` (tests/test_layers.py checks), so every
primitive, key size and nonce rule can be reviewed in this one file.

Encryption at rest (docs/architecture.md, "The blob format";
docs/adr/0005-segmented-aes-gcm-blobs.md).

Every victim has a random 256-bit data key, kept only wrapped by the operator's master key.
Each blob is encrypted under its own key, derived from the data key and a random salt in the
blob's header, in fixed-size segments with AES-256-GCM, following the STREAM construction
(Hoang, Reyhanitabar, Rogaway, Vizár 2015): the nonce is the segment's number and a flag that
is set only on the last segment, and the header is bound into every segment. So segments
cannot be reordered, dropped, cut short or swapped between blobs without decryption failing,
and a range read decrypts only the segments it needs.

Blob layout:  MAGIC (4) | salt (32) | segment 0 | segment 1 | … | last segment
Each segment is SEGMENT_SIZE bytes of plaintext (the last may be shorter, even empty) plus a
16-byte tag.

Database fields (a description, a filename, a revision's snapshot) are sealed one value at a
time with seal_field: AES-256-GCM under a key derived from the victim's data key, a random
96-bit nonce per value, and associated data naming the table, row, field and revision the
value belongs to, so a ciphertext copied onto another row, field or revision does not open.

Field layout:  FIELD_VERSION (1) | nonce (12) | ciphertext | tag (16)
Associated data (canonical, every part length-prefixed so no two bindings encode alike):
  b"waymark field" | version (1) | len(table) (2, big-endian) | table (UTF-8)
  | row id (16, the UUID's bytes) | len(field) (2) | field (UTF-8) | revision (8, big-endian)
docs/security.md describes which columns are sealed.
"""

import binascii
import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The pack's signing key and the key that checks its signatures.
SigningKey = Ed25519PrivateKey
VerifyKey = Ed25519PublicKey

MAGIC = b"WMB1"
SALT_SIZE = 32
HEADER_SIZE = len(MAGIC) + SALT_SIZE
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
CIPHER_SEGMENT_SIZE = SEGMENT_SIZE + TAG_SIZE
KEY_SIZE = 32
_WRAP_NONCE_SIZE = 12


class DecryptionError(Exception):
    """The ciphertext was altered, cut short, reordered, or the key is wrong."""


# --- database fields -----------------------------------------------------------------------

FIELD_VERSION = 1
FIELD_NONCE_SIZE = 12
# What sealing adds to a value: the version byte, the nonce and the tag.
FIELD_OVERHEAD = 1 + FIELD_NONCE_SIZE + TAG_SIZE
_FIELD_AAD_PREFIX = b"waymark field"


@functools.lru_cache(maxsize=4096)
def _field_cipher(key: bytes) -> AESGCM:
    """The AES-GCM cipher for one data key's fields. HKDF keeps the field key apart from the
    blob keys derived from the same data key. Cached: a timeline page opens hundreds of
    values under one key, and deriving each time would cost more than the decryption."""
    if len(key) != KEY_SIZE:
        raise ValueError("field keys are 32 bytes")
    return AESGCM(derive_key(key, "record-fields"))


def _length_prefixed(text: str) -> bytes:
    encoded = text.encode()
    if len(encoded) > 0xFFFF:
        raise ValueError("names in a field binding are short")
    return len(encoded).to_bytes(2, "big") + encoded


@functools.lru_cache(maxsize=256)
def _binding_parts(version: int, table: str, field: str) -> tuple[bytes, bytes]:
    """What comes before and after the row id in a binding: the same for every row."""
    return (
        _FIELD_AAD_PREFIX + bytes([version]) + _length_prefixed(table),
        _length_prefixed(field),
    )


def field_binding(
    *, table: str, row_id: uuid.UUID, field: str, revision: int = 0, version: int = FIELD_VERSION
) -> bytes:
    """The associated data that ties a sealed value to its place (the layout is above)."""
    before, after = _binding_parts(version, table, field)
    return b"".join((before, row_id.bytes, after, revision.to_bytes(8, "big")))


def seal_field(
    key: bytes, plaintext: bytes, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
) -> bytes:
    """Encrypt one database value under `key` (a victim's data key, or a server key), bound to
    the table, row, field and revision it is stored in."""
    nonce = secrets.token_bytes(FIELD_NONCE_SIZE)
    aad = field_binding(table=table, row_id=row_id, field=field, revision=revision)
    return bytes([FIELD_VERSION]) + nonce + _field_cipher(key).encrypt(nonce, plaintext, aad)


def open_field(
    key: bytes, sealed: bytes, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
) -> bytes:
    """The plaintext of a value seal_field made for exactly this place. Raises
    DecryptionError if it was altered, moved, or sealed under another key."""
    if len(sealed) < FIELD_OVERHEAD or sealed[0] != FIELD_VERSION:
        raise DecryptionError("not a sealed field of a version this server reads")
    aad = field_binding(table=table, row_id=row_id, field=field, revision=revision)
    try:
        return _field_cipher(key).decrypt(
            sealed[1 : 1 + FIELD_NONCE_SIZE], sealed[1 + FIELD_NONCE_SIZE :], aad
        )
    except InvalidTag as error:
        raise DecryptionError(f"{table}.{field} does not open for this row") from error


def derive_key(data_key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose ("record-fields", "search-tokens", "crime-reference"),
    derived with HKDF-SHA256 so no two purposes share a key and none reveals the data key."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_SIZE,
        salt=None,
        info=b"waymark key|" + purpose.encode(),
    ).derive(data_key)


def blind_index(key: bytes, value: str) -> bytes:
    """HMAC-SHA256 of the UTF-8 value: equal values give equal indexes, and without the key
    the index says nothing about the value. Normalise the value first."""
    return hmac.digest(key, value.encode(), "sha256")


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_SIZE)


def wrap_key(master_key: bytes, data_key: bytes, context: bytes) -> bytes:
    """Encrypt a data key under the master key; `context` (the victim's id) is bound in."""
    nonce = secrets.token_bytes(_WRAP_NONCE_SIZE)
    return nonce + AESGCM(master_key).encrypt(nonce, data_key, b"waymark data key v1|" + context)


def unwrap_key(master_key: bytes, wrapped: bytes, context: bytes) -> bytes:
    nonce, sealed = wrapped[:_WRAP_NONCE_SIZE], wrapped[_WRAP_NONCE_SIZE:]
    try:
        return AESGCM(master_key).decrypt(nonce, sealed, b"waymark data key v1|" + context)
    except InvalidTag as error:
        raise DecryptionError("the data key does not open with this master key") from error


def new_blob_header() -> bytes:
    """A new blob's header: the magic and a fresh salt (so a fresh blob key)."""
    return MAGIC + secrets.token_bytes(SALT_SIZE)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _header_cipher(data_key: bytes, header: bytes, purpose: bytes) -> AESGCM:
    """A cipher under a key of its own for this blob and purpose: the data key stretched with
    the header's salt."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=KEY_SIZE, salt=header[len(MAGIC) :], info=purpose
    ).derive(data_key)
    return AESGCM(key)


def _blob_cipher(data_key: bytes, header: bytes) -> AESGCM:
    if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
        raise DecryptionError("not a Waymark blob")
    return _header_cipher(data_key, header, b"waymark blob v1")


def segment_count(size: int) -> int:
    """Segments in a blob of `size` plaintext bytes (an empty blob has one, empty, segment)."""
    return max(1, -(-size // SEGMENT_SIZE))


def ciphertext_size(size: int) -> int:
    return HEADER_SIZE + size + segment_count(size) * TAG_SIZE


@dataclass
class SegmentWriter:
    """Encrypts one blob, a run of segments at a time. Knowing the total size up front means the
    last segment is known the moment it is reached, so nothing has to be held back."""

    data_key: bytes
    size: int
    header: bytes = b""

    def __post_init__(self) -> None:
        if not self.header:
            self.header = new_blob_header()
        self._cipher = _blob_cipher(self.data_key, self.header)
        self._last = segment_count(self.size) - 1

    def seal_into(self, first: int, plaintext: memoryview, out: bytearray) -> int:
        """Encrypt `plaintext`, the blob's segments from number `first` on, into the start of
        `out` (which the caller reuses, so a large upload allocates nothing per segment).
        Returns the number of bytes written: the plaintext's plus a tag per segment."""
        count = segment_count(len(plaintext))
        if first + count - 1 > self._last or len(out) < len(plaintext) + count * TAG_SIZE:
            raise ValueError("the segments do not fit the blob or the buffer")
        written = 0
        with memoryview(out) as sealed:
            for index in range(first, first + count):
                start = (index - first) * SEGMENT_SIZE
                piece = plaintext[start : start + SEGMENT_SIZE]
                last = index == self._last
                if len(piece) != (self.size - index * SEGMENT_SIZE if last else SEGMENT_SIZE):
                    raise ValueError("segment does not fit the blob's size")
                end = written + len(piece) + TAG_SIZE
                self._cipher.encrypt_into(
                    _nonce(index, last), piece, self.header, sealed[written:end]
                )
                written = end
        return written


class StreamEncryptor:
    """Encrypt a stream whose length is not known in advance (a multipart upload).

    The newest full segment is held back until more bytes arrive, because only then is it
    known not to be the last one.
    """

    def __init__(self, data_key: bytes) -> None:
        self.header = new_blob_header()
        self._cipher = _blob_cipher(data_key, self.header)
        self._buffer = bytearray()
        self._index = 0
        self.size = 0

    def start(self) -> bytes:
        return self.header

    def update(self, data: bytes) -> bytes:
        self._buffer += data
        self.size += len(data)
        out = bytearray()
        # Keep at least one byte beyond the segments we emit: those segments are then not last.
        while len(self._buffer) > SEGMENT_SIZE:
            chunk = bytes(self._buffer[:SEGMENT_SIZE])
            del self._buffer[:SEGMENT_SIZE]
            out += self._cipher.encrypt(_nonce(self._index, False), chunk, self.header)
            self._index += 1
        return bytes(out)

    def finish(self) -> bytes:
        last = self._cipher.encrypt(_nonce(self._index, True), bytes(self._buffer), self.header)
        self._buffer.clear()
        return last


def encrypt_all(data_key: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    encryptor = StreamEncryptor(data_key)
    yield encryptor.start()
    for chunk in chunks:
        if out := encryptor.update(chunk):
            yield out
    yield encryptor.finish()


ReadAt = Callable[[int, int], bytes]  # (offset, length) -> exactly those ciphertext bytes


def decrypt_range(
    data_key: bytes, read_at: ReadAt, size: int, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Plaintext bytes [start, end) of a blob of `size` bytes, decrypting only the segments
    that hold them. Raises DecryptionError on any tampering."""
    end = size if end is None else min(end, size)
    if start < 0 or start > end:
        raise ValueError("bad range")
    header = read_at(0, HEADER_SIZE)
    cipher = _blob_cipher(data_key, header)
    last = segment_count(size) - 1
    first_segment = start // SEGMENT_SIZE
    if size == 0:
        _open(cipher, header, read_at, 0, True, 0)
        return
    if start == end:
        return
    final_segment = (end - 1) // SEGMENT_SIZE
    for index in range(first_segment, final_segment + 1):
        is_last = index == last
        plain_length = size - index * SEGMENT_SIZE if is_last else SEGMENT_SIZE
        plaintext = _open(cipher, header, read_at, index, is_last, plain_length)
        segment_start = index * SEGMENT_SIZE
        piece = plaintext[max(start - segment_start, 0) : end - segment_start]
        if piece:
            yield piece


def _open(
    cipher: AESGCM, header: bytes, read_at: ReadAt, index: int, last: bool, plain_length: int
) -> bytes:
    sealed = read_at(HEADER_SIZE + index * CIPHER_SEGMENT_SIZE, plain_length + TAG_SIZE)
    if len(sealed) != plain_length + TAG_SIZE:
        raise DecryptionError("the blob is shorter than it should be")
    try:
        return cipher.decrypt(_nonce(index, last), sealed, header)
    except InvalidTag as error:
        raise DecryptionError(f"segment {index} does not decrypt") from error


# An unfinished upload's last partial append (its "tail", fewer bytes than a whole append)
# waits in staging sealed under a key of its own, derived from the blob's data key and header,
# with the upload offset it ends at bound in: a tail cannot be replayed at another offset.
_TAIL_NONCE_SIZE = 12


def _tail_cipher(data_key: bytes, header: bytes) -> AESGCM:
    return _header_cipher(data_key, header, b"waymark tail v1")


def seal_tail(data_key: bytes, header: bytes, offset: int, plaintext: bytes) -> bytes:
    nonce = secrets.token_bytes(_TAIL_NONCE_SIZE)
    return nonce + _tail_cipher(data_key, header).encrypt(
        nonce, plaintext, offset.to_bytes(8, "big")
    )


def open_tail(data_key: bytes, header: bytes, offset: int, sealed: bytes) -> bytes:
    nonce, rest = sealed[:_TAIL_NONCE_SIZE], sealed[_TAIL_NONCE_SIZE:]
    try:
        return _tail_cipher(data_key, header).decrypt(nonce, rest, offset.to_bytes(8, "big"))
    except InvalidTag as error:
        raise DecryptionError("the upload's stored tail does not decrypt") from error


def mac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA-256 of `message` under `key`."""
    return hmac.digest(key, message, "sha256")


def same_mac(given: str, expected: str) -> bool:
    """Compare MACs (or a secret's hashes) in constant time, so a guesser learns nothing from
    how long it took."""
    return hmac.compare_digest(given.encode(), expected.encode())


class KeyFormatError(ValueError):
    """A key that cannot be read, or is not an Ed25519 key. Its message completes a sentence
    that starts with where the key came from ("WAYMARK_SIGNING_KEY is not a PEM private key")."""


def new_signing_key_pem() -> bytes:
    """A fresh Ed25519 private key, PEM (PKCS#8), unencrypted."""
    return SigningKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_signing_key(pem: bytes) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyFormatError("is not a PEM private key") from error
    if not isinstance(key, SigningKey):
        raise KeyFormatError("must be an Ed25519 key")
    return key


def load_verify_key(pem: bytes) -> VerifyKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as error:
        raise KeyFormatError("cannot be read") from error
    if not isinstance(key, VerifyKey):
        raise KeyFormatError("is not an Ed25519 key")
    return key


def sign(key: SigningKey, message: bytes) -> bytes:
    return key.sign(message)


def signature_holds(key: VerifyKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def key_fingerprint(key: VerifyKey) -> str:
    """The SHA-256 of the key's DER SubjectPublicKeyInfo, in lower-case hex, as
    `openssl pkey -pubin -in signing-key.pub -outform DER | sha256sum` prints it."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def public_key_pem(key: VerifyKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
