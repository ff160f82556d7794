"""Test set-up: every test gets a fresh app over a real database.

`pytest --db=sqlite` (default) runs on a SQLite file; `pytest --db=postgresql` runs the same
suite on a new database created on the local PostgreSQL server for this run and dropped after.
An unreachable PostgreSQL or Redis skips with a reason on a developer's machine and fails the
run when CI=true.

Passwords are hashed with Argon2id at its smallest cost (WAYMARK_PASSWORD_HASHING=minimal):
the suite makes thousands of accounts, and a hash that is slow on purpose is what most tests
are not about. A test that is about it says so with `@pytest.mark.real_password_hashing`.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import Environment, PasswordHashing, Settings
from app.db import make_engine, normalise_database_url
from app.keys import load_keys
from app.main import create_app
from app.migrations.runner import upgrade_to_head
from app.models import ALL_TABLES
from app.services import passwords, sealing
from tests.seaweed import s3_endpoint, s3_url
from tests.support import missing_service

ClientFactory = Callable[[], TestClient]
__all__ = ["s3_endpoint", "s3_url"]  # fixtures from tests/seaweed.py
AppFactory = Callable[[Settings], FastAPI]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.addoption("--pg-url", default=os.environ.get("WAYMARK_TEST_PG_URL", DEFAULT_PG_URL))


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    backend = request.config.getoption("--db")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'waymark.db'}"
        upgrade_to_head(url)
        yield url
        return
    server_url = make_url(normalise_database_url(request.config.getoption("--pg-url")))
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        admin.dispose()
        missing_service(
            f"PostgreSQL is not reachable at {server_url.host}:{server_url.port} "
            f"({type(error).__name__})"
        )
    name = f"waymark_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def cleanup_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(ALL_TABLES.sorted_tables):
            connection.execute(table.delete())


def _share_keys(application: FastAPI, engine: Engine) -> None:
    """Let the test's own engine open what the app sealed (names and emails, for look-ups in
    tests/factories/database.py) with the app's keys."""
    sealing.register_keys(engine, application.state.runtime.keys)


@pytest.fixture(autouse=True)
def password_hashing(request: pytest.FixtureRequest) -> Iterator[PasswordHashing]:
    """The cost passwords are hashed at in this test: minimal unless it asks for the real one.

    Set for the process too, for tests that call the services without an app; an app applies
    its own settings' cost when it is built.
    """
    real = request.node.get_closest_marker("real_password_hashing") is not None
    chosen = PasswordHashing.standard if real else PasswordHashing.minimal
    passwords.use(chosen)
    yield chosen
    passwords.use(PasswordHashing.standard)


@pytest.fixture(scope="session")
def development_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The keys a development server makes on first start, made once for the whole run and
    copied into each test's data folder: an Ed25519 key and two random keys, each written and
    fsynced, would otherwise be made again for every test."""
    data_dir = tmp_path_factory.mktemp("development-keys") / "data"
    load_keys(Settings(data_dir=data_dir, environment=Environment.development))
    return data_dir / "keys"


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    password_hashing: PasswordHashing,
    development_keys: Path,
) -> Settings:
    # As the server left them (0700 folder, 0600 files: copytree keeps the modes).
    shutil.copytree(development_keys, tmp_path / "data" / "keys")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        environment=Environment.development,
        static_dir=tmp_path / "no-pwa",
        password_hashing=password_hashing,
    )


@pytest.fixture
def app(settings: Settings, cleanup_engine: Engine) -> Iterator[FastAPI]:
    application = create_app(settings)
    _share_keys(application, cleanup_engine)
    yield application
    application.state.runtime.engine.dispose()
    _empty_all_tables(cleanup_engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_client(app: FastAPI) -> Iterator[ClientFactory]:
    """More browsers against the same server (a victim and a stalker, say)."""
    opened: list[TestClient] = []

    def factory() -> TestClient:
        test_client = TestClient(app)
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield factory
    for test_client in opened:
        test_client.__exit__(None, None, None)


@pytest.fixture
def redis_url() -> str:
    from redis import Redis

    url = os.environ.get("WAYMARK_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:
        missing_service(f"Redis is not reachable at {url} ({type(error).__name__})")
    return url


@pytest.fixture
def db_engine(cleanup_engine: Engine) -> Engine:
    """The test database, for checking what the API stored (or did not)."""
    return cleanup_engine


@pytest.fixture
def db(cleanup_engine: Engine, settings: Settings) -> Iterator[Session]:
    """A session on the test database for service tests; every table is emptied afterwards."""
    sealing.register_keys(cleanup_engine, load_keys(settings))
    with Session(cleanup_engine, expire_on_commit=False) as session:
        yield session
    _empty_all_tables(cleanup_engine)


@pytest.fixture
def make_app(cleanup_engine: Engine) -> Iterator[AppFactory]:
    """Apps with settings of the test's own (production, Redis…) over the test database."""
    built: list[FastAPI] = []

    def factory(custom: Settings) -> FastAPI:
        application = create_app(custom)
        built.append(application)
        _share_keys(application, cleanup_engine)
        return application

    yield factory
    for application in built:
        application.state.runtime.engine.dispose()
    _empty_all_tables(cleanup_engine)
