"""Resumable uploads: the tus 1.0 protocol's server side (core, creation, termination,
expiration and checksum), over any blob store.

A PATCH never holds a database transaction while bytes arrive: the upload is read in one short
transaction, the body streams into staging, and the new offset is recorded in another short
transaction only after the bytes it counts are durable (every CHECKPOINT_BYTES, and at the
end). A crash at any point leaves an offset no further than the stored bytes, so the client
resumes from it. When the last byte is in, the file becomes evidence with the upload's id.
"""

import base64
import binascii
import hashlib
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine
from sqlmodel import Session, col, select, update
from starlette.requests import ClientDisconnect

from app.db import transaction
from app.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from app.keys import Keys
from app.models.evidence import Evidence, EvidenceFields
from app.models.types import utcnow
from app.models.upload import Upload
from app.models.user import User
from app.services import data_keys, evidence, incidents
from app.services.media_types import SNIFF_BYTES, sniff
from app.storage import BlobStore
from app.storage.crypto import MAGIC, SALT_SIZE, SEGMENT_SIZE, SegmentWriter, segment_count
from app.storage.reader import BlobReader
from app.storage.staging import Staging

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
LIFETIME = timedelta(hours=24)
# How often a long PATCH records its progress (so a dropped connection loses little).
CHECKPOINT_BYTES = 16 * 1024 * 1024


class UploadLocked(DomainError):
    status = 423
    slug = "upload-locked"
    title = "This upload is already receiving data"


class PatchChecksumMismatch(DomainError):
    status = 460
    slug = "checksum-mismatch"
    title = "Checksum Mismatch"


