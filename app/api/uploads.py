"""Resumable uploads (tus 1.0: core, creation, termination, expiration, checksum).

Large files from phones on bad connections: a dropped signal or a locked screen costs at most
the last few megabytes. When the last byte is in, the file becomes evidence with the upload's
id (GET /api/v1/evidence/{upload id}).

A finished upload still answers HEAD, and a repeated last PATCH: Upload-Offset and
Upload-Length are the file's size, and Location (with Waymark-Evidence-Id) names its evidence,
so a client whose answer was lost in a crash or a dropped connection knows it is done
(docs/operating.md).
"""

import uuid
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from app.api.deps import RuntimeDep, StreamingVictim
from app.api.streaming import consume_in_thread
from app.db import transaction
from app.errors import InvalidInput, UnsupportedMediaType
from app.services import uploads
from app.storage.staging import staging_for

router = APIRouter(prefix="/uploads", tags=["uploads"])

TUS_HEADERS = {"Tus-Resumable": uploads.TUS_VERSION}


def _require_tus(version: str | None) -> None:
    if version != uploads.TUS_VERSION:
        raise InvalidInput("Send Tus-Resumable: 1.0.0.", field="Tus-Resumable", where="header")


def _expires(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@router.options("", status_code=status.HTTP_204_NO_CONTENT)
def describe_uploads(runtime: RuntimeDep) -> Response:
    """What this tus server supports."""
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            **TUS_HEADERS,
            "Tus-Version": uploads.TUS_VERSION,
            "Tus-Extension": uploads.EXTENSIONS,
            "Tus-Max-Size": str(runtime.evidence_limits.max_file_bytes),
            "Tus-Checksum-Algorithm": ",".join(uploads.CHECKSUM_ALGORITHMS),
        },
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def start_upload(
    victim: StreamingVictim,
    runtime: RuntimeDep,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_length: Annotated[int | None, Header(ge=0)] = None,
    upload_metadata: Annotated[str | None, Header(max_length=8192)] = None,
    upload_defer_length: Annotated[str | None, Header()] = None,
) -> Response:
    """Start an upload: Upload-Length, and Upload-Metadata with filename, sha256,
    description and incident_ids."""
    _require_tus(tus_resumable)
    if upload_defer_length is not None or upload_length is None:
        raise InvalidInput("Send Upload-Length.", field="Upload-Length", where="header")
    staging = staging_for(runtime.blob_store)
    with transaction(runtime.engine, writes=True) as db:
        uploads.expire(db, staging)
        upload = uploads.create(
            db,
            victim,
            length=upload_length,
            metadata=uploads.parse_metadata(upload_metadata),
            limits=runtime.evidence_limits,
            keys=runtime.keys,
            staging=staging,
        )
    return Response(
        status_code=status.HTTP_201_CREATED,
        headers={
            **TUS_HEADERS,
            "Location": f"/api/v1/uploads/{upload.id}",
            "Upload-Expires": _expires(upload.expires_at),
        },
    )


def _progress_headers(progress: uploads.Progress) -> dict[str, str]:
    headers = {**TUS_HEADERS, "Upload-Offset": str(progress.offset)}
    if progress.expires_at is not None:
        headers["Upload-Expires"] = _expires(progress.expires_at)
    if progress.evidence is not None:
        headers["Location"] = f"/api/v1/evidence/{progress.evidence.id}"
        headers["Waymark-Evidence-Id"] = str(progress.evidence.id)
    return headers


@router.head("/{upload_id}")
def upload_offset(upload_id: uuid.UUID, victim: StreamingVictim, runtime: RuntimeDep) -> Response:
    """How much of the upload the server holds.

    A finished upload answers 200 with Upload-Offset = Upload-Length = the file's size,
    `Location: /api/v1/evidence/{id}` and `Waymark-Evidence-Id: {id}`: it is evidence already,
    so do not send it again. (An upload a crash stopped just short of evidence is finished by
    this request.) 404 only when there is no such upload and no evidence came of it.
    """
    progress = uploads.status(
        runtime.engine,
        victim,
        upload_id,
        staging=staging_for(runtime.blob_store),
        store=runtime.blob_store,
        keys=runtime.keys,
    )
    return Response(
        status_code=status.HTTP_200_OK,
        headers={
            **_progress_headers(progress),
            "Upload-Length": str(progress.length),
            "Cache-Control": "no-store",
        },
    )


@router.patch("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
async def continue_upload(
    upload_id: uuid.UUID,
    request: Request,
    victim: StreamingVictim,
    runtime: RuntimeDep,
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_offset: Annotated[int | None, Header(ge=0)] = None,
    upload_checksum: Annotated[str | None, Header(max_length=200)] = None,
    content_type: Annotated[str | None, Header()] = None,
) -> Response:
    """Send the next bytes, from Upload-Offset on.

    The last PATCH answers 204 with `Location: /api/v1/evidence/{id}` and
    `Waymark-Evidence-Id`. Sent again once the upload is finished (its answer was lost), it
    gets the same answer and its body is not used."""
    _require_tus(tus_resumable)
    if content_type != "application/offset+octet-stream":
        raise UnsupportedMediaType("Send Content-Type: application/offset+octet-stream.")
    if upload_offset is None:
        raise InvalidInput("Send Upload-Offset.", field="Upload-Offset", where="header")
    offset = upload_offset
    declared = request.headers.get("content-length")
    body_length = int(declared) if declared is not None and declared.isdigit() else None

    def receive(body: Iterator[bytes]) -> uploads.Progress:
        return uploads.receive(
            runtime.engine,
            victim,
            upload_id,
            offset,
            body,
            body_length=body_length,
            checksum=upload_checksum,
            staging=staging_for(runtime.blob_store),
            store=runtime.blob_store,
            keys=runtime.keys,
        )

    # Async so that the event loop reads the body ahead while a worker thread hashes,
    # encrypts and writes what has arrived (the service, database included, runs there).
    progress = await consume_in_thread(request, receive)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_progress_headers(progress))


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_upload(
    upload_id: uuid.UUID,
    victim: StreamingVictim,
    runtime: RuntimeDep,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Stop an upload and throw away what arrived."""
    _require_tus(tus_resumable)
    with transaction(runtime.engine, writes=True) as db:
        upload = uploads.get_owned(db, victim.id, upload_id)
        uploads.terminate(db, upload, staging_for(runtime.blob_store))
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=TUS_HEADERS)
