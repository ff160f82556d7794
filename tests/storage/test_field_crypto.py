"""Sealed database fields: they round-trip, and a ciphertext moved to another row, field,
revision or table, altered in any byte, or opened with another key, does not open."""

import hashlib
import hmac
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.storage.crypto import (
    FIELD_OVERHEAD,
    FIELD_VERSION,
    DecryptionError,
    blind_index,
    derive_key,
    field_binding,
    open_field,
    seal_field,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_ROW = uuid.UUID("00000000-0000-4000-8000-000000000002")
PLACE = {"table": "incidents", "row_id": ROW, "field": "description", "revision": 3}


@given(st.binary(max_size=5000))
def test_a_value_round_trips(plaintext: bytes) -> None:
    sealed = seal_field(KEY, plaintext, **PLACE)  # type: ignore[arg-type]
    assert len(sealed) == len(plaintext) + FIELD_OVERHEAD
    assert sealed[0] == FIELD_VERSION
    assert open_field(KEY, sealed, **PLACE) == plaintext  # type: ignore[arg-type]


def test_the_same_value_seals_differently_each_time() -> None:
    # A random nonce per value: equal descriptions are not recognisable as equal.
    first = seal_field(KEY, b"he was outside again", table="incidents", row_id=ROW, field="x")
    second = seal_field(KEY, b"he was outside again", table="incidents", row_id=ROW, field="x")
    assert first != second
    assert first[1:13] != second[1:13]


@pytest.mark.parametrize(
    "moved",
    [
        {**PLACE, "row_id": OTHER_ROW},
        {**PLACE, "field": "location"},
        {**PLACE, "revision": 2},
        {**PLACE, "revision": 0},
        {**PLACE, "table": "impact_notes"},
    ],
    ids=["row", "field", "earlier revision", "no revision", "table"],
)
def test_a_value_moved_elsewhere_does_not_open(moved: dict[str, object]) -> None:
    sealed = seal_field(KEY, b"the red car", **PLACE)  # type: ignore[arg-type]
    with pytest.raises(DecryptionError):
        open_field(KEY, sealed, **moved)  # type: ignore[arg-type]


def test_every_flipped_byte_is_refused() -> None:
    sealed = seal_field(KEY, b"outside the school gates", **PLACE)  # type: ignore[arg-type]
    for position in range(len(sealed)):
        for bit in (0x01, 0x80):
            altered = bytearray(sealed)
            altered[position] ^= bit
            with pytest.raises(DecryptionError):
                open_field(KEY, bytes(altered), **PLACE)  # type: ignore[arg-type]


def test_cut_short_or_padded_is_refused() -> None:
    sealed = seal_field(KEY, b"notes", **PLACE)  # type: ignore[arg-type]
    for broken in (sealed[:-1], sealed + b"\x00", sealed[: FIELD_OVERHEAD - 1], b""):
        with pytest.raises(DecryptionError):
            open_field(KEY, broken, **PLACE)  # type: ignore[arg-type]


def test_another_key_does_not_open_it() -> None:
    sealed = seal_field(KEY, b"notes", **PLACE)  # type: ignore[arg-type]
    with pytest.raises(DecryptionError):
        open_field(OTHER_KEY, sealed, **PLACE)  # type: ignore[arg-type]


def test_the_binding_is_unambiguous() -> None:
    # Length prefixes: moving a character between table and field changes the binding.
    a = field_binding(table="ab", row_id=ROW, field="c")
    b = field_binding(table="a", row_id=ROW, field="bc")
    assert a != b
    assert field_binding(table="t", row_id=ROW, field="f", revision=1) != field_binding(
        table="t", row_id=ROW, field="f", revision=256
    )


def test_derived_keys_differ_by_purpose_and_are_hkdf_sha256() -> None:
    search = derive_key(KEY, "search-tokens")
    reference = derive_key(KEY, "crime-reference")
    assert len(search) == len(reference) == 32
    assert len({search, reference, KEY, derive_key(OTHER_KEY, "search-tokens")}) == 4
    assert derive_key(KEY, "search-tokens") == search
    # RFC 5869 with no salt: PRK = HMAC(zeros, IKM); OKM = HMAC(PRK, info | 0x01).
    prk = hmac.digest(bytes(32), KEY, "sha256")
    assert search == hmac.digest(prk, b"waymark key|search-tokens" + b"\x01", "sha256")


def test_blind_index_is_hmac_sha256_of_the_utf8_value() -> None:
    key = derive_key(KEY, "crime-reference")
    index = blind_index(key, "cr/123456/26 ß")
    assert index == hmac.new(key, "cr/123456/26 ß".encode(), hashlib.sha256).digest()
    assert blind_index(key, "cr/123456/26 ß") == index
    assert blind_index(key, "cr/123456/27") != index
    assert blind_index(derive_key(OTHER_KEY, "crime-reference"), "cr/123456/26 ß") != index
