"""The service's own keys: the master key, the secret key and the signing key.

In development they are generated on first start into the data folder (mode 0600) so that
`make run` needs nothing. In production Settings refuses to start without them, so a lost or
forgotten data folder can never silently produce a new, different key.
"""

import base64
import binascii
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.config import ConfigurationError, Settings
from app.storage.crypto import KeyFormatError, SigningKey, load_signing_key, new_signing_key_pem

KEY_BYTES = 32


@dataclass(frozen=True)
class Keys:
    # Wraps each victim's data key (the storage layer uses it).
    master_key: bytes
    # Still able to unwrap keys that have not been rotated yet.
    previous_master_keys: tuple[bytes, ...]
    # Signs values the server hands out and must recognise later (device cookies).
    secret_key: bytes
    # Signs evidence pack manifests.
    signing_key: SigningKey


def load_keys(settings: Settings) -> Keys:
    master = _symmetric(settings, "master_key")
    previous = tuple(
        _decode_key(part, "WAYMARK_PREVIOUS_MASTER_KEYS")
        for part in _previous_master_keys(settings)
    )
    secret = _symmetric(settings, "secret_key")
    signing_pem = (
        settings.signing_key.get_secret_value().encode()
        if settings.signing_key
        else _generated_file(settings.keys_dir / "signing.pem", new_signing_key_pem)
    )
    try:
        signing = load_signing_key(signing_pem)
    except KeyFormatError as error:
        raise ConfigurationError(f"WAYMARK_SIGNING_KEY {error}") from error
    return Keys(
        master_key=master, previous_master_keys=previous, secret_key=secret, signing_key=signing
    )


def _previous_master_keys(settings: Settings) -> list[str]:
    if settings.previous_master_keys is not None:
        text = settings.previous_master_keys.get_secret_value()
    elif (settings.keys_dir / "master.previous").exists():
        text = (settings.keys_dir / "master.previous").read_text()
    else:
        return []
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _symmetric(settings: Settings, name: str) -> bytes:
    configured = getattr(settings, name)
    if configured is None:
        encoded = _generated_file(
            settings.keys_dir / f"{name.removesuffix('_key')}.key",
            lambda: base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n",
        )
    else:
        encoded = configured.get_secret_value().encode()
    return _decode_key(encoded.decode(), f"WAYMARK_{name.upper()}")


def _decode_key(encoded: str, setting: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as error:
        raise ConfigurationError(f"{setting} is not base64") from error
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{setting} must be {KEY_BYTES} bytes")
    return key


def _generated_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """Read a development key, creating it (0600, never overwritten) on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    content = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process made it first; use theirs so every process agrees.
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return content
