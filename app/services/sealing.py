"""What a person wrote, sealed before it reaches the database (docs/security.md, "What the
database holds").

Every value a victim wrote, or that names or describes a person, is stored as sealed text:
"wm1." and the base64 (RFC 4648, padded) of crypto.seal_field's output, under the data key of
the person it belongs to (the victim, for everything in their log; each account, for its own
email and name), bound to its table, row, field and revision. A copy of the database or of a
backup then holds nothing readable without the master key, and destroying a data key leaves
nothing readable.

Fields of a record's current row are bound to the record's revision, so an old value cannot be
put back in place of a newer one; values that never change after the record is made (a file's
name, what its metadata claims, why it was withdrawn) are bound to revision 0.

Filters and search work on keyed values, never on text:
- a crime reference is found through its blind index (an HMAC of its normalised form under a
  key of the victim's own), so equal references match and nothing else about them shows;
- search reads keyed word tokens: each word of a document is normalised, and its first three to
  twelve letters, and those of its stem, are hashed with a key of the victim's own. A search
  hashes the first letters of each word's stem the same way, so it finds every word of that
  stem and every word that starts with what was typed. What the index still shows is in
  docs/security.md.

Keys come from the engine (register_keys, when the server or a command starts) and each
victim's data key is unwrapped once per unit of work (kept in the session's info).
"""

import base64
import binascii
import json
import re
import unicodedata
import uuid
import weakref
from collections.abc import Iterable
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlmodel import Session

from app.keys import Keys
from app.services import data_keys
from app.storage.crypto import DecryptionError, blind_index, derive_key, open_field, seal_field

SEALED_PREFIX = "wm1."
_PREFIX_LENGTH = len(SEALED_PREFIX)

_keys_of_engine: "weakref.WeakKeyDictionary[Engine, Keys]" = weakref.WeakKeyDictionary()
_SEALERS = "waymark_sealers"


class KeysMissing(RuntimeError):
    """A session on an engine no keys were registered for tried to read or write sealed text."""


def register_keys(engine: Engine, keys: Keys) -> None:
    """Every session on this engine seals and opens with these keys."""
    _keys_of_engine[engine] = keys


def keys_of(db: Session) -> Keys:
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    keys = _keys_of_engine.get(engine)
    if keys is None:
        raise KeysMissing("no keys were registered for this database engine")
    return keys


# Words as the user typed them (the same rule as the query side in search.py).
_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("english")
PREFIX_LENGTHS = range(3, 13)
# Each token is 8 bytes of HMAC written with the letters a-p: letters only, so neither
# PostgreSQL's parser nor SQLite's tokenizer splits, stems or reads one as a number.
_TOKEN_BYTES = 8
_LETTERS = "abcdefghijklmnop"


def normalised_words(text: str) -> list[str]:
    return [unicodedata.normalize("NFKC", word).casefold() for word in _WORD.findall(text)]


def _letters(digest: bytes) -> str:
    return "".join(_LETTERS[b >> 4] + _LETTERS[b & 15] for b in digest[:_TOKEN_BYTES])


