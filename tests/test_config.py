"""Settings and keys: development sets itself up, production refuses to guess."""

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr, ValidationError

from app.config import ConfigurationError, Environment, PasswordHashing, Settings
from app.keys import load_keys
from app.main import build_runtime, create_app
from app.services import passwords
from tests.factories.settings import production_settings, signing_key, symmetric_key


@pytest.fixture(autouse=True)
def _no_waymark_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test sets: the developer's own WAYMARK_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("WAYMARK_"):
            monkeypatch.delenv(name)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- production refuses to start without what it needs ---------------------------------------


def test_production_refuses_to_start_without_any_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYMARK_ENVIRONMENT", "production")
    monkeypatch.setenv("WAYMARK_PUBLIC_URL", "https://waymark.example")

    # The model validator raises our own error, which pydantic lets through unwrapped.
    with pytest.raises(ConfigurationError) as refused:
        Settings()

    message = str(refused.value)
    for name in ("WAYMARK_MASTER_KEY", "WAYMARK_SECRET_KEY", "WAYMARK_SIGNING_KEY"):
        assert name in message


@pytest.mark.parametrize("missing", ["master_key", "secret_key", "signing_key"])
def test_production_refuses_to_start_without_each_key(tmp_path: Path, missing: str) -> None:
    keys: dict[str, SecretStr] = {
        "master_key": symmetric_key(),
        "secret_key": symmetric_key(),
        "signing_key": signing_key(),
    }
    del keys[missing]

    with pytest.raises(ConfigurationError, match=f"WAYMARK_{missing.upper()}"):
        Settings(
            environment=Environment.production,
            public_url="https://waymark.example",
            data_dir=tmp_path,
            **keys,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    "public_url", [None, "", "http://waymark.example", "waymark.example", "ftp://waymark.example"]
)
def test_production_refuses_to_start_without_an_https_public_url(
    tmp_path: Path, public_url: str | None
) -> None:
    with pytest.raises(ConfigurationError, match="WAYMARK_PUBLIC_URL"):
        Settings(
            environment=Environment.production,
            public_url=public_url,
            data_dir=tmp_path,
            master_key=symmetric_key(),
            secret_key=symmetric_key(),
            signing_key=signing_key(),
        )


def test_production_refuses_the_tests_minimal_password_hashing(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="WAYMARK_PASSWORD_HASHING"):
        Settings(
            environment=Environment.production,
            public_url="https://waymark.example",
            data_dir=tmp_path,
            master_key=symmetric_key(),
            secret_key=symmetric_key(),
            signing_key=signing_key(),
            password_hashing=PasswordHashing.minimal,
        )


def test_production_refuses_minimal_password_hashing_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAYMARK_ENVIRONMENT", "production")
    monkeypatch.setenv("WAYMARK_PUBLIC_URL", "https://waymark.example")
    monkeypatch.setenv("WAYMARK_MASTER_KEY", symmetric_key().get_secret_value())
    monkeypatch.setenv("WAYMARK_SECRET_KEY", symmetric_key().get_secret_value())
    monkeypatch.setenv("WAYMARK_SIGNING_KEY", signing_key().get_secret_value())
    monkeypatch.setenv("WAYMARK_PASSWORD_HASHING", "minimal")

    with pytest.raises(ConfigurationError, match="WAYMARK_PASSWORD_HASHING"):
        Settings()


def test_the_standard_password_hashing_is_the_default() -> None:
    assert Settings().password_hashing is PasswordHashing.standard


def test_a_production_server_hashes_at_the_standard_cost(tmp_path: Path, database_url: str) -> None:
    # The suite runs at the minimal cost (tests/conftest.py); building the server sets its own.
    assert passwords.in_use() is PasswordHashing.minimal
    runtime = build_runtime(production_settings(tmp_path / "data", database_url))
    runtime.engine.dispose()

    assert passwords.in_use() is PasswordHashing.standard
    assert passwords.hash_password("lantern orchard velvet compass").startswith(
        "$argon2id$v=19$m=19456,t=2,p=1$"
    )


