"""Password rules (NIST SP 800-63B: length, no composition rules, common ones refused) and
Argon2id hashing."""

import unicodedata

import pytest
from argon2 import PasswordHasher, Type

from app.config import PasswordHashing
from app.errors import InvalidInput
from app.services import passwords
from app.services.accounts import personal_words

# These tests are about the hash production uses, not the suite's cheap one (tests/conftest.py).
pytestmark = pytest.mark.real_password_hashing

# Where ASCII's printable characters sit again as full-width forms (U+FF01…).
_FULL_WIDTH_OFFSET = 0xFEE0


def _refusal(password: str, personal: tuple[str, ...] = ()) -> str:
    with pytest.raises(InvalidInput) as refused:
        passwords.check_new_password(password, personal=personal)
    assert refused.value.field == "password"
    return refused.value.detail


# --- length -----------------------------------------------------------------------------------


def test_eleven_characters_are_too_few() -> None:
    assert "at least 12" in _refusal("qz7#Lp0!vW2")


def test_twelve_unguessable_characters_are_enough() -> None:
    passwords.check_new_password("qz7#Lp0!vW2m")


def test_length_is_counted_in_characters_not_bytes() -> None:
    # Eleven characters, many more bytes in UTF-8: still too short.
    assert "at least 12" in _refusal("ŝćŕĝħĵķłńœŧ")


def test_long_passphrases_are_accepted() -> None:
    passwords.check_new_password("orchard lantern velvet compass " * 8)  # 248 characters
    passwords.check_new_password("x" + "orchard lantern velvet compass " * 4)  # 125


def test_more_than_the_maximum_is_refused() -> None:
    too_long = "orchard lantern velvet compass " * 9  # 279 characters

    assert f"at most {passwords.MAX_LENGTH}" in _refusal(too_long)


def test_the_maximum_is_at_least_128() -> None:
    assert passwords.MAX_LENGTH >= 128


# --- guessability -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "Password1234!",
        "P@ssw0rd12345",
        "qwertyuiop123",
        "123456789012",
        "iloveyou2024!",
        "aaaaaaaaaaaaaaaa",
        "abcdefghijklmnop",
        "letmeinletmein",
        "football1234",
    ],
)
def test_common_and_patterned_passwords_are_refused(password: str) -> None:
    assert "too easy to guess" in _refusal(password)


@pytest.mark.parametrize(
    "password",
    [
        "lantern orchard velvet compass",
        "correct horse battery staple",
        "granite meadow saffron kettle",
        "Vq8#rT2!mZ9@",
        "tide-marble-fennel-otter",
    ],
)
def test_random_words_and_random_characters_are_accepted(password: str) -> None:
    passwords.check_new_password(password)


def test_no_composition_rules() -> None:
    # No capitals, no digits, no symbols: fine when it is long and unguessable.
    passwords.check_new_password("orchardlanternvelvetcompass")


# --- personal words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "email", "display_name"),
    [
        ("robinsworth orchard velvet", "r.q@example.org", "Robinsworth Jones"),
        ("quillfeather lantern velvet", "r.q@example.org", "Robin Quillfeather"),
        ("QUILLFEATHER lantern velvet", "r.q@example.org", "Robin Quillfeather"),
        ("hartley lantern orchard", "robin.hartley@example.org", "R"),
        ("lantern hartley orchard", "robin_hartley+waymark@example.org", "R"),
        ("robin.hartley lantern", "robin.hartley@example.org", "R"),
        ("lantern orchard anne-marie", "am@example.org", "Anne-Marie Dubois"),
    ],
)
def test_the_persons_own_name_and_email_are_refused(
    password: str, email: str, display_name: str
) -> None:
    detail = _refusal(password, personal=personal_words(email, display_name))

    assert "name or email" in detail or "too easy" in detail


def test_personal_words_split_the_email_into_its_pieces() -> None:
    words = personal_words("robin.hartley+work@example.org", "Robin Q. Hartley")

    assert {"robin", "hartley", "work"} <= {w.lower() for w in words}
    assert "example" not in words


