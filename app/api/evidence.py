"""Evidence: files kept byte-exact. Small files come here as multipart; large ones by tus
(/uploads)."""

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlmodel import Session

from app.api.deps import CurrentVictim, RuntimeDep, SessionDep, StreamingVictim
from app.api.pages import CursorParam, IncludeWithdrawn, Limit, Order, Page
from app.api.streaming import MultipartStream, body_chunks
from app.db import transaction
from app.errors import InvalidInput, NotFound
from app.models.evidence import Evidence, EvidenceFields, EvidencePublic, EvidenceUpdate
from app.models.record import RevisionPublic, Withdrawal
from app.services import data_keys, evidence, records, timeline
from app.services.downloads import RangeNotSatisfiable, content_disposition, parse_range
from app.storage import BlobWriter
from app.storage.reader import BlobReader

router = APIRouter(prefix="/evidence", tags=["evidence"])


def owned_evidence(evidence_id: uuid.UUID, victim: CurrentVictim, db: SessionDep) -> Evidence:
    return records.get_owned(db, evidence.KIND, victim.id, evidence_id)


OwnedEvidence = Annotated[Evidence, Depends(owned_evidence)]


def _incident_ids(raw: str | None) -> list[uuid.UUID]:
    """Accept "id1,id2" or a JSON list, as forms are written both ways."""
    if not raw or not raw.strip():
        return []
    try:
        values = json.loads(raw) if raw.strip().startswith("[") else raw.split(",")
        return [uuid.UUID(str(value).strip()) for value in values]
    except (ValueError, TypeError) as error:
        raise InvalidInput("incident_ids must be incident ids.", field="incident_ids") from error


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidencePublic,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "description": {"type": "string"},
                            "incident_ids": {"type": "string"},
                            "sha256": {"type": "string"},
                            "id": {"type": "string", "format": "uuid"},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def upload_evidence(
    request: Request, victim: StreamingVictim, runtime: RuntimeDep, response: Response
) -> EvidencePublic:
    """Upload a file (multipart: file, and optionally description, incident_ids, sha256, id).
    It is kept only if it arrives whole and, when sha256 is sent, matches it."""
    limits = runtime.evidence_limits
    # Short transactions before and after the body; none is held while the file arrives.
    with transaction(runtime.engine, writes=True) as db:
        evidence.check_room(db, victim.id, limits, 0)
        room = min(limits.max_file_bytes, limits.quota_bytes - evidence.bytes_in_use(db, victim.id))
        data_key = data_keys.data_key_for(db, victim.id, runtime.keys)
    blob_id = uuid.uuid4()
    received = _Received()

    def start(filename: str | None) -> None:
        received.filename = filename
        received.writer = runtime.blob_store.open_writer(evidence.blob_key(blob_id))
        received.ingest = evidence.Ingest(received.writer, data_key, room)

    def data(chunk: bytes) -> None:
        assert received.ingest is not None
        received.ingest.feed(chunk)

    stream = MultipartStream(request.headers.get("content-type", ""), "file", start, data)
    committed = False
    try:
        for chunk in body_chunks(request):
            stream.feed(chunk)
        stream.finish()
        assert received.ingest is not None and received.writer is not None
        sha256 = received.ingest.finish()
        received.writer.commit()
        committed = True
        assert received.ingest.media_type is not None
        arrived = evidence.Arrived(
            evidence_id=_requested_id(stream.fields.get("id")),
            blob_id=blob_id,
            original_filename=evidence.clean_filename(received.filename),
            media_type=received.ingest.media_type,
            size=received.ingest.size,
            sha256=sha256,
            client_sha256=evidence.valid_sha256(stream.fields.get("sha256")),
        )
        fields = _form_fields(stream.fields)
        examined = evidence.examine(runtime.blob_store, arrived, data_key)
        with transaction(runtime.engine, writes=True) as db:
            kept, created = evidence.keep(db, victim, arrived, fields, examined)
            public = evidence.to_public(db, [kept])[0]
    except BaseException:
        if received.writer is not None:
            received.writer.abort()
        if committed:
            evidence.discard_blobs(runtime.blob_store, blob_id)
        raise
    if not created:
        # A retry of an upload already kept: the copy that just arrived is not needed.
        evidence.discard_blobs(runtime.blob_store, blob_id)
        response.status_code = status.HTTP_200_OK
    return public


@dataclass
class _Received:
    filename: str | None = None
    writer: BlobWriter | None = None
    ingest: evidence.Ingest | None = None