class Sealer:
    """One person's sealing and opening, for one unit of work. The data key is unwrapped (or,
    for a first write, made) only when a value needs it."""

    def __init__(
        self, db: Session | None, owner_id: uuid.UUID, data_key: bytes | None = None
    ) -> None:
        self._db = db
        self.owner_id = owner_id
        self._data_key = data_key

    def _key(self) -> bytes:
        if self._data_key is None:
            assert self._db is not None, "a sealer with no session is given its key"
            self._data_key = data_keys.data_key_for(self._db, self.owner_id, keys_of(self._db))
        return self._data_key

    def seal(
        self, value: str | None, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
    ) -> str | None:
        if value is None:
            return None
        sealed = seal_field(
            self._key(), value.encode(), table=table, row_id=row_id, field=field, revision=revision
        )
        return SEALED_PREFIX + base64.b64encode(sealed).decode()

    def open(
        self, stored: str | None, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
    ) -> str | None:
        if stored is None:
            return None
        if not stored.startswith(SEALED_PREFIX):
            raise DecryptionError(f"{table}.{field} holds a value that is not sealed")
        try:
            # binascii directly: a timeline page opens hundreds of values, and base64's own
            # wrappers cost more than the decryption.
            sealed = binascii.a2b_base64(stored[_PREFIX_LENGTH:], strict_mode=True)
        except (binascii.Error, ValueError) as error:
            raise DecryptionError(f"{table}.{field} is not sealed text") from error
        return open_field(
            self._key(), sealed, table=table, row_id=row_id, field=field, revision=revision
        ).decode()

    def open_if_sealed(
        self, stored: str, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
    ) -> str | None:
        """The plain text of a value sealed for exactly this place; None for anything else (plain
        text from before sealing, or a value that does not open here). For sealing in place."""
        if not stored.startswith(SEALED_PREFIX):
            return None
        try:
            return self.open(stored, table=table, row_id=row_id, field=field, revision=revision)
        except DecryptionError:
            return None

    def opened(
        self, stored: str, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
    ) -> str:
        """open() for a value that is never empty (NOT NULL columns)."""
        text = self.open(stored, table=table, row_id=row_id, field=field, revision=revision)
        assert text is not None
        return text

    def seal_json(
        self, value: Any, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
    ) -> str:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        sealed = self.seal(text, table=table, row_id=row_id, field=field, revision=revision)
        assert sealed is not None
        return sealed

    def open_json(
        self, stored: Any, *, table: str, row_id: uuid.UUID, field: str, revision: int = 0
    ) -> Any:
        if not isinstance(stored, str):
            raise DecryptionError(f"{table}.{field} holds a value that is not sealed")
        text = self.open(stored, table=table, row_id=row_id, field=field, revision=revision)
        assert text is not None
        return json.loads(text)

    def blind_index(self, purpose: str, normalised: str) -> str:
        """The keyed index of an already normalised value (hex): equal values, equal indexes."""
        return blind_index(derive_key(self._key(), purpose), normalised).hex()

    def _tokenizer(self) -> "_Tokens":
        return _Tokens(derive_key(self._key(), "search-tokens"))

    def search_document(self, text: str) -> str:
        """The tokens a document is indexed by, space-separated, each once, in hash order (so
        their order says nothing about the words'): the first 3 to 12 letters of each word and
        of its stem, and a word shorter than that whole."""
        tokens = self._tokenizer()
        found: set[str] = set()
        for word in normalised_words(text):
            if len(word) < PREFIX_LENGTHS.start:
                found.add(tokens.of("w", word))
                continue
            for form in {word, _STEMMER.stemWord(word)}:
                for length in PREFIX_LENGTHS:
                    if length > len(form):
                        break
                    found.add(tokens.of("p", form[:length]))
        return " ".join(sorted(found))

    def search_terms(self, words: Iterable[str]) -> list[tuple[str, ...]]:
        """For each word searched for, the tokens of which a match needs one. One token: the
        first letters of the word's stem, which every word of that stem starts with ("followed"
        finds "following"), and every word typed so far starts with (type-ahead)."""
        tokens = self._tokenizer()
        terms: list[tuple[str, ...]] = []
        for word in (w for raw in words for w in normalised_words(raw)):
            if len(word) < PREFIX_LENGTHS.start:
                terms.append((tokens.of("w", word),))
                continue
            stem = _STEMMER.stemWord(word)
            form = stem if len(stem) >= PREFIX_LENGTHS.start else word
            terms.append((tokens.of("p", form[: PREFIX_LENGTHS.stop - 1]),))
        return terms


class _Tokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, tag: str, word: str) -> str:
        return _letters(blind_index(self._key, f"{tag}:{word}"))


def sealer(db: Session, owner_id: uuid.UUID) -> Sealer:
    """The owner's sealer for this unit of work (made once, then reused)."""
    sealers: dict[uuid.UUID, Sealer] = db.info.setdefault(_SEALERS, {})
    if owner_id not in sealers:
        sealers[owner_id] = Sealer(db, owner_id)
    return sealers[owner_id]


def forget(db: Session, owner_id: uuid.UUID) -> None:
    """Drop the owner's unwrapped key from this unit of work (their account is being erased)."""
    db.info.get(_SEALERS, {}).pop(owner_id, None)
