"""Where a resumable (tus) upload's ciphertext waits until the upload is complete.

The upload service hands over whole runs of sealed segments (`append`) and, at a checkpoint
that falls between appends, the few bytes after them sealed as a "tail" keyed by the offset it
belongs to. Before it records an offset it calls `sync`, and tails are durable when `put_tail`
returns, so the offset the database records never runs ahead of stored bytes, and any server
process can take the next PATCH. A tail is only dropped (`drop_tail`) once a later offset is
recorded, so a crash between storing a new tail and recording its offset leaves the old offset
with its tail still there.

`finish` may be called again after a crash part-way through it: it picks up where it stopped.

- Local folder: one staging file, as large as the blob from the start and written in place;
  the finished file is renamed into place.
- S3: a multipart upload; each append_size of plaintext is one part, tails are small objects
  beside it.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.storage import BlobNotFound, Stored, owner_of
from app.storage.crypto import CIPHER_SEGMENT_SIZE, HEADER_SIZE, SEGMENT_SIZE
from app.storage.local import LocalBlobStore, fsync_dir, stored_file

if TYPE_CHECKING:
    from app.storage.s3 import S3BlobStore

# S3 parts must be at least 5 MiB (but the last): appends there are 128 segments, 8 MiB.
S3_SEGMENTS_PER_APPEND = 128


class Staging(Protocol):
    # How many plaintext bytes make one append (a whole number of segments).
    append_size: int

    def start(self, upload_id: str, header: bytes, size: int) -> dict[str, Any]:
        """Begin staging a blob of `size` bytes (header and sealed segments); returns the
        backend's state to keep with the upload."""
        ...

    def append(
        self, upload_id: str, state: dict[str, Any], first_segment: int, sealed: memoryview
    ) -> dict[str, Any]:
        """Store sealed segments from `first_segment` on: one or more whole appends (of
        `append_size` plaintext bytes; only the blob's last may be shorter), replacing anything
        staged from there (a crash can leave segments that were never acknowledged). Durable
        after sync(). `sealed` is the caller's buffer, reused once this returns."""
        ...

    def sync(self, upload_id: str) -> None:
        """Make every append so far durable (called before an offset is recorded)."""
        ...

    def put_tail(self, upload_id: str, offset: int, sealed: bytes) -> None:
        """Store the tail for `offset`, durably, beside any older tail (which the offset the
        database holds may still need)."""
        ...

    def get_tail(self, upload_id: str, offset: int) -> bytes | None: ...

    def drop_tail(self, upload_id: str, offset: int) -> None:
        """Remove the tail for `offset` (called once a later offset is recorded)."""
        ...

    def finish(self, upload_id: str, state: dict[str, Any], blob_key: str) -> None:
        """Make everything appended the blob stored under `blob_key`. Safe to repeat after a
        crash part-way: when the staged data is gone and the blob is there, it is done."""
        ...

    def discard(self, upload_id: str, state: dict[str, Any]) -> None: ...

    def leftovers(self) -> Iterator[Stored]:
        """Everything staged (for the orphan sweep): `owner` is the upload's id, or for a
        blob being written, the blob's."""
        ...

    def remove(self, name: str) -> None:
        """Remove one thing `leftovers` listed."""
        ...


