"""Real server processes for system tests: `waymark serve` on a free loopback port."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

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
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
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
