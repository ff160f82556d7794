"""Resumable uploads: the tus 1.0 protocol's server side (core, creation, termination,
expiration and checksum), over any blob store.

A PATCH never holds a database transaction while bytes arrive: the upload is read in one short
transaction, the body streams into staging, and the new offset is recorded in another short
transaction only after the bytes it counts are durable (every CHECKPOINT_BYTES, and at the
end). A crash at any point leaves an offset no further than the stored bytes, so the client
resumes from it. When the last byte is in, the file becomes evidence with the upload's id.

Finishing is crash-safe too: once every byte is durable the offset is recorded as the length,
and only then is the staged file made a blob and the evidence written. An upload a crash left
at that point is finished by the next HEAD or PATCH for it; a finished upload answers HEAD (and
a repeated last PATCH) with its length and where its evidence is, so a client whose answer was
lost never sends the file again.
"""

import base64
import binascii
import hashlib
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select, update

from app.db import transaction
from app.errors import (
    ClientGone,
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
from app.services import data_keys, evidence, incidents, sealing
from app.services.media_types import SNIFF_BYTES, sniff
from app.storage import BlobStore
from app.storage.crypto import (
    SEGMENT_SIZE,
    TAG_SIZE,
    SegmentWriter,
    ciphertext_size,
    new_blob_header,
    open_tail,
    seal_tail,
    segment_count,
)
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


def finished(db: Session, owner_id: uuid.UUID, upload_id: uuid.UUID) -> Evidence | None:
    """The evidence an upload became (it has the upload's id), if it is finished."""
    return db.exec(
        select(Evidence).where(Evidence.id == upload_id, Evidence.owner_id == owner_id)
    ).first()


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
    data_key = data_keys.data_key_for(db, owner.id, keys)
    upload_id = uuid.uuid4()
    header = new_blob_header()
    state = staging.start(upload_id.hex, header, ciphertext_size(length))
    upload = Upload(
        id=upload_id,
        owner_id=owner.id,
        length=length,
        # What the client said about the file (its name, its description) is sealed.
        upload_metadata=sealing.Sealer(None, owner.id, data_key).seal_json(
            metadata, table=Upload.__tablename__, row_id=upload_id, field="upload_metadata"
        ),
        blob_header=header,
        staging_state=state,
        expires_at=utcnow() + LIFETIME,
    )
    db.add(upload)
    db.flush()
    return upload


def metadata_of(upload: Upload, data_key: bytes) -> dict[str, str]:
    """The Upload-Metadata the client sent, opened."""
    metadata: dict[str, str] = sealing.Sealer(None, upload.owner_id, data_key).open_json(
        upload.upload_metadata,
        table=Upload.__tablename__,
        row_id=upload.id,
        field="upload_metadata",
    )
    return metadata


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
    length: int
    # None once the upload is finished (it is evidence then, and never expires).
    expires_at: datetime | None
    evidence: Evidence | None = None


def _done(evidence_row: Evidence) -> Progress:
    return Progress(evidence_row.size, evidence_row.size, None, evidence_row)


def status(
    engine: Engine,
    owner: User,
    upload_id: uuid.UUID,
    *,
    staging: Staging,
    store: BlobStore,
    keys: Keys,
) -> Progress:
    """Handle HEAD: the offset held; for a finished upload, its length and evidence. An upload
    whose bytes are all in but that a crash stopped short of evidence is finished here."""
    with transaction(engine, writes=False) as db:
        upload = db.exec(
            select(Upload).where(Upload.id == upload_id, Upload.owner_id == owner.id)
        ).first()
        if upload is None:
            kept = finished(db, owner.id, upload_id)
            if kept is None:
                raise NotFound("No such upload (it may have expired).")
            return _done(kept)
        if upload.expires_at <= utcnow():
            raise NotFound("No such upload (it may have expired).")
        if upload.offset < upload.length:
            return Progress(upload.offset, upload.length, upload.expires_at)
        data_key = data_keys.data_key_for(db, owner.id, keys)
    with _receiving(upload_id):
        return _finish(engine, owner, upload, None, staging, store, data_key)


def receive(
    engine: Engine,
    owner: User,
    upload_id: uuid.UUID,
    offset: int,
    body: Iterable[bytes],
    *,
    body_length: int | None,
    checksum: str | None,
    staging: Staging,
    store: BlobStore,
    keys: Keys,
) -> Progress:
    """Handle one PATCH (`body_length` is its Content-Length, when it has one)."""
    with _receiving(upload_id):
        return _receive(
            engine, owner, upload_id, offset, body, body_length, checksum, staging, store, keys
        )


@contextmanager
def _receiving(upload_id: uuid.UUID) -> Iterator[None]:
    """One request at a time works on an upload in this process (others get 423)."""
    with _lock:
        if upload_id in _busy:
            raise UploadLocked("Wait for the other request to finish, then ask for the offset.")
        _busy.add(upload_id)
    try:
        yield
    finally:
        with _lock:
            _busy.discard(upload_id)


def _ends_at(offset: int, body_length: int | None, length: int) -> bool:
    """Whether a PATCH from `offset` is the upload's last one (or sends nothing past its end)."""
    return offset == length or (body_length is not None and offset + body_length == length)


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
    body_length: int | None,
    checksum_header: str | None,
    staging: Staging,
    store: BlobStore,
    keys: Keys,
) -> Progress:
    with transaction(engine, writes=False) as db:
        kept = finished(db, owner.id, upload_id)
        if kept is not None:
            # The last PATCH again, its answer lost: the file is evidence already.
            if not _ends_at(offset, body_length, kept.size):
                raise Conflict(f"The upload is finished at offset {kept.size}, not {offset}.")
            return _done(kept)
        upload = get_owned(db, owner.id, upload_id)
        data_key = data_keys.data_key_for(db, owner.id, keys)
    if upload.offset == upload.length and _ends_at(offset, body_length, upload.length):
        # Every byte is in, but a crash stopped it short of evidence: finish it now.
        return _finish(engine, owner, upload, None, staging, store, data_key)
    if offset != upload.offset:
        raise Conflict(f"The upload is at offset {upload.offset}, not {offset}.")
    receiver = _Receiver(engine, owner, upload, data_key, _checksum(checksum_header), staging)
    try:
        for batch in body:
            receiver.take(batch)
    except ClientGone:
        # Keep what did arrive: the client will ask for the offset and send the rest.
        receiver.keep_what_arrived()
        raise
    receiver.check_checksum()
    receiver.record_progress()
    if receiver.position < upload.length:
        return Progress(receiver.position, upload.length, upload.expires_at)
    # record_progress has recorded the offset as the length: every byte is durable now.
    upload.offset, upload.staging_state = upload.length, receiver.state
    return _finish(engine, owner, upload, receiver.running, staging, store, data_key)