class LocalStaging:
    # 1 MiB per append: few enough writes to be fast, small enough tails to be cheap.
    append_size = SEGMENT_SIZE * 16

    def __init__(self, store: LocalBlobStore) -> None:
        self.store = store
        self.folder = store.staging

    def _file(self, upload_id: str) -> Path:
        return self.folder / f"{upload_id}.upload"

    def _tail(self, upload_id: str, offset: int) -> Path:
        return self.folder / f"{upload_id}.tail-{offset}"

    def start(self, upload_id: str, header: bytes, size: int) -> dict[str, Any]:
        with self._file(upload_id).open("wb") as handle:
            handle.write(header)
            # The file has its final size from the start (sparse: no disk space is taken yet),
            # so appends write inside it: on ext4 a write that grows a file waits for the
            # journal, which every fsync (ours, or any other process's) keeps busy.
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(self.folder)
        return {}

    def append(
        self, upload_id: str, state: dict[str, Any], first_segment: int, sealed: memoryview
    ) -> dict[str, Any]:
        # Writing over whatever is staged from here on replaces it: the file never grows past
        # the blob's size, and every segment after this one is written again before finish().
        position = HEADER_SIZE + first_segment * CIPHER_SEGMENT_SIZE
        try:
            fd = os.open(self._file(upload_id), os.O_WRONLY)
        except FileNotFoundError as error:
            raise BlobNotFound(upload_id) from error
        try:
            written = 0
            while written < len(sealed):
                written += os.pwrite(fd, sealed[written:], position + written)
            # Start writing these bytes to disk now (on Linux, DONTNEED starts write-back of
            # dirty pages), so the fsync at the next checkpoint finds little left to do; and
            # ciphertext nobody reads before the upload ends need not stay in the page cache.
            os.posix_fadvise(fd, position, len(sealed), os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        return state

    def sync(self, upload_id: str) -> None:
        fd = os.open(self._file(upload_id), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put_tail(self, upload_id: str, offset: int, sealed: bytes) -> None:
        target = self._tail(upload_id, offset)
        temporary = target.with_suffix(".partial")
        with temporary.open("wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
        fsync_dir(self.folder)

    def get_tail(self, upload_id: str, offset: int) -> bytes | None:
        try:
            return self._tail(upload_id, offset).read_bytes()
        except FileNotFoundError:
            return None

    def drop_tail(self, upload_id: str, offset: int) -> None:
        self._tail(upload_id, offset).unlink(missing_ok=True)

    def finish(self, upload_id: str, state: dict[str, Any], blob_key: str) -> None:
        target = self.store.path(blob_key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._file(upload_id).replace(target)
        except FileNotFoundError:
            if not target.exists():
                raise BlobNotFound(upload_id) from None
            # Renamed by an earlier finish that did not get further.
        fsync_dir(target.parent)
        self.discard(upload_id, state)

    def discard(self, upload_id: str, state: dict[str, Any]) -> None:
        for path in self.folder.glob(f"{upload_id}.*"):
            path.unlink(missing_ok=True)

    def leftovers(self) -> Iterator[Stored]:
        for path in self.folder.iterdir():
            found = stored_file(path, path.name)
            if found is not None:
                yield found

    def remove(self, name: str) -> None:
        if "/" in name or name.startswith("."):
            raise ValueError("not a staging file")
        (self.folder / name).unlink(missing_ok=True)


class S3Staging:
    append_size = SEGMENT_SIZE * S3_SEGMENTS_PER_APPEND

    def __init__(self, store: "S3BlobStore") -> None:
        self.store = store
        self.client = store.client
        self.bucket = store.bucket

    def _object(self, upload_id: str, name: str) -> str:
        return f"{self.store.prefix}staging/{upload_id}/{name}"

    def _blob(self, upload_id: str) -> str:
        return self._object(upload_id, "blob")

    def start(self, upload_id: str, header: bytes, size: int) -> dict[str, Any]:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=self._blob(upload_id))
        # The header travels with the first part (parts but the last must be 5 MiB or more).
        return {"multipart_id": upload["UploadId"], "parts": [], "header": header.hex()}

    def append(
        self, upload_id: str, state: dict[str, Any], first_segment: int, sealed: memoryview
    ) -> dict[str, Any]:
        first_number = first_segment // S3_SEGMENTS_PER_APPEND + 1
        parts = [p for p in state["parts"] if p["PartNumber"] < first_number]
        part_size = S3_SEGMENTS_PER_APPEND * CIPHER_SEGMENT_SIZE
        for start in range(0, len(sealed), part_size):
            number = first_number + start // part_size
            header = bytes.fromhex(state["header"]) if number == 1 else b""
            body = header + sealed[start : start + part_size]  # its own copy: `sealed` is reused
            etag = self.client.upload_part(
                Bucket=self.bucket,
                Key=self._blob(upload_id),
                UploadId=state["multipart_id"],
                PartNumber=number,
                Body=body,
            )["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        return {**state, "parts": parts}

    def sync(self, upload_id: str) -> None:
        """Each part is durable once S3 has answered for it."""

    def put_tail(self, upload_id: str, offset: int, sealed: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._object(upload_id, f"tail-{offset}"), Body=sealed
        )

    def get_tail(self, upload_id: str, offset: int) -> bytes | None:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._object(upload_id, f"tail-{offset}")
            )
        except self.client.exceptions.NoSuchKey:
            return None
        data: bytes = response["Body"].read()
        return data

    def drop_tail(self, upload_id: str, offset: int) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(upload_id, f"tail-{offset}"))

    def _size(self, key: str) -> int | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def finish(self, upload_id: str, state: dict[str, Any], blob_key: str) -> None:
        staged = self._blob(upload_id)
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=staged,
                UploadId=state["multipart_id"],
                MultipartUpload={"Parts": state["parts"]},
            )
        except self.client.exceptions.ClientError:
            # Completed by an earlier finish that did not get further (the multipart upload
            # is gone then, and the staged object is there), or copied into place already.
            if self._size(staged) is None:
                if self._size(self.store.prefix + blob_key) is None:
                    raise
                self.discard(upload_id, {})
                return
        # Server-side copy into place (one request for objects up to 5 GiB; larger in parts).
        source = f"{self.bucket}/{staged}"  # keys are ids: nothing to escape
        size = self._size(staged)
        if size is None:
            raise BlobNotFound(upload_id)
        self._copy(source, self.store.prefix + blob_key, size)
        self.discard(upload_id, {})

    def _copy(self, source: str, key: str, size: int) -> None:
        limit = 5 * 1024**3
        if size <= limit:
            self.client.copy_object(Bucket=self.bucket, Key=key, CopySource=source)
            return
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        parts = []
        for number, start in enumerate(range(0, size, limit), start=1):
            end = min(start + limit, size) - 1
            etag = self.client.upload_part_copy(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={start}-{end}",
            )["CopyPartResult"]["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
        )

    def discard(self, upload_id: str, state: dict[str, Any]) -> None:
        if state.get("multipart_id"):
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self._blob(upload_id), UploadId=state["multipart_id"]
                )
        listing = self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self._object(upload_id, "")
        )
        for item in listing.get("Contents", []):
            self.client.delete_object(Bucket=self.bucket, Key=item["Key"])

    def leftovers(self) -> Iterator[Stored]:
        prefix = f"{self.store.prefix}staging/"
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                owner = owner_of(item["Key"][len(prefix) :])
                if owner:
                    yield Stored(name=item["Key"], owner=owner, modified=item["LastModified"])
        yield from self.store.unfinished_writes()

    def remove(self, name: str) -> None:
        if " " in name:
            self.store.abort_unfinished(name)
        else:
            self.client.delete_object(Bucket=self.bucket, Key=name)


def staging_for(store: object) -> Staging:
    if isinstance(store, LocalBlobStore):
        return LocalStaging(store)
    # Imported only for S3: boto3 would cost a local-disk server ~10 MiB and its first upload
    # a noticeable pause.
    from app.storage.s3 import S3BlobStore

    if isinstance(store, S3BlobStore):
        return S3Staging(store)
    raise TypeError("no staging for this blob store")
