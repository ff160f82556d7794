"""Password hashing (Argon2id) and the rules a new password must meet.

The rules follow NIST SP 800-63B: a minimum length, a generous maximum, no composition rules,
and a refusal of passwords that attackers try first. "Tried first" is judged by zxcvbn, which
ships real breach-corpus password lists and dictionaries and estimates guesses from them
(keyboard walks, years, l33t, repeats), so "password1234" is refused while a few random words
pass.
"""

import unicodedata
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.config import PasswordHashing
from app.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256

_HASHERS = {
    # OWASP Password Storage Cheat Sheet, first Argon2id option: 19 MiB, 2 iterations, 1 lane.
    PasswordHashing.standard: PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID
    ),
    # Still Argon2id, at the least it accepts (8 KiB per lane, one pass): for the test suite only,
    # which Settings enforces by refusing it in production.
    PasswordHashing.minimal: PasswordHasher(
        time_cost=1, memory_cost=8, parallelism=1, type=Type.ID
    ),
}
_in_use = PasswordHashing.standard
_hasher = _HASHERS[_in_use]


def use(hashing: PasswordHashing) -> None:
    """Hash new passwords at this cost from now on (the process's setting, applied at start).

    Hashes made at another cost still verify (Argon2 keeps its parameters in the hash), and are
    rehashed at this one on the next sign-in (see needs_rehash).
    """
    global _hasher, _in_use
    _in_use = hashing
    _hasher = _HASHERS[hashing]
    _decoy_hash.cache_clear()  # an unknown email must cost what a real verification costs now


def in_use() -> PasswordHashing:
    return _in_use


def _normalise(password: str) -> str:
    # The same password typed on a phone and a laptop can arrive in different Unicode forms.
    return unicodedata.normalize("NFKC", password)


# zxcvbn score 3: "safely unguessable", about 10^10 guesses or more.
MIN_STRENGTH = 3
# zxcvbn refuses longer input; anything past this is extra strength we need not measure.
_STRENGTH_PREFIX = 72


def check_new_password(password: str, *, personal: tuple[str, ...] = ()) -> None:
    """Raise InvalidInput, naming the rule, if this password should not be accepted."""
    candidate = _normalise(password)
    if len(candidate) < MIN_LENGTH:
        raise InvalidInput(
            f"Use at least {MIN_LENGTH} characters. A few words you will remember work well.",
            field="password",
        )
    if len(candidate) > MAX_LENGTH:
        raise InvalidInput(f"Use at most {MAX_LENGTH} characters.", field="password")
    lowered = candidate.lower()
    for word in personal:
        if word and len(word) >= 4 and word.lower() in lowered:
            raise InvalidInput(
                "Do not use your name or email in your password: someone who knows you "
                "could guess it.",
                field="password",
            )
    # Imported here, on first use: its word lists take some 12 MiB, which a server needs only
    # once someone chooses a password.
    from zxcvbn import zxcvbn

    strength = zxcvbn(candidate[:_STRENGTH_PREFIX], user_inputs=list(personal))
    if int(strength["score"]) < MIN_STRENGTH:
        raise InvalidInput(
            "That password is too easy to guess: it is common or follows a pattern. "
            "Try three or four unrelated words.",
            field="password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash() -> str:
    return _hasher.hash("waymark decoy password, never a real one")


def spend_verify_time(password: str) -> None:
    """Do the work of a real verification, so an unknown email costs as long as a wrong password."""
    verify_password(_decoy_hash(), password)
