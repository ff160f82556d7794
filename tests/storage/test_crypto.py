"""Round trips and every kind of tampering of the segmented blob encryption."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.storage import crypto
from app.storage.crypto import (
    CIPHER_SEGMENT_SIZE,
    HEADER_SIZE,
    SEGMENT_SIZE,
    DecryptionError,
    SegmentWriter,
    ciphertext_size,
    decrypt_range,
    encrypt_all,
    new_data_key,
    unwrap_key,
    wrap_key,
)

KEY = bytes(range(32))
# Sizes around segment boundaries matter most.
sizes = st.one_of(
    st.integers(min_value=0, max_value=3 * SEGMENT_SIZE + 5),
    st.sampled_from([0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 2 * SEGMENT_SIZE]),
)


def _payload(size: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(size))


def _encrypt(plaintext: bytes, chunk: int = 10_000) -> bytes:
    chunks = [plaintext[i : i + chunk] for i in range(0, len(plaintext), chunk)]
    return b"".join(encrypt_all(KEY, chunks))


def _decrypt(
    blob: bytes, size: int, start: int = 0, end: int | None = None, key: bytes = KEY
) -> bytes:
    return b"".join(decrypt_range(key, lambda o, n: blob[o : o + n], size, start, end))


@settings(max_examples=60, deadline=None)
@given(size=sizes, chunk=st.integers(min_value=1, max_value=SEGMENT_SIZE * 2))
def test_stream_round_trip(size: int, chunk: int) -> None:
    plaintext = _payload(size)
    blob = _encrypt(plaintext, chunk)
    assert len(blob) == ciphertext_size(size)
    assert _decrypt(blob, size) == plaintext


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_any_range_decrypts_to_the_same_bytes(size: int, data: st.DataObject) -> None:
    plaintext = _payload(size)
    blob = _encrypt(plaintext)
    start = data.draw(st.integers(min_value=0, max_value=size))
    end = data.draw(st.integers(min_value=start, max_value=size))
    assert _decrypt(blob, size, start, end) == plaintext[start:end]


@settings(max_examples=40, deadline=None)
@given(size=sizes, data=st.data())
def test_segment_writer_matches_the_stream_format(size: int, data: st.DataObject) -> None:
    plaintext = _payload(size)
    writer = SegmentWriter(KEY, size)
    segments = crypto.segment_count(size)
    # Runs of 1 to 3 segments, sealed into one reused buffer.
    buffer = bytearray(3 * CIPHER_SEGMENT_SIZE)
    parts = [writer.header]
    first = 0
    while first < segments:
        count = data.draw(st.integers(min_value=1, max_value=min(3, segments - first)))
        run = memoryview(plaintext)[first * SEGMENT_SIZE : (first + count) * SEGMENT_SIZE]
        written = writer.seal_into(first, run, buffer)
        parts.append(bytes(buffer[:written]))
        first += count
    assert _decrypt(b"".join(parts), size) == plaintext


def test_segment_writer_refuses_runs_that_do_not_fit_the_blob() -> None:
    size = 2 * SEGMENT_SIZE + 10
    writer = SegmentWriter(KEY, size)
    buffer = bytearray(3 * CIPHER_SEGMENT_SIZE)
    plaintext = memoryview(_payload(size))
    with pytest.raises(ValueError, match="segment"):
        writer.seal_into(0, plaintext[: SEGMENT_SIZE - 1], buffer)  # short, but not the last
    with pytest.raises(ValueError, match="segment"):
        writer.seal_into(2, plaintext[2 * SEGMENT_SIZE : 2 * SEGMENT_SIZE + 9], buffer)
    with pytest.raises(ValueError, match="buffer"):
        writer.seal_into(0, plaintext[:SEGMENT_SIZE], bytearray(SEGMENT_SIZE))
    with pytest.raises(ValueError, match="blob"):
        writer.seal_into(3, plaintext[:1], buffer)  # past the last segment


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=0, max_value=2 * SEGMENT_SIZE + 10), data=st.data())
def test_a_flipped_bit_anywhere_fails(size: int, data: st.DataObject) -> None:
    blob = bytearray(_encrypt(_payload(size)))
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    blob[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    with pytest.raises(DecryptionError):
        _decrypt(bytes(blob), size)


def test_truncation_at_a_segment_boundary_fails() -> None:
    size = 2 * SEGMENT_SIZE + 100
    blob = _encrypt(_payload(size))
    cut = blob[: HEADER_SIZE + 2 * CIPHER_SEGMENT_SIZE]
    with pytest.raises(DecryptionError):
        _decrypt(cut, size)
    # Claiming the shorter size does not help: the last full segment is not marked last.
    with pytest.raises(DecryptionError):
        _decrypt(cut, 2 * SEGMENT_SIZE)


def test_reordered_segments_fail() -> None:
    size = 3 * SEGMENT_SIZE
    blob = _encrypt(_payload(size))
    body = blob[HEADER_SIZE:]
    segments = [body[i : i + CIPHER_SEGMENT_SIZE] for i in range(0, len(body), CIPHER_SEGMENT_SIZE)]
    swapped = blob[:HEADER_SIZE] + segments[1] + segments[0] + segments[2]
    with pytest.raises(DecryptionError):
        _decrypt(swapped, size)


def test_segments_cannot_move_between_blobs() -> None:
    size = 2 * SEGMENT_SIZE
    first, second = _encrypt(_payload(size)), _encrypt(_payload(size))
    spliced = (
        first[: HEADER_SIZE + CIPHER_SEGMENT_SIZE] + second[HEADER_SIZE + CIPHER_SEGMENT_SIZE :]
    )
    with pytest.raises(DecryptionError):
        _decrypt(spliced, size)


def test_the_wrong_key_fails() -> None:
    blob = _encrypt(b"call log")
    with pytest.raises(DecryptionError):
        _decrypt(blob, 8, key=new_data_key())


def test_same_plaintext_encrypts_differently() -> None:
    assert _encrypt(b"same bytes") != _encrypt(b"same bytes")


def test_wrapped_data_keys_are_bound_to_their_owner() -> None:
    master, data_key = new_data_key(), new_data_key()
    wrapped = wrap_key(master, data_key, b"victim-a")
    assert unwrap_key(master, wrapped, b"victim-a") == data_key
    with pytest.raises(DecryptionError):
        unwrap_key(master, wrapped, b"victim-b")
    with pytest.raises(DecryptionError):
        unwrap_key(new_data_key(), wrapped, b"victim-a")