def test_production_with_everything_set_starts_with_secure_cookie_names(
    tmp_path: Path, database_url: str
) -> None:
    settings = production_settings(tmp_path / "data", database_url)

    assert settings.is_production
    assert settings.session_cookie_name == "__Host-waymark_session"
    assert settings.device_cookie_name == "__Host-waymark_device"
    runtime = build_runtime(settings)
    runtime.engine.dispose()
    # Configured keys are used as given; nothing is generated behind the operator's back.
    assert not settings.keys_dir.exists()
    assert runtime.keys.master_key == base64.b64decode(
        settings.master_key.get_secret_value()  # type: ignore[union-attr]
    )


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("master_key", "not base64!", "WAYMARK_MASTER_KEY is not base64"),
        ("master_key", base64.b64encode(b"short").decode(), "WAYMARK_MASTER_KEY must be 32"),
        ("secret_key", base64.b64encode(b"x" * 64).decode(), "WAYMARK_SECRET_KEY must be 32"),
        ("signing_key", "not a pem", "WAYMARK_SIGNING_KEY is not a PEM"),
    ],
)
def test_production_refuses_malformed_keys(
    tmp_path: Path, database_url: str, field: str, value: str, complaint: str
) -> None:
    settings = production_settings(tmp_path / "data", database_url).model_copy(
        update={field: SecretStr(value)}
    )

    with pytest.raises(ConfigurationError, match=complaint):
        create_app(settings)


def test_production_refuses_a_signing_key_that_is_not_ed25519(
    tmp_path: Path, database_url: str
) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    settings = production_settings(tmp_path / "data", database_url).model_copy(
        update={"signing_key": SecretStr(p256.decode())}
    )

    with pytest.raises(ConfigurationError, match="Ed25519"):
        load_keys(settings)


def test_other_bad_settings_are_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(port=70000, data_dir=tmp_path)
    with pytest.raises(ValidationError):
        Settings(environment="staging", data_dir=tmp_path)
    with pytest.raises(ValidationError):
        Settings(session_idle_minutes=0, data_dir=tmp_path)


# --- development sets itself up ---------------------------------------------------------------


def test_development_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.environment is Environment.development
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.session_idle_minutes == 30
    assert settings.session_absolute_hours == 12
    assert settings.session_cookie_name == "waymark_session"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'waymark.db'}"
    assert settings.resolved_storage_url == (tmp_path / "data" / "blobs").as_uri()


def test_settings_come_from_waymark_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAYMARK_PORT", "8123")
    monkeypatch.setenv("WAYMARK_HOST", "10.0.0.5")
    monkeypatch.setenv("WAYMARK_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("WAYMARK_DATABASE_URL", "postgresql://db.internal/waymark")
    monkeypatch.setenv("WAYMARK_REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("WAYMARK_SESSION_IDLE_MINUTES", "10")

    settings = Settings()

    assert settings.port == 8123
    assert settings.host == "10.0.0.5"
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.resolved_database_url == "postgresql://db.internal/waymark"
    assert settings.redis_url == "redis://cache.internal:6379/0"
    assert settings.session_idle_minutes == 10


def test_development_generates_private_keys_on_first_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    keys = load_keys(settings)

    assert len(keys.master_key) == 32
    assert len(keys.secret_key) == 32
    assert keys.master_key != keys.secret_key
    assert _mode(settings.keys_dir) == 0o700
    files = sorted(p.name for p in settings.keys_dir.iterdir())
    assert files == ["master.key", "secret.key", "signing.pem"]
    for name in files:
        assert _mode(settings.keys_dir / name) == 0o600, name


def test_development_reuses_its_keys_on_the_next_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_keys(settings)
    written = {p.name: p.read_bytes() for p in settings.keys_dir.iterdir()}

    second = load_keys(Settings(data_dir=tmp_path / "data"))

    assert second.master_key == first.master_key
    assert second.secret_key == first.secret_key
    raw = serialization.Encoding.Raw
    raw_format = serialization.PublicFormat.Raw
    assert second.signing_key.public_key().public_bytes(raw, raw_format) == (
        first.signing_key.public_key().public_bytes(raw, raw_format)
    )
    assert {p.name: p.read_bytes() for p in settings.keys_dir.iterdir()} == written


def test_development_keys_differ_between_data_folders(tmp_path: Path) -> None:
    one = load_keys(Settings(data_dir=tmp_path / "one"))
    two = load_keys(Settings(data_dir=tmp_path / "two"))

    assert one.master_key != two.master_key
    assert one.secret_key != two.secret_key


def test_development_uses_keys_that_are_set_explicitly(tmp_path: Path) -> None:
    master = symmetric_key()
    settings = Settings(data_dir=tmp_path / "data", master_key=master)

    keys = load_keys(settings)

    assert keys.master_key == base64.b64decode(master.get_secret_value())
    assert not (settings.keys_dir / "master.key").exists()
    assert (settings.keys_dir / "secret.key").exists()


def test_the_app_creates_its_data_folder_privately(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "fresh", database_url=database_url, static_dir=tmp_path / "none"
    )

    app = create_app(settings)
    app.state.runtime.engine.dispose()

    assert _mode(tmp_path / "fresh") == 0o700
    assert (tmp_path / "fresh" / "keys" / "master.key").exists()
