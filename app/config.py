"""Settings, read from WAYMARK_* environment variables."""

import ipaddress
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import __version__

# Where `make run` builds the PWA (frontend/dist beside the app package in a checkout).
DEFAULT_STATIC_DIR = Path(__file__).resolve().parent.parent / "frontend" / "dist"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MiB = 1024 * 1024
GiB = 1024 * MiB


class Environment(StrEnum):
    development = "development"
    production = "production"


class PasswordHashing(StrEnum):
    # Argon2id at the OWASP Password Storage Cheat Sheet's first option (services/passwords.py).
    standard = "standard"
    # Argon2id at its smallest legal cost, for the test suite: thousands of accounts are made and
    # signed in there, and a deliberately slow hash is not what most tests are about. Refused in
    # production.
    minimal = "minimal"


class ConfigurationError(RuntimeError):
    """The service must not start with these settings."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYMARK_", extra="ignore")

    environment: Environment = Environment.development
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    data_dir: Path = Path("./data")
    database_url: str | None = None
    storage_url: str | None = None
    redis_url: str | None = None
    # The address people use to reach the service, when a proxy sits in front (for the
    # same-origin check and Secure cookies). Must be https:// in production.
    public_url: str | None = None
    # The reverse proxies whose X-Forwarded-For is believed, comma-separated addresses or
    # networks (10.0.0.5, 10.1.0.0/16, fd00::/8). None by default: anyone can write that header.
    trusted_proxies: str = ""
    log_level: str = "INFO"
    # The built PWA served at /. Nothing is served there if it has no index.html.
    static_dir: Path = DEFAULT_STATIC_DIR

    session_idle_minutes: Annotated[int, Field(ge=1)] = 30
    session_absolute_hours: Annotated[int, Field(ge=1)] = 12

    # Requests worked on at once by one process; more wait their turn (app/api/middleware.py).
    requests_in_progress: Annotated[int, Field(ge=1, le=1000)] = 64

    # /health says "degraded" (disk "low") when the data folder or the local blob store has
    # less free space than this (MiB), before writes start failing with 507.
    min_free_disk_mb: Annotated[int, Field(ge=0)] = 1024

    max_upload_bytes: Annotated[int, Field(ge=1)] = 4 * GiB
    user_quota_bytes: Annotated[int, Field(ge=1)] = 20 * GiB

    # Base64 of 32 random bytes each. Generated into data_dir/keys in development;
    # production refuses to start without them.
    master_key: SecretStr | None = None
    # Earlier master keys, comma-separated, kept only while `waymark keys rotate` moves every
    # data key onto the current one (docs/keys.md).
    previous_master_keys: SecretStr | None = None
    secret_key: SecretStr | None = None
    # Ed25519 private key, PEM (PKCS#8).
    signing_key: SecretStr | None = None

    # Only the test suite sets this; production refuses anything but the standard cost.
    password_hashing: PasswordHashing = PasswordHashing.standard

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        _networks(value)  # a ValueError names the entry that is not an address or network
        return value

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Self:
        if self.environment is Environment.production:
            missing = [
                f"WAYMARK_{name.upper()}"
                for name in ("master_key", "secret_key", "signing_key")
                if getattr(self, name) is None
            ]
            if missing:
                raise ConfigurationError(
                    "production needs these settings set explicitly: " + ", ".join(missing)
                )
            if not (self.public_url or "").startswith("https://"):
                raise ConfigurationError(
                    "production needs WAYMARK_PUBLIC_URL to be an https:// address, "
                    "because session cookies are only sent over HTTPS"
                )
            if self.password_hashing is not PasswordHashing.standard:
                raise ConfigurationError(
                    "production hashes passwords at the standard cost: "
                    "WAYMARK_PASSWORD_HASHING=minimal is for the test suite only"
                )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'waymark.db').resolve()}"

    @cached_property
    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "blobs").resolve().as_uri()

    @cached_property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return _networks(self.trusted_proxies)

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def session_cookie_name(self) -> str:
        # The __Host- prefix pins the cookie to this exact origin, over HTTPS, path /.
        return "__Host-waymark_session" if self.is_production else "waymark_session"

    @property
    def device_cookie_name(self) -> str:
        return "__Host-waymark_device" if self.is_production else "waymark_device"

    @property
    def version(self) -> str:
        return __version__


def _networks(value: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False)
        for item in value.split(",")
        if item.strip()
    )
