"""`waymark backup` and `waymark restore`: a consistent copy of everything but the keys.

A backup folder holds the database (SQLite: an online copy through SQLite's backup API;
PostgreSQL: a pg_dump custom-format archive), every blob the database refers to (ciphertext,
exactly as stored), and a manifest with every file's size and SHA-256. The master key is
deliberately NOT included: keep it apart from backups (docs/keys.md), so that a stolen backup
is unreadable.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from app import __version__
from app.db import make_engine, normalise_database_url
from app.models.evidence import Evidence
from app.services.evidence import blob_key, thumbnail_key
from app.storage import BlobNotFound, BlobStore, write_blob

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _blob_chunks(store: BlobStore, key: str) -> Iterator[bytes]:
    size = store.size(key)
    for offset in range(0, size, CHUNK):
        yield store.read_at(key, offset, min(CHUNK, size - offset))


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(normalise_database_url(url))
    args = [
        "--host",
        parsed.host or "127.0.0.1",
        "--port",
        str(parsed.port or 5432),
        "--username",
        parsed.username or "postgres",
    ]
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return [*args, "--dbname", parsed.database or "postgres"], env


def backup(database_url: str, store: BlobStore, destination: Path) -> dict[str, Any]:
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty")
    (destination / "blobs").mkdir(parents=True, exist_ok=True)
    url = normalise_database_url(database_url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database_file = destination / "database.sqlite"
        source = sqlite3.connect(make_url(url).database or "")
        target = sqlite3.connect(database_file)
        with target:
            source.backup(target)  # a consistent snapshot while the service runs
        source.close()
        target.close()
    else:
        database_file = destination / "database.pgdump"
        args, env = _pg_args(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(database_file), *args], env)

    # The blobs the snapshot refers to. Blobs never change once written, so copying them
    # after the snapshot is consistent; one erased meanwhile is simply gone.
    engine = make_engine(_restored_url(database_file) if backend == "sqlite" else url)
    with Session(engine) as db:
        blob_ids = db.exec(select(Evidence.blob_id, Evidence.thumbnail_size)).all()
    engine.dispose()
    files: list[dict[str, Any]] = []
    for blob_id, thumbnail_size in blob_ids:
        for key in [blob_key(blob_id)] + ([thumbnail_key(blob_id)] if thumbnail_size else []):
            path = destination / "blobs" / key
            try:
                with path.open("wb") as handle:
                    for chunk in _blob_chunks(store, key):
                        handle.write(chunk)
            except BlobNotFound:
                path.unlink(missing_ok=True)
                continue
            files.append(
                {"path": f"blobs/{key}", "size": path.stat().st_size, "sha256": _sha256_file(path)}
            )
    files.append(
        {
            "path": database_file.name,
            "size": database_file.stat().st_size,
            "sha256": _sha256_file(database_file),
        }
    )
    manifest = {
        "generator": f"Waymark {__version__}",
        "created_at": datetime.now(UTC).isoformat(),
        "database": backend,
        "files": files,
        "note": "The master key is not in this backup. Keep it apart; without it the files "
        "cannot be read.",
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _restored_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)")
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed with exit code {result.returncode}")


def check(source: Path) -> dict[str, Any]:
    """Read a backup's manifest and check every file against it."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} has no readable {MANIFEST}") from error
    for entry in manifest["files"]:
        path = source / entry["path"]
        if (
            not path.is_file()
            or path.stat().st_size != entry["size"]
            or _sha256_file(path) != entry["sha256"]
        ):
            raise BackupError(f"{entry['path']} is missing or does not match the manifest")
    return manifest


def restore(source: Path, database_url: str, store: BlobStore) -> dict[str, Any]:
    """Restore into an empty database and blob store (refuses to overwrite anything)."""
    manifest = check(source)
    url = normalise_database_url(database_url)
    backend = make_url(url).get_backend_name()
    if backend != manifest["database"]:
        raise BackupError(f"this backup is of a {manifest['database']} database, not {backend}")
    if backend == "sqlite":
        target = Path(make_url(url).database or "")
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} already exists; restore into an empty data folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "database.sqlite", target)
    else:
        engine = make_engine(url)
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
        engine.dispose()
        if tables:
            raise BackupError("the target database is not empty")
        args, env = _pg_args(url)
        _run(
            ["pg_restore", "--no-owner", "--exit-on-error", *args, str(source / "database.pgdump")],
            env,
        )
    for entry in manifest["files"]:
        if entry["path"].startswith("blobs/"):
            key = entry["path"].removeprefix("blobs/")
            with (source / entry["path"]).open("rb") as handle:
                write_blob(store, key, iter(lambda: handle.read(CHUNK), b""))
    return manifest