# The running SHA-256 of uploads this process is receiving, so finishing need not read the
# file back. Keyed by upload id; valid only at the offset stored with it.
_running_hashes: dict[uuid.UUID, tuple[int, Any]] = {}
_busy: set[uuid.UUID] = set()
_lock = threading.Lock()


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: "key base64value,key2 base64value2" (a value may be absent)."""
    result: dict[str, str] = {}
    if not header:
        return result
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts[0] or len(parts) > 2:
            raise InvalidInput("Upload-Metadata is not in the tus format.", field="Upload-Metadata")
        try:
            value = (
                base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
            )
        except (binascii.Error, UnicodeDecodeError) as error:
            raise InvalidInput(
                "Upload-Metadata values must be base64 UTF-8.", field="Upload-Metadata"
            ) from error
        result[parts[0]] = value
    return result


def _tail_cipher(data_key: bytes, header: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=header[len(MAGIC) :], info=b"waymark tail v1"
    ).derive(data_key)
    return AESGCM(key)


def _seal_tail(data_key: bytes, header: bytes, offset: int, plaintext: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + _tail_cipher(data_key, header).encrypt(
        nonce, plaintext, offset.to_bytes(8, "big")
    )


def _open_tail(data_key: bytes, header: bytes, offset: int, sealed: bytes) -> bytes:
    return _tail_cipher(data_key, header).decrypt(
        sealed[:12], sealed[12:], offset.to_bytes(8, "big")
    )


def get_owned(db: Session, owner_id: uuid.UUID, upload_id: uuid.UUID) -> Upload:
    upload = db.exec(
        select(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
    ).first()
    if upload is None or upload.expires_at <= utcnow():
        raise NotFound("No such upload (it may have expired).")
    return upload


def create(
    db: Session,
    owner: User,
    *,
    length: int,
    metadata: dict[str, str],
    limits: evidence.Limits,
    keys: Keys,
    staging: Staging,
) -> Upload:
    if length < 1:
        raise InvalidInput("An empty file cannot be evidence.", field="Upload-Length")
    evidence.check_room(db, owner.id, limits, length)
    evidence.valid_sha256(metadata.get("sha256"))
    fields = _fields(metadata)
    incidents.require_owned(db, owner.id, fields.incident_ids)
    data_keys.data_key_for(db, owner.id, keys)
    upload_id = uuid.uuid4()
    header = MAGIC + secrets.token_bytes(SALT_SIZE)
    state = staging.start(upload_id.hex, header)
    upload = Upload(
        id=upload_id,
        owner_id=owner.id,
        length=length,
        upload_metadata=metadata,
        blob_header=header,
        staging_state=state,
        expires_at=utcnow() + LIFETIME,
    )
    db.add(upload)
    db.flush()
    return upload


def _fields(metadata: dict[str, str]) -> EvidenceFields:
    raw_ids = [part.strip() for part in metadata.get("incident_ids", "").split(",") if part.strip()]
    try:
        ids = [uuid.UUID(part) for part in raw_ids]
        return EvidenceFields(description=metadata.get("description", ""), incident_ids=ids)
    except ValueError as error:
        raise InvalidInput(
            "The description or incident_ids in Upload-Metadata are not valid.",
            field="Upload-Metadata",
        ) from error


@dataclass(frozen=True)
class Progress:
    offset: int
    expires_at: datetime
    evidence: Evidence | None = None


def receive(
    engine: Engine,
    owner: User,
    upload_id: uuid.UUID,
    offset: int,
    body: Iterable[bytes],
    *,
    checksum: str | None,
    staging: Staging,
    store: BlobStore,
    keys: Keys,
) -> Progress:
    """Handle one PATCH."""
    with _lock:
        if upload_id in _busy:
            raise UploadLocked("Wait for the other request to finish, then ask for the offset.")
        _busy.add(upload_id)
    try:
        return _receive(engine, owner, upload_id, offset, body, checksum, staging, store, keys)
    finally:
        with _lock:
            _busy.discard(upload_id)


def _checksum(header: str | None) -> tuple[Any, bytes] | None:
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidInput("Upload-Checksum must use sha1 or sha256.", field="Upload-Checksum")
    try:
        return CHECKSUM_ALGORITHMS[algorithm](), base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise InvalidInput("Upload-Checksum must be base64.", field="Upload-Checksum") from error


def _receive(
    engine: Engine,
    owner: User,
    upload_id: uuid.UUID,
    offset: int,
    body: Iterable[bytes],
    checksum_header: str | None,
    staging: Staging,
    store: BlobStore,
    keys: Keys,
) -> Progress:
    with transaction(engine, writes=False) as db:
        upload = get_owned(db, owner.id, upload_id)
        data_key = data_keys.data_key_for(db, owner.id, keys)
    if offset != upload.offset:
        raise Conflict(f"The upload is at offset {upload.offset}, not {offset}.")
    checksum = _checksum(checksum_header)
    writer = SegmentWriter(data_key, upload.length, upload.blob_header)
    header, length, key = upload.blob_header, upload.length, upload.id.hex
    appended = (offset // staging.append_size) * staging.append_size
    carry = bytearray()
    if offset > appended:
        sealed = staging.get_tail(key, offset)
        if sealed is None:
            raise Conflict("This upload's stored data is missing; start it again.")
        carry += _open_tail(data_key, header, offset, sealed)
    with _lock:
        known = _running_hashes.get(upload_id)
    running = (
        known[1].copy()
        if known and known[0] == offset
        else (hashlib.sha256() if offset == 0 else None)
    )
    state = dict(upload.staging_state)
    # The type is checked as soon as the first SNIFF_BYTES are in, however many PATCHes bring
    # them: the bytes before this offset are all in the carry (an append is far larger).
    head_needed = upload.media_type is None and offset < SNIFF_BYTES
    head = bytearray(carry) if head_needed else bytearray()
    position = offset
    recorded = offset

    def flush_appends(final: bool) -> None:
        nonlocal appended, state
        while len(carry) >= staging.append_size or (final and carry):
            size = min(staging.append_size, len(carry))
            first = appended // SEGMENT_SIZE
            sealed = b"".join(
                writer.seal(first + i, bytes(carry[i * SEGMENT_SIZE : (i + 1) * SEGMENT_SIZE]))
                for i in range(segment_count(size) if size else 0)
            )
            state = staging.append(key, state, first, sealed)
            del carry[:size]
            appended += size

    def checkpoint() -> None:
        nonlocal recorded
        staging.sync(key)
        if carry:
            staging.put_tail(key, position, _seal_tail(data_key, header, position, bytes(carry)))
        with transaction(engine, writes=True) as db:
            moved = db.exec(
                update(Upload)
                .where(col(Upload.id) == upload_id, col(Upload.offset) == recorded)
                .values(offset=position, staging_state=state)
            )
            if moved.rowcount != 1:
                raise Conflict("Another request moved this upload on; ask for the offset again.")
        recorded = position
        if running is not None:
            with _lock:
                _running_hashes[upload_id] = (position, running.copy())

    def take(chunk: bytes) -> None:
        nonlocal position
        if position + len(chunk) > length:
            raise PayloadTooLarge("More bytes were sent than the upload's length.")
        if head_needed and len(head) < SNIFF_BYTES:
            head.extend(chunk[: SNIFF_BYTES - len(head)])
            if len(head) >= min(SNIFF_BYTES, length) and sniff(bytes(head)) is None:
                terminate_quietly(engine, owner, upload_id, staging)
                raise UnsupportedMediaType(
                    "Waymark keeps photos, video, audio, PDFs, text, CSV call logs and emails."
                )
        if checksum is not None:
            checksum[0].update(chunk)
        if running is not None:
            running.update(chunk)
        carry.extend(chunk)
        position += len(chunk)
        flush_appends(final=position == length)
        if checksum is None and position - recorded >= CHECKPOINT_BYTES and position < length:
            checkpoint()

    try:
        for chunk in body:
            take(chunk)
    except ClientDisconnect:
        # Keep what did arrive: the client will ask for the offset and send the rest.
        if checksum is None and recorded < position < length:
            checkpoint()
        raise
    if checksum is not None and checksum[0].digest() != checksum[1]:
        raise PatchChecksumMismatch("This piece did not arrive intact; send it again.")
    if position < length:
        if position > recorded:
            checkpoint()
        return Progress(position, upload.expires_at)
    flush_appends(final=True)
    return _complete(engine, owner, upload, state, running, staging, store, keys, data_key)


def _complete(
    engine: Engine,
    owner: User,
    upload: Upload,
    state: dict[str, Any],
    running: Any,
    staging: Staging,
    store: BlobStore,
    keys: Keys,
    data_key: bytes,
) -> Progress:
    key = upload.id.hex
    staging.finish(key, state, evidence.blob_key(upload.id))
    try:
        plaintext = BlobReader(store, evidence.blob_key(upload.id), data_key, upload.length)
        if running is None:  # another process took earlier PATCHes: read the file back
            running = hashlib.sha256()
            for piece in plaintext.range(0, upload.length):
                running.update(piece)
        media_type = sniff(b"".join(plaintext.range(0, min(SNIFF_BYTES, upload.length))))
        if media_type is None:
            raise UnsupportedMediaType(
                "Waymark keeps photos, video, audio, PDFs, text, CSV call logs and emails."
            )
        arrived = evidence.Arrived(
            evidence_id=upload.id,
            blob_id=upload.id,
            original_filename=evidence.clean_filename(upload.upload_metadata.get("filename")),
            media_type=media_type,
            size=upload.length,
            sha256=running.hexdigest(),
            client_sha256=evidence.valid_sha256(upload.upload_metadata.get("sha256")),
        )
        with transaction(engine, writes=True) as db:
            db.exec(update(Upload).where(col(Upload.id) == upload.id).values(offset=upload.length))
            kept, _ = evidence.keep(
                db, owner, arrived, _fields(upload.upload_metadata), store=store, keys=keys
            )
            db.delete(db.merge(upload))
    except BaseException:
        evidence.discard_blobs(store, upload.id)
        with transaction(engine, writes=True) as db:
            row = db.get(Upload, upload.id)
            if row is not None:
                db.delete(row)
        raise
    finally:
        with _lock:
            _running_hashes.pop(upload.id, None)
    return Progress(upload.length, upload.expires_at, kept)


def terminate(db: Session, upload: Upload, staging: Staging) -> None:
    staging.discard(upload.id.hex, upload.staging_state)
    db.delete(upload)
    db.flush()
    with _lock:
        _running_hashes.pop(upload.id, None)


def terminate_quietly(engine: Engine, owner: User, upload_id: uuid.UUID, staging: Staging) -> None:
    with transaction(engine, writes=True) as db:
        row = db.exec(
            select(Upload).where(Upload.id == upload_id, Upload.owner_id == owner.id)
        ).first()
        if row is not None:
            terminate(db, row, staging)


def expire(db: Session, staging: Staging) -> int:
    """Remove uploads abandoned past their expiry, staging data and all."""
    stale = db.exec(select(Upload).where(col(Upload.expires_at) <= utcnow())).all()
    for upload in stale:
        terminate(db, upload, staging)
    return len(stale)