def _running_hash(upload_id: uuid.UUID, offset: int) -> Any:
    """The upload's SHA-256 up to `offset`, if this process has it (or nothing is in yet)."""
    with _lock:
        known = _running_hashes.get(upload_id)
    if known is not None and known[0] == offset:
        return known[1].copy()
    return hashlib.sha256() if offset == 0 else None


class _Receiver:
    """One PATCH's bytes on their way to staging: sniffed, hashed, sealed in whole appends, and
    recorded at checkpoints.

    Each batch is cut into pieces that end where appends end, so whole appends are sealed and
    written straight from the request's buffer, several in one go, and a checkpoint taken
    between pieces has no partial append (tail) to store. Bytes short of an append wait in
    the carry.
    """

    def __init__(
        self,
        engine: Engine,
        owner: User,
        upload: Upload,
        data_key: bytes,
        checksum: tuple[Any, bytes] | None,
        staging: Staging,
    ) -> None:
        self.engine = engine
        self.owner = owner
        self.upload = upload
        self.data_key = data_key
        self.checksum = checksum
        self.staging = staging
        self.key = upload.id.hex
        self.state = dict(upload.staging_state)
        self.position = self.recorded = upload.offset
        self.appended = upload.offset - upload.offset % staging.append_size
        self.carry = bytearray(self._stored_tail())
        self.running = _running_hash(upload.id, upload.offset)
        self.digests = [
            digest for digest in (self.running, checksum and checksum[0]) if digest is not None
        ]
        # The type is checked as soon as the first SNIFF_BYTES are in, however many PATCHes
        # bring them: the bytes before this offset are all in the carry (an append is larger).
        self.head = (
            bytearray(self.carry)
            if upload.media_type is None and upload.offset < SNIFF_BYTES
            else None
        )
        self.writer = SegmentWriter(data_key, upload.length, upload.blob_header)
        self.sealed = bytearray()

    def _stored_tail(self) -> bytes:
        if self.position == self.appended:
            return b""
        sealed = self.staging.get_tail(self.key, self.position)
        if sealed is None:
            raise Conflict("This upload's stored data is missing; start it again.")
        return open_tail(self.data_key, self.upload.blob_header, self.position, sealed)

    def take(self, batch: bytes) -> None:
        if self.position + len(batch) > self.upload.length:
            raise PayloadTooLarge("More bytes were sent than the upload's length.")
        self._sniff(batch)
        rest = memoryview(batch)
        while rest:
            size = self._piece_size(len(rest))
            piece, rest = rest[:size], rest[size:]
            for digest in self.digests:
                digest.update(piece)
            self.position += len(piece)
            self._store(piece)
            if self._checkpoint_due():
                self._checkpoint()

    def _piece_size(self, available: int) -> int:
        """How much of the next `available` bytes to store in one go: up to the end of the
        append the carry holds, else every whole append (and the file's end, if it is there)."""
        append_size = self.staging.append_size
        if self.carry:  # then the position is inside an append
            return min(available, append_size - self.position % append_size)
        if self.position + available == self.upload.length:
            return available
        return available - available % append_size or available

    def _sniff(self, batch: bytes) -> None:
        if self.head is None or len(self.head) >= SNIFF_BYTES:
            return
        self.head += batch[: SNIFF_BYTES - len(self.head)]
        if (
            len(self.head) >= min(SNIFF_BYTES, self.upload.length)
            and sniff(bytes(self.head)) is None
        ):
            terminate_quietly(self.engine, self.owner, self.upload.id, self.staging)
            raise UnsupportedMediaType(
                "This app keeps photos, video, audio, PDFs, text, CSV call logs and emails."
            )

    def _store(self, piece: memoryview) -> None:
        """Seal and append the piece once it ends an append (or the file); until then it waits
        in the carry."""
        completes = (
            self.position % self.staging.append_size == 0 or self.position == self.upload.length
        )
        if not completes:
            self.carry += piece
        elif not self.carry:
            self._append(piece)
        else:
            self.carry += piece
            with memoryview(self.carry) as whole:
                self._append(whole)
            self.carry.clear()

    def _append(self, plaintext: memoryview) -> None:
        first = self.appended // SEGMENT_SIZE
        needed = len(plaintext) + segment_count(len(plaintext)) * TAG_SIZE
        if len(self.sealed) < needed:
            # Reused for every append of the PATCH: memory stays flat however large the file.
            self.sealed = bytearray(needed)
        size = self.writer.seal_into(first, plaintext, self.sealed)
        with memoryview(self.sealed) as sealed:
            self.state = self.staging.append(self.key, self.state, first, sealed[:size])
        self.appended += len(plaintext)

    def _checkpoint_due(self) -> bool:
        # Never with a checksum: a PATCH that fails it must leave the offset where it was.
        return (
            self.checksum is None
            and not self.carry
            and self.position < self.upload.length
            and self.position - self.recorded >= CHECKPOINT_BYTES
        )

    def _checkpoint(self) -> None:
        """Make the bytes so far durable, then record the offset (never the other way round)."""
        self.staging.sync(self.key)
        if self.carry:
            tail = seal_tail(
                self.data_key, self.upload.blob_header, self.position, bytes(self.carry)
            )
            self.staging.put_tail(self.key, self.position, tail)
        with transaction(self.engine, writes=True) as db:
            moved = db.exec(
                update(Upload)
                .where(col(Upload.id) == self.upload.id, col(Upload.offset) == self.recorded)
                .values(offset=self.position, staging_state=self.state)
            )
            if moved.rowcount != 1:
                raise Conflict("Another request moved this upload on; ask for the offset again.")
        previous, self.recorded = self.recorded, self.position
        if previous % self.staging.append_size:
            # Only now is the old offset's tail no longer needed.
            self.staging.drop_tail(self.key, previous)
        if self.running is not None:
            with _lock:
                _running_hashes[self.upload.id] = (self.position, self.running.copy())

    def record_progress(self) -> None:
        if self.position > self.recorded:
            self._checkpoint()

    def keep_what_arrived(self) -> None:
        """After a disconnect: record the bytes that did arrive, unless a checksum was to vouch
        for them (it never will now)."""
        if self.checksum is None and self.position < self.upload.length:
            self.record_progress()

    def check_checksum(self) -> None:
        if self.checksum is not None and self.checksum[0].digest() != self.checksum[1]:
            raise PatchChecksumMismatch("This piece did not arrive intact; send it again.")


