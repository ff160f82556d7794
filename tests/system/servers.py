"""Real server processes for system tests: `waymark serve` on a free loopback port."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import normalise_database_url
from app.migrations.runner import upgrade_to_head
from tests.support import missing_service

WAYMARK = str(Path(sys.executable).parent / "waymark")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def migrate(env: dict[str, str]) -> None:
    subprocess.run([WAYMARK, "migrate"], env={**os.environ, **env}, check=True, capture_output=True)


@contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start a server; yield its base URL and process; always stop it (the whole group)."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [WAYMARK, "serve"],
            env={**os.environ, **env, "WAYMARK_PORT": str(port), "WAYMARK_HOST": "127.0.0.1"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # 503 is an answer too: the server is up, though something it needs is not.
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {log}")
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def postgres_database(request: pytest.FixtureRequest, prefix: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database on the run's server (--pg-url), dropped afterwards;
    yields its URL."""
    server = make_url(normalise_database_url(request.config.getoption("--pg-url")))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # pragma: no cover - depends on the machine
        missing_service(f"PostgreSQL is not usable ({type(error).__name__})")
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def own_database(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[dict[str, str]]:
    """The settings for a database of this test's own, on the backend the run was asked for
    (--db): a SQLite file in `data_dir`, or a new PostgreSQL database dropped afterwards."""
    if request.config.getoption("--db") != "postgresql":
        env = {"WAYMARK_DATA_DIR": str(data_dir)}
        migrate(env)
        yield env
        return
    with postgres_database(request, "waymark_sys") as url:
        yield {"WAYMARK_DATA_DIR": str(data_dir), "WAYMARK_DATABASE_URL": url}
