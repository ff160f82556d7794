"""A real `waymark serve` process on a free loopback port, with its own data folder and
database, and the server's peak memory read from /proc."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import psycopg
from sqlalchemy import Engine

from app.config import Settings
from app.db import make_engine
from app.keys import load_keys
from app.services import sealing

HOST = "127.0.0.1"
PASSWORD = "lantern orchard velvet compass"  # noqa: S105  (benchmark accounts only)
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MiB = 1024 * 1024


def waymark_command() -> Path:
    """The `waymark` script of the environment this runner runs in (.venv/bin)."""
    return Path(sys.executable).parent / "waymark"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """The server's peak resident memory over a block, in MiB.

    The kernel's high-water mark (VmHWM) is reset to the current size at the start (root may
    write 5 to /proc/PID/clear_refs); where that is not allowed, VmRSS is sampled every 10 ms.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.mib = 0.0
        self.method = ""
        self._sampled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._hwm_reset = False

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            with contextlib.suppress(OSError, LookupError):
                self._sampled = max(self._sampled, _status_kib(self.pid, "VmRSS"))

    def __enter__(self) -> "PeakMemory":
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self._hwm_reset = True
        except OSError:
            self._hwm_reset = False
        self._sampled = _status_kib(self.pid, "VmRSS")
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if self._hwm_reset:
            self.mib = _status_kib(self.pid, "VmHWM") / 1024
            self.method = "VmHWM"
        else:
            self.mib = self._sampled / 1024
            self.method = "sampled VmRSS"


@dataclass
class Victim:
    id: uuid.UUID
    email: str
    client: httpx.Client

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.client.cookies.items())


class Server:
    """`waymark migrate && waymark serve` in a fresh data folder, on SQLite or a fresh
    PostgreSQL database (created here, dropped on exit)."""

    def __init__(self, database: str, label: str) -> None:
        assert database in ("sqlite", "postgresql")
        self.database = database
        self.label = label
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"waymark-bench-{label}-"))
        self.port = free_port()
        self.pg_name: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._engine: Engine | None = None
        self._victims = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def database_url(self) -> str:
        if self.pg_name is None:
            return f"sqlite:///{(self.data_dir / 'waymark.db').resolve()}"
        return f"postgresql://postgres@127.0.0.1:5432/{self.pg_name}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def engine(self) -> Engine:
        """A direct connection to the server's database, for seeding."""
        if self._engine is None:
            self._engine = make_engine(self.database_url)
            # The server's own keys (made in its data folder on first need), so what is seeded
            # is sealed as the server seals it.
            settings = Settings(data_dir=self.data_dir, database_url=self.database_url)
            sealing.register_keys(self._engine, load_keys(settings))
        return self._engine

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAYMARK_")}
        env.update(
            WAYMARK_DATA_DIR=str(self.data_dir),
            WAYMARK_HOST=HOST,
            WAYMARK_PORT=str(self.port),
            WAYMARK_DATABASE_URL=self.database_url,
            # A long run must not be signed out between its phases.
            WAYMARK_SESSION_IDLE_MINUTES="720",
        )
        return env

    def __enter__(self) -> "Server":
        if self.database == "postgresql":
            self.pg_name = f"waymark_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.pg_name}"')
        try:
            subprocess.run(
                [str(waymark_command()), "migrate"],
                env=self._environment(),
                check=True,
                capture_output=True,
            )
            log = (self.data_dir / "server.log").open("wb")
            self.process = subprocess.Popen(
                [str(waymark_command()), "serve"],
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
            self._wait_until_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: see {self.data_dir / 'server.log'}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/api/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the server did not answer within 60 s")

    def __exit__(
        self,
        _type: type[BaseException] | None = None,
        _value: BaseException | None = None,
        _traceback: TracebackType | None = None,
    ) -> None:
        if self.process is not None and self.process.poll() is not None:
            # It stopped on its own: keep its log, which goes with the data folder below.
            kept = Path(tempfile.gettempdir()) / f"{self.data_dir.name}-server.log"
            shutil.copyfile(self.data_dir / "server.log", kept)
            sys.stderr.write(
                f"the {self.label} server exited with {self.process.returncode}; log: {kept}\n"
            )
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._engine is not None:
            self._engine.dispose()
        if self.pg_name is not None:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, timeout: float = 600) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout)

    def register(self, name: str) -> Victim:
        """A victim's account through the API, signed in (its cookie in the client)."""
        self._victims += 1
        email = f"bench-{self._victims}-{uuid.uuid4().hex[:6]}@example.org"
        client = self.client()
        response = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": name},
        )
        response.raise_for_status()
        return Victim(uuid.UUID(response.json()["id"]), email, client)

    def rss_mib(self) -> float:
        return _status_kib(self.pid, "VmRSS") / 1024


@contextlib.contextmanager
def scratch_folder(near: Path, name: str) -> Iterator[Path]:
    """A folder on the same file system as `near` (the server's data), removed after."""
    folder = near / name
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
