"""Settings the tests build for themselves: production ones need real, freshly made keys."""

import base64
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from app.config import Environment, Settings
from app.services import passwords


def symmetric_key() -> SecretStr:
    """Base64 of 32 random bytes, as WAYMARK_MASTER_KEY and WAYMARK_SECRET_KEY expect."""
    return SecretStr(base64.b64encode(secrets.token_bytes(32)).decode())


def signing_key() -> SecretStr:
    """A fresh Ed25519 private key, PEM (PKCS#8), as WAYMARK_SIGNING_KEY expects."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SecretStr(pem.decode())


def production_settings(
    data_dir: Path, database_url: str, *, public_url: str = "https://testserver"
) -> Settings:
    return Settings(
        environment=Environment.production,
        data_dir=data_dir,
        database_url=database_url,
        static_dir=data_dir / "no-pwa",
        public_url=public_url,
        master_key=symmetric_key(),
        secret_key=symmetric_key(),
        signing_key=signing_key(),
    )


def development_settings(
    data_dir: Path, database_url: str, *, redis_url: str | None = None
) -> Settings:
    return Settings(
        environment=Environment.development,
        data_dir=data_dir,
        database_url=database_url,
        static_dir=data_dir / "no-pwa",
        redis_url=redis_url,
        # The cost this test hashes at (tests/conftest.py): minimal unless it asked for the real.
        password_hashing=passwords.in_use(),
    )
