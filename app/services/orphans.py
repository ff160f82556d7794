"""The orphan sweep: blobs and staged data that no record points at, left by a crash between
writing a file and recording it (or by an upload a crash stopped and nobody resumed).

Safe while servers run: only what is older than a grace period is considered (a file being
written, or whose record is being written, is minutes old at most), and each candidate's
references are looked up again just before it is removed, in their own short transaction.
A blob is referenced by the evidence that has it as `blob_id` (its thumbnail too) and by an
upload with its id (a finished upload's blob has the upload's id until the evidence is
recorded); staged data by its upload.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from app.db import transaction
from app.models.evidence import Evidence
from app.models.types import utcnow
from app.models.upload import Upload
from app.storage import BlobStore, Stored
from app.storage.staging import staging_for

DEFAULT_GRACE = timedelta(hours=24)
BATCH = 500


@dataclass
class Swept:
    blobs: int = 0
    staged: int = 0
    kept: int = 0  # looked at and still referenced (or too new)


def _referenced(engine: Engine, owners: list[str]) -> set[str]:
    """Which of these ids an evidence (as its blob) or an upload still has."""
    ids = [uuid.UUID(hex=owner) for owner in owners]
    with transaction(engine, writes=False) as db:
        found = set(db.exec(select(Evidence.blob_id).where(col(Evidence.blob_id).in_(ids))).all())
        found |= set(db.exec(select(Upload.id).where(col(Upload.id).in_(ids))).all())
    return {record_id.hex for record_id in found}


def _unreferenced(engine: Engine, items: list[Stored], swept: Swept) -> Iterator[Stored]:
    """The items nothing points at, looked up in batches, and each looked up once more just
    before it is handed on for removal (a record may have been written meanwhile)."""
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        referenced = _referenced(engine, [item.owner for item in batch])
        for item in batch:
            if item.owner in referenced or _referenced(engine, [item.owner]):
                swept.kept += 1
            else:
                yield item


def _old(items: Iterator[Stored], grace: timedelta, swept: Swept) -> Iterator[Stored]:
    cutoff = utcnow() - grace
    for item in items:
        if item.modified <= cutoff:
            yield item
        else:
            swept.kept += 1


def sweep(engine: Engine, store: BlobStore, *, grace: timedelta = DEFAULT_GRACE) -> Swept:
    """Remove unreferenced blobs and staged data older than `grace`."""
    swept = Swept()
    staging = staging_for(store)
    # Listed whole first: removing while a listing pages on could skip entries.
    for item in _unreferenced(engine, list(_old(store.listing(), grace, swept)), swept):
        store.delete(item.name)
        swept.blobs += 1
    for item in _unreferenced(engine, list(_old(staging.leftovers(), grace, swept)), swept):
        staging.remove(item.name)
        swept.staged += 1
    return swept