def _requested_id(raw: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(raw) if raw else uuid.uuid4()
    except ValueError as error:
        raise InvalidInput("id must be a UUID.", field="id") from error


def _form_fields(fields: dict[str, str]) -> EvidenceFields:
    try:
        return EvidenceFields(
            description=fields.get("description", ""),
            incident_ids=_incident_ids(fields.get("incident_ids")),
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(first["msg"], field=str(first["loc"][0])) from error


@router.get("", response_model=Page[EvidencePublic])
def list_evidence(
    victim: CurrentVictim,
    db: SessionDep,
    limit: Limit = 50,
    cursor: CursorParam = None,
    include_withdrawn: IncludeWithdrawn = False,
    order: Order = Order.asc,
) -> Page[EvidencePublic]:
    """Your files, in the order they were captured (or uploaded)."""
    found = timeline.page(
        db,
        victim.id,
        timeline.Filters(
            kinds=frozenset({evidence.KIND.name}), include_withdrawn=include_withdrawn
        ),
        limit=limit,
        cursor=cursor,
        descending=order is Order.desc,
    )
    return Page(
        items=[EvidencePublic.model_validate(item.data) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.get("/{evidence_id}", response_model=EvidencePublic)
def read_evidence(item: OwnedEvidence, db: SessionDep) -> EvidencePublic:
    """One file's record: hashes, what the file claims about itself, its incidents."""
    return evidence.to_public(db, [item])[0]


@router.patch("/{evidence_id}", response_model=EvidencePublic)
def amend_evidence(
    item: OwnedEvidence, body: EvidenceUpdate, victim: CurrentVictim, db: SessionDep
) -> EvidencePublic:
    """Change the description or the incidents; the file itself never changes."""
    records.amend(db, evidence.KIND, victim, item, body)
    return evidence.to_public(db, [item])[0]


@router.delete("/{evidence_id}", response_model=EvidencePublic)
def withdraw_evidence(
    item: OwnedEvidence, body: Withdrawal, victim: CurrentVictim, db: SessionDep
) -> EvidencePublic:
    """Withdraw a file: kept, with the reason, but left off the timeline and packs."""
    records.withdraw(db, evidence.KIND, victim, item, body.reason)
    return evidence.to_public(db, [item])[0]


@router.get("/{evidence_id}/revisions", response_model=list[RevisionPublic])
def evidence_revisions(item: OwnedEvidence, db: SessionDep) -> list[RevisionPublic]:
    """Every version of this file's description and links, oldest first."""
    return records.revisions(db, evidence.KIND, item)


@router.get(
    "/{evidence_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "A range."},
    },
)
def download_evidence(
    item: OwnedEvidence, request: Request, db: SessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    """The original file, byte for byte (Range requests welcome)."""
    data_key = data_keys.data_key_for(db, item.owner_id, runtime.keys)
    plaintext = evidence.reader(runtime.blob_store, item, data_key)
    return file_response(db, item, request, plaintext)


def file_response(
    db: Session, item: Evidence, request: Request, plaintext: BlobReader
) -> StreamingResponse:
    """The original bytes as an attachment, honouring a single Range; shared with /cases."""
    try:
        start, end = parse_range(request.headers.get("range"), item.size)
    except RangeNotSatisfiable:
        return StreamingResponse(
            iter(()), status_code=416, headers={"Content-Range": f"bytes */{item.size}"}
        )
    partial = (start, end) != (0, item.size)
    headers = {
        "Content-Length": str(end - start),
        "Content-Disposition": content_disposition(evidence.file_name(db, item)),
        "Accept-Ranges": "bytes",
        "ETag": f'"{evidence.file_sha256(db, item)}"',
    }
    if partial:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{item.size}"

    # The first piece is read (and decrypted) before any header goes out: a store that does
    # not answer is a 503 problem then (app/api/faults.py), never a 200 with a cut body.
    pieces = plaintext.range(start, end)
    first = next(pieces, b"")
    return StreamingResponse(
        itertools.chain([first], pieces),
        status_code=206 if partial else 200,
        media_type=item.media_type,
        headers=headers,
    )


@router.get("/{evidence_id}/thumbnail", response_class=Response)
def evidence_thumbnail(item: OwnedEvidence, db: SessionDep, runtime: RuntimeDep) -> Response:
    """A small JPEG preview of a photo (404 when there is none)."""
    if item.thumbnail_size is None:
        raise NotFound("This file has no preview.")
    data_key = data_keys.data_key_for(db, item.owner_id, runtime.keys)
    preview = BlobReader(
        runtime.blob_store, evidence.thumbnail_key(item.blob_id), data_key, item.thumbnail_size
    )
    return Response(b"".join(preview.range(0, item.thumbnail_size)), media_type="image/jpeg")
