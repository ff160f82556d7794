"""Staging survives a crash between any two of its steps, on a local folder and on S3: a new
tail never removes the one the recorded offset still needs, and finishing can be repeated."""

import uuid
from pathlib import Path

import pytest

from app.storage import BlobStore
from app.storage.crypto import HEADER_SIZE, MAGIC, SALT_SIZE
from app.storage.local import LocalBlobStore
from app.storage.s3 import S3BlobStore
from app.storage.staging import Staging, staging_for
from app.storage.stores import open_blob_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return open_blob_store((tmp_path / "blobs").as_uri())
    url: str = request.getfixturevalue("s3_url")
    return open_blob_store(url)


def _staged(store: BlobStore, staging: Staging, size: int) -> tuple[str, dict[str, object], bytes]:
    upload_id = uuid.uuid4().hex
    header = MAGIC + b"\x01" * SALT_SIZE
    assert len(header) == HEADER_SIZE
    body = bytes(range(256)) * (size // 256)
    state = staging.start(upload_id, header, HEADER_SIZE + len(body))
    state = staging.append(upload_id, state, 0, memoryview(body))
    staging.sync(upload_id)
    return upload_id, state, header + body


def test_a_new_tail_keeps_the_older_one_until_it_is_dropped(store: BlobStore) -> None:
    staging = staging_for(store)
    upload_id = uuid.uuid4().hex
    staging.start(upload_id, MAGIC + b"\x02" * SALT_SIZE, 10_000)
    staging.put_tail(upload_id, 100, b"first")
    # A crash here (before offset 250 is recorded) leaves offset 100: its tail must be there.
    staging.put_tail(upload_id, 250, b"second")
    assert staging.get_tail(upload_id, 100) == b"first"
    assert staging.get_tail(upload_id, 250) == b"second"
    staging.drop_tail(upload_id, 100)
    assert staging.get_tail(upload_id, 100) is None
    assert staging.get_tail(upload_id, 250) == b"second"
    staging.discard(upload_id, {})
    assert staging.get_tail(upload_id, 250) is None


def test_finishing_again_after_it_was_done_is_harmless(store: BlobStore) -> None:
    staging = staging_for(store)
    upload_id, state, whole = _staged(store, staging, 4096)
    staging.finish(upload_id, state, upload_id)
    # A crash after finish and before the evidence was recorded: the next request finishes
    # the upload again.
    staging.finish(upload_id, state, upload_id)
    assert store.read_at(upload_id, 0, len(whole)) == whole


def test_s3_finishing_picks_up_after_the_multipart_upload_was_completed(
    s3_url: str,
) -> None:
    store = open_blob_store(s3_url)
    assert isinstance(store, S3BlobStore)
    staging = staging_for(store)
    upload_id, state, whole = _staged(store, staging, 4096)
    # Stopped between completing the multipart upload and copying it into place.
    store.client.complete_multipart_upload(
        Bucket=store.bucket,
        Key=f"{store.prefix}staging/{upload_id}/blob",
        UploadId=str(state["multipart_id"]),
        MultipartUpload={"Parts": state["parts"]},  # type: ignore[typeddict-item]
    )
    staging.finish(upload_id, state, upload_id)
    assert store.read_at(upload_id, 0, len(whole)) == whole


def test_local_finishing_picks_up_after_the_rename(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    staging = staging_for(store)
    upload_id, state, whole = _staged(store, staging, 4096)
    staging.put_tail(upload_id, 77, b"left over")
    # Stopped between renaming the staged file into place and removing the rest.
    store.path(upload_id).parent.mkdir(parents=True, exist_ok=True)
    (store.staging / f"{upload_id}.upload").replace(store.path(upload_id))
    staging.finish(upload_id, state, upload_id)
    assert store.read_at(upload_id, 0, len(whole)) == whole
    assert list(store.staging.iterdir()) == []
