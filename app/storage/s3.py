"""Blobs in S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, SeaweedFS).

WAYMARK_STORAGE_URL=s3://BUCKET?endpoint=https://…&region=…&prefix=…  Credentials come from the
usual AWS settings (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the instance's role), or from
the URL's user part (s3://KEY:SECRET@BUCKET?…) where a secret store fills in the URL.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage import KEY_PATTERN, BlobNotFound, Stored, check_key, owner_of

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

# S3's smallest multipart part is 5 MiB; 8 MiB parts keep memory small and requests few.
PART_SIZE = 8 * 1024 * 1024


class S3BlobStore:
    def __init__(self, client: "S3Client", bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_url(cls, url: str) -> "S3BlobStore":
        parsed = urlparse(url)
        query = {name: values[-1] for name, values in parse_qs(parsed.query).items()}
        options: dict[str, Any] = {}
        if parsed.username:
            options["aws_access_key_id"] = unquote(parsed.username)
            options["aws_secret_access_key"] = unquote(parsed.password or "")
        client = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint"),
            region_name=query.get("region", "us-east-1"),
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                # Path-style addressing works everywhere (MinIO, SeaweedFS need it).
                s3={
                    "addressing_style": "virtual"
                    if query.get("addressing") == "virtual"
                    else "path"
                },
            ),
            **options,
        )
        return cls(client, parsed.hostname or "", query.get("prefix", ""))

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def check(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError):
            return False
        return True

    def open_writer(self, key: str) -> "S3BlobWriter":
        return S3BlobWriter(self.client, self.bucket, self._key(key))

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Range=f"bytes={offset}-{offset + length - 1}",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                raise BlobNotFound(key) from error
            if code == "InvalidRange":
                return b""
            raise
        body: bytes = response["Body"].read()
        return body

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
        except ClientError as error:
            raise BlobNotFound(key) from error

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def listing(self) -> Iterator[Stored]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                owner = owner_of(key)
                if KEY_PATTERN.match(key) and owner:
                    yield Stored(name=key, owner=owner, modified=item["LastModified"])

    def unfinished_writes(self) -> Iterator[Stored]:
        """Multipart uploads never completed (a writer or a staged upload a crash stopped);
        `name` is "KEY UPLOAD-ID"."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Uploads", []):
                key = item["Key"][len(self.prefix) :]
                owner = owner_of(key.removeprefix("staging/"))
                if owner:
                    yield Stored(
                        name=f"{item['Key']} {item['UploadId']}",
                        owner=owner,
                        modified=item["Initiated"],
                    )

    def abort_unfinished(self, name: str) -> None:
        key, upload_id = name.split(" ", 1)
        self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)


class S3BlobWriter:
    """Small blobs in one PUT; larger ones as a multipart upload that is aborted on failure,
    so a half-written object never becomes visible. Memory stays within about one part."""

    def __init__(self, client: "S3Client", bucket: str, key: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def _send_part(self, body: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key)[
                "UploadId"
            ]
        number = len(self._parts) + 1
        etag = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=body
        )["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= PART_SIZE:
            part = bytes(self._buffer[:PART_SIZE])
            del self._buffer[:PART_SIZE]
            self._send_part(part)

    def commit(self) -> None:
        if self._upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer))
            self._buffer.clear()
            return
        if self._buffer:
            self._send_part(bytes(self._buffer))
            self._buffer.clear()
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},  # type: ignore[typeddict-item]
        )
        self._upload_id = None

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