def test_short_pieces_of_a_name_do_not_refuse_ordinary_words() -> None:
    # "Al" and "Li" are too short to judge by: they appear inside countless words.
    personal = personal_words("al.li@example.org", "Al Li")

    passwords.check_new_password("lantern orchard velvet compass", personal=personal)


# --- hashing ----------------------------------------------------------------------------------


def test_hashes_are_argon2id_with_owasp_parameters() -> None:
    hashed = passwords.hash_password("lantern orchard velvet compass")

    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "lantern" not in hashed


def test_the_same_password_hashes_differently_each_time() -> None:
    assert passwords.hash_password("lantern orchard") != passwords.hash_password("lantern orchard")


def test_verify_accepts_the_password_and_refuses_others() -> None:
    hashed = passwords.hash_password("lantern orchard velvet compass")

    assert passwords.verify_password(hashed, "lantern orchard velvet compass")
    assert not passwords.verify_password(hashed, "lantern orchard velvet compasS")
    assert not passwords.verify_password(hashed, "")


def test_verify_refuses_a_broken_hash_rather_than_raising() -> None:
    assert not passwords.verify_password("not a hash", "lantern orchard velvet compass")
    assert not passwords.verify_password("", "lantern orchard velvet compass")


def test_composed_and_decomposed_forms_verify_the_same() -> None:
    composed = unicodedata.normalize("NFC", "café orchard velvet")
    decomposed = unicodedata.normalize("NFD", "café orchard velvet")
    assert composed != decomposed

    assert passwords.verify_password(passwords.hash_password(composed), decomposed)
    assert passwords.verify_password(passwords.hash_password(decomposed), composed)


def test_compatibility_forms_are_normalised_before_judging() -> None:
    # Full-width letters (typed with an East Asian keyboard) are the same common password.
    full_width = "".join(chr(ord(c) + _FULL_WIDTH_OFFSET) for c in "password1234")
    assert full_width != "password1234"

    assert "too easy to guess" in _refusal(full_width)
    assert passwords.verify_password(passwords.hash_password("password1234"), full_width)


def test_needs_rehash_only_for_other_parameters() -> None:
    current = passwords.hash_password("lantern orchard velvet compass")
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    argon2i = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.I)

    assert not passwords.needs_rehash(current)
    assert passwords.needs_rehash(older.hash("lantern orchard velvet compass"))
    assert passwords.needs_rehash(argon2i.hash("lantern orchard velvet compass"))


def test_an_old_hash_still_verifies() -> None:
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)

    assert passwords.verify_password(
        older.hash("lantern orchard velvet compass"), "lantern orchard velvet compass"
    )


def test_spending_verify_time_on_an_unknown_email_does_not_raise() -> None:
    passwords.spend_verify_time("anything at all")
    passwords.spend_verify_time("")


# --- the test suite's minimal cost --------------------------------------------------------------


def test_the_minimal_cost_is_still_argon2id_at_its_least() -> None:
    passwords.use(PasswordHashing.minimal)

    hashed = passwords.hash_password("lantern orchard velvet compass")

    assert hashed.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert passwords.verify_password(hashed, "lantern orchard velvet compass")
    assert not passwords.verify_password(hashed, "lantern orchard velvet compasS")


def test_changing_cost_rehashes_what_was_made_at_the_other() -> None:
    standard = passwords.hash_password("lantern orchard velvet compass")
    passwords.use(PasswordHashing.minimal)
    minimal = passwords.hash_password("lantern orchard velvet compass")

    assert passwords.in_use() is PasswordHashing.minimal
    assert passwords.verify_password(standard, "lantern orchard velvet compass")
    assert passwords.needs_rehash(standard)
    passwords.use(PasswordHashing.standard)
    assert passwords.needs_rehash(minimal)
    assert not passwords.needs_rehash(standard)


def test_the_decoy_is_made_at_the_cost_in_use() -> None:
    # An unknown email must cost what a wrong password costs, so the decoy follows the setting.
    passwords.use(PasswordHashing.minimal)
    passwords.spend_verify_time("anything at all")
    passwords.use(PasswordHashing.standard)

    assert passwords._decoy_hash().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
