"""A PostgreSQL server of a test's own, to stop and start under a running Waymark: initdb into a
temporary folder, on a free loopback port. PostgreSQL refuses to run as root, so when the tests
run as root the server runs as the `postgres` user (or `nobody`)."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support import missing_service
from tests.system.servers import free_port


def _bin_folder() -> Path | None:
    versions = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    found = sorted(versions, key=lambda initdb: int(initdb.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs PostgreSQL: None for the tests' own user, unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    missing_service("running as root and there is no `postgres` or `nobody` user to run as")


@dataclass
class OwnPostgres:
    bin: Path
    folder: Path
    port: int
    user: pwd.struct_passwd | None
    log: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *arguments: str) -> None:
        done = subprocess.run(
            [str(self.bin / arguments[0]), *arguments[1:]],
            user=self.user.pw_uid if self.user else None,
            group=self.user.pw_gid if self.user else None,
            capture_output=True,
            text=True,
            cwd=self.folder,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{arguments[0]} failed: {done.stderr.strip()}")

    def initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres").close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop as an operator restarting it would: sessions are ended, the data is kept."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A fresh PostgreSQL cluster, started; stopped and removed afterwards."""
    bin_folder = _bin_folder()
    if bin_folder is None:
        missing_service("PostgreSQL's initdb is not installed (/usr/lib/postgresql/*/bin)")
    user = _unprivileged_user()
    # Not under pytest's tmp_path: that is private to the tests' user, and the server may be
    # another user.
    folder = Path(tempfile.mkdtemp(prefix="waymark-pg-"))
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    server = OwnPostgres(bin_folder, folder, free_port(), user, folder / "server.log")
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