def _finish(
    engine: Engine,
    owner: User,
    upload: Upload,
    running: Any,
    staging: Staging,
    store: BlobStore,
    data_key: bytes,
) -> Progress:
    """Make an upload whose every byte is durably staged (its offset recorded as its length)
    into evidence. Safe to repeat after a crash at any point, in any process: the upload's row
    is removed in the transaction that writes the evidence, and only one such can commit."""
    blob_key = evidence.blob_key(upload.id)
    try:
        staging.finish(upload.id.hex, upload.staging_state, blob_key)
        plaintext = BlobReader(store, blob_key, data_key, upload.length)
        if running is None:  # another process (or a crash) took earlier PATCHes: read it back
            running = hashlib.sha256()
            for piece in plaintext.range(0, upload.length):
                running.update(piece)
        media_type = sniff(b"".join(plaintext.range(0, min(SNIFF_BYTES, upload.length))))
        if media_type is None:
            raise UnsupportedMediaType(
                "This app keeps photos, video, audio, PDFs, text, CSV call logs and emails."
            )
        metadata = metadata_of(upload, data_key)
        arrived = evidence.Arrived(
            evidence_id=upload.id,
            blob_id=upload.id,
            original_filename=evidence.clean_filename(metadata.get("filename")),
            media_type=media_type,
            size=upload.length,
            sha256=running.hexdigest(),
            client_sha256=evidence.valid_sha256(metadata.get("sha256")),
        )
        # Examined before the write transaction: decoding a photo must not hold the write lock.
        examined = evidence.examine(store, arrived, data_key)
        with transaction(engine, writes=True) as db:
            taken = db.exec(delete(Upload).where(col(Upload.id) == upload.id))
            if taken.rowcount != 1:  # another request finished it first
                kept = finished(db, owner.id, upload.id)
                if kept is None:
                    raise NotFound("No such upload (it may have expired).")
            else:
                fields = _fields(metadata)
                kept, _ = evidence.keep(db, owner, arrived, fields, examined)
    except DomainError as error:
        # The file itself was refused (its type, its checksum): nothing of it is kept. A
        # failing dependency (a 5xx, or any other exception) leaves the upload as it is, for
        # the next request to finish.
        if error.status < 500:
            evidence.discard_blobs(store, upload.id)
            with transaction(engine, writes=True) as db:
                row = db.get(Upload, upload.id)
                if row is not None:
                    terminate(db, row, staging)
        raise
    finally:
        with _lock:
            _running_hashes.pop(upload.id, None)
    return _done(kept)


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
