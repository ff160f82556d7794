"""A failing dependency has a clear answer: a full disk is 507, a database, store or Redis that
does not answer is 503 with Retry-After, never a bare 500; sign-in goes on when Redis is away;
/health says which dependency is wrong. The failures here are real ones: a closed port, a
SQLite database that has reached its size limit, a Redis server this test stops."""

import errno
import logging
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
from botocore.config import Config
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.api.faults import dependency_failure
from app.errors import OutOfSpace, Unavailable
from tests.conftest import AppFactory
from tests.factories.accounts import (
    STRONG_PASSWORD,
    assert_problem,
    attempt_login,
    login,
    me,
    new_email,
    register,
)
from tests.factories.settings import development_settings
from tests.support import missing_service

ACCOUNT_FREE_FAILURES = 5
WRONG_PASSWORD = "not the right password"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _raised(action: object) -> BaseException:
    assert callable(action)
    try:
        action()
    except Exception as error:
        return error
    raise AssertionError("expected the dependency to fail")


# Which failures mean what


def test_a_full_sqlite_database_is_out_of_space(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'tiny.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    with engine.begin() as connection:
        page_count = connection.execute(text("PRAGMA page_count")).scalar_one()
        # SQLite answers "database or disk is full" at this size, as it does on a full disk.
        connection.execute(text(f"PRAGMA max_page_count = {page_count}"))

        def write() -> None:
            connection.execute(text("INSERT INTO notes VALUES (:b)"), {"b": "x" * 100_000})

        error = _raised(write)
    assert isinstance(error, SQLAlchemyError)
    assert isinstance(dependency_failure(error), OutOfSpace)


def test_a_full_disk_is_out_of_space() -> None:
    error = OSError(errno.ENOSPC, "No space left on device")
    assert isinstance(dependency_failure(error), OutOfSpace)
    wrapped = RuntimeError("while writing")
    wrapped.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert isinstance(dependency_failure(wrapped), OutOfSpace)


def test_an_unreachable_postgresql_is_unavailable() -> None:
    engine = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres",
        connect_args={"connect_timeout": 2},
    )
    error = _raised(engine.connect)
    failure = dependency_failure(error)
    assert isinstance(failure, Unavailable)
    assert failure.status == 503
    assert failure.headers["Retry-After"].isdigit()
    assert failure.detail.startswith("The database")
    raw = _raised(
        lambda: psycopg.connect(f"host=127.0.0.1 port={_closed_port()} connect_timeout=2")
    )
    assert isinstance(dependency_failure(raw), Unavailable)


def test_an_unreachable_redis_is_unavailable() -> None:
    client = Redis(port=_closed_port(), socket_connect_timeout=2)
    failure = dependency_failure(_raised(client.ping))
    assert isinstance(failure, Unavailable)
    assert "Redis" in failure.detail


def test_an_unreachable_object_store_is_unavailable() -> None:
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    failure = dependency_failure(_raised(lambda: client.head_bucket(Bucket="waymark")))
    assert isinstance(failure, Unavailable)
    assert failure.detail.startswith("The file store")


def test_a_mistake_in_sql_is_a_bug_not_a_fault(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bug.db'}")
    with engine.connect() as connection:
        error = _raised(lambda: connection.execute(text("SELECT * FROM no_such_table")))
    assert dependency_failure(error) is None
    assert dependency_failure(ValueError("a bug")) is None
    assert dependency_failure(sqlite3.IntegrityError("UNIQUE constraint failed")) is None


# /health


def test_health_says_degraded_when_free_disk_is_under_the_threshold(
    tmp_path: Path, database_url: str, make_app: AppFactory
) -> None:
    settings = development_settings(tmp_path / "data", database_url)
    app = make_app(settings.model_copy(update={"min_free_disk_mb": 1024**3}))  # a petabyte
    with TestClient(app) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["disk"] == "low"
    assert body["database"] == body["storage"] == "ok"
    assert body["version"]
    assert "redis" not in body  # not configured


# Redis stops


@dataclass
class OwnRedis:
    """A Redis server of this test's own (never the shared one), to stop and start."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        missing_service("redis-server is not installed")
    server = OwnRedis(port=_closed_port(), folder=tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.redis
def test_sign_in_keeps_working_on_in_process_limits_when_redis_stops(
    tmp_path: Path,
    database_url: str,
    make_app: AppFactory,
    own_redis: OwnRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    email = new_email()
    app = make_app(development_settings(tmp_path / "data", database_url, redis_url=own_redis.url))
    with TestClient(app) as victim, TestClient(app) as stalker:
        register(victim, email=email)
        assert victim.get("/api/v1/health").json()["redis"] == "ok"
        own_redis.stop()

        health = victim.get("/api/v1/health")
        assert health.status_code == 503
        assert health.json()["redis"] == "error"
        assert health.json()["status"] == "degraded"
        # The victim signs in again: Redis is away, the process's own limits stand in.
        assert victim.post("/api/v1/auth/logout").status_code == 204
        with caplog.at_level(logging.WARNING):
            login(victim, email)
        me(victim)
        assert "throttle_fallback" in caplog.text
        assert email not in caplog.text and STRONG_PASSWORD not in caplog.text
        # And the limits still hold against guessing.
        for _ in range(ACCOUNT_FREE_FAILURES):
            assert_problem(attempt_login(stalker, email, WRONG_PASSWORD), 401)
        refused = assert_problem(attempt_login(stalker, email, STRONG_PASSWORD), 429)
        assert refused["type"].endswith("too-many-requests")

        own_redis.start()
        assert victim.get("/api/v1/health").json()["status"] == "ok"
