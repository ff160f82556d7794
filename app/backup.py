"""`waymark backup` and `waymark restore`: a consistent copy of everything but the keys.

A backup folder (mode 0700, every file 0600) holds the database, encrypted (SQLite: an online
copy through SQLite's backup API; PostgreSQL: a pg_dump custom-format archive), every blob the
database refers to (ciphertext, exactly as stored), and a manifest with every file's size and
SHA-256. The database part is sealed in the blob format (segmented AES-256-GCM,
app/storage/crypto.py) under a key derived from the master key, and the master key is
deliberately NOT included: keep it apart from backups (docs/keys.md), so that a stolen backup
is unreadable.

A restore applies the erase list (app/services/erase_list.py) before anything else can read
the database: every account erased since, maybe after this backup was taken, is deleted again,
data key and all (docs/adr/0007-erase-list-applied-at-restore.md).
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from app import __version__
from app.db import make_engine, normalise_database_url, transaction, truncate_wal
from app.keys import Keys
from app.models.data_key import DataKey
from app.models.evidence import Evidence
from app.models.user import User
from app.services import erase_list, search
from app.services.data_keys import master_key_id
from app.services.evidence import blob_key, thumbnail_key
from app.storage import BlobNotFound, BlobStore, write_blob
from app.storage.crypto import DecryptionError, decrypt_range, derive_key, encrypt_all

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"
# What the sealed database part is: the blob format of app/storage/crypto.py, whole.
SEALING = "WMB1 segmented AES-256-GCM, key HKDF-SHA256(master key, 'backup')"


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


def _backup_key(master_key: bytes) -> bytes:
    return derive_key(master_key, "backup")


def _private_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)  # also an empty folder the operator made beforehand


def _private_file(path: Path) -> IO[bytes]:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: handle.read(CHUNK), b"")


def _write_sealed(path: Path, key: bytes, chunks: Iterable[bytes]) -> int:
    """Encrypt the chunks into a new 0600 file; returns the plaintext's size."""
    size = 0

    def counted() -> Iterator[bytes]:
        nonlocal size
        for chunk in chunks:
            size += len(chunk)
            yield chunk

    with _private_file(path) as out:
        for piece in encrypt_all(key, counted()):
            out.write(piece)
        out.flush()
        os.fsync(out.fileno())
    return size


def _sealed_chunks(path: Path, key: bytes, size: int) -> Iterator[bytes]:
    """The plaintext of a file _write_sealed made, a segment at a time."""
    with path.open("rb") as handle:
        fd = handle.fileno()
        yield from decrypt_range(key, lambda offset, length: os.pread(fd, length, offset), size)


def _snapshot_sqlite(url: str, destination: Path, key: bytes) -> tuple[Path, int, list[str]]:
    """SQLite's online backup into a temporary file beside the live database (the same disk
    already holds the same data), then sealed into the backup folder: the plain copy never
    reaches the backup's disk. Returns the sealed file, its plaintext size and the blob keys
    the snapshot refers to."""
    live = Path(make_url(url).database or "")
    fd, name = tempfile.mkstemp(prefix=".backup-", suffix=".sqlite", dir=live.parent)
    os.close(fd)
    plain = Path(name)
    try:
        source = sqlite3.connect(live)
        target = sqlite3.connect(plain)
        with target:
            source.backup(target)  # a consistent snapshot while the service runs
        source.close()
        target.close()
        # A plain engine: make_engine would turn the snapshot into a WAL database.
        engine = create_engine(f"sqlite:///{plain}")
        keys = _blob_keys(engine)
        engine.dispose()
        sealed = destination / "database.sqlite.enc"
        with plain.open("rb") as handle:
            size = _write_sealed(sealed, key, _file_chunks(handle))
    finally:
        plain.unlink(missing_ok=True)
    return sealed, size, keys


def _dump_postgres(url: str, destination: Path, key: bytes) -> tuple[Path, int]:
    """pg_dump straight into the sealing: the plain archive is never written anywhere."""
    sealed = destination / "database.pgdump.enc"
    args, env = _pg_args(url)
    process = _start(["pg_dump", "--format=custom", "--no-owner", *args], env, stdout=True)
    assert process.stdout is not None
    try:
        size = _write_sealed(sealed, key, _file_chunks(process.stdout))
    finally:
        process.stdout.close()
        code = process.wait()
    if code != 0:
        raise BackupError(f"pg_dump failed with exit code {code}")
    return sealed, size


def _blob_keys(engine: Engine) -> list[str]:
    with Session(engine) as db:
        rows = db.exec(select(Evidence.blob_id, Evidence.thumbnail_size)).all()
    return [
        key
        for blob_id, thumbnail_size in rows
        for key in [blob_key(blob_id)] + ([thumbnail_key(blob_id)] if thumbnail_size else [])
    ]


def backup(database_url: str, store: BlobStore, destination: Path, keys: Keys) -> dict[str, Any]:
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty")
    _private_folder(destination)
    _private_folder(destination / "blobs")
    url = normalise_database_url(database_url)
    backend = make_url(url).get_backend_name()
    key = _backup_key(keys.master_key)
    if backend == "sqlite":
        database_file, plaintext_size, blob_keys = _snapshot_sqlite(url, destination, key)
    else:
        database_file, plaintext_size = _dump_postgres(url, destination, key)
        engine = make_engine(url)
        blob_keys = _blob_keys(engine)
        engine.dispose()

    # The blobs the snapshot refers to. Blobs never change once written, so copying them
    # after the snapshot is consistent; one erased meanwhile is simply gone.
    files: list[dict[str, Any]] = []
    for blob in blob_keys:
        path = destination / "blobs" / blob
        try:
            with _private_file(path) as handle:
                for chunk in _blob_chunks(store, blob):
                    handle.write(chunk)
        except BlobNotFound:
            path.unlink(missing_ok=True)
            continue
        files.append(
            {"path": f"blobs/{blob}", "size": path.stat().st_size, "sha256": _sha256_file(path)}
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
        "database_part": {
            "path": database_file.name,
            "sealing": SEALING,
            "plaintext_size": plaintext_size,
            # Which master key it needs (a fingerprint, as data_keys records), for a restore
            # after the key was rotated.
            "master_key_id": master_key_id(keys.master_key),
        },
        "files": files,
        "note": "The master key is not in this backup. Keep it apart; without it the files "
        "cannot be read.",
    }
    with _private_file(destination / MANIFEST) as handle:
        handle.write((json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _restored_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _start(command: list[str], env: dict[str, str], *, stdout: bool) -> subprocess.Popen[bytes]:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)")
    # Their messages are not shown: a restore error can quote a row's values.
    return subprocess.Popen(  # noqa: S603
        command,
        env={**os.environ, **env},
        stdin=None if stdout else subprocess.PIPE,
        stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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


def _database_chunks(source: Path, manifest: dict[str, Any], keys: Keys) -> Iterator[bytes]:
    """The database part's plain bytes. Backups made before the database part was sealed
    (no "database_part" in the manifest) are read as they are."""
    part = manifest.get("database_part")
    if part is None:
        name = "database.sqlite" if manifest["database"] == "sqlite" else "database.pgdump"
        with (source / name).open("rb") as handle:
            yield from _file_chunks(handle)
        return
    wanted = part["master_key_id"]
    master = next(
        (k for k in (keys.master_key, *keys.previous_master_keys) if master_key_id(k) == wanted),
        None,
    )
    if master is None:
        raise BackupError(
            "this backup was made under a master key the server does not have; "
            "set WAYMARK_MASTER_KEY (or WAYMARK_PREVIOUS_MASTER_KEYS) to it (docs/keys.md)"
        )
    try:
        yield from _sealed_chunks(
            source / part["path"], _backup_key(master), part["plaintext_size"]
        )
    except DecryptionError as error:
        raise BackupError("the database part does not decrypt: it was altered") from error


def restore(
    source: Path,
    database_url: str,
    store: BlobStore,
    keys: Keys,
    erase_lists: Iterable[Path] = (),
) -> dict[str, Any]:
    """Restore into an empty database and blob store (refuses to overwrite anything), then
    delete every account on the erase lists. Returns the manifest, with "erased": how many
    accounts of the backup the lists removed."""
    manifest = check(source)
    try:
        erased = erase_list.read(erase_lists)
    except erase_list.EraseListError as error:
        raise BackupError(str(error)) from error
    url = normalise_database_url(database_url)
    backend = make_url(url).get_backend_name()
    if backend != manifest["database"]:
        raise BackupError(f"this backup is of a {manifest['database']} database, not {backend}")
    if backend == "sqlite":
        _restore_sqlite(
            Path(make_url(url).database or ""), _database_chunks(source, manifest, keys)
        )
    else:
        _restore_postgres(url, _database_chunks(source, manifest, keys))

    engine = make_engine(url)
    try:
        manifest["erased"] = _apply_erase_list(engine, erased)
        wanted = set(_blob_keys(engine))
    finally:
        engine.dispose()
    for entry in manifest["files"]:
        key = entry["path"].removeprefix("blobs/")
        # An erased account's files stay behind: unreadable without her data key, and unwanted.
        if entry["path"].startswith("blobs/") and key in wanted:
            with (source / entry["path"]).open("rb") as handle:
                write_blob(store, key, _file_chunks(handle))
    return manifest


def _restore_sqlite(target: Path, chunks: Iterator[bytes]) -> None:
    if target.exists() and target.stat().st_size > 0:
        raise BackupError(f"{target} already exists; restore into an empty data folder")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        target.unlink(missing_ok=True)  # half a database is worse than none
        raise


def _restore_postgres(url: str, chunks: Iterator[bytes]) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        ).scalar_one()
    engine.dispose()
    if tables:
        raise BackupError("the target database is not empty")
    args, env = _pg_args(url)
    # pg_restore reads the archive from its input, in the order pg_dump wrote it.
    process = _start(["pg_restore", "--no-owner", "--exit-on-error", *args], env, stdout=False)
    assert process.stdin is not None
    try:
        for chunk in chunks:
            process.stdin.write(chunk)
        process.stdin.close()
    except BrokenPipeError:
        pass  # pg_restore stopped early; its exit code says why
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        with suppress(BrokenPipeError):
            process.stdin.close()
    code = process.wait()
    if code != 0:
        raise BackupError(f"pg_restore failed with exit code {code}")


def _apply_erase_list(engine: Engine, erased: set[uuid.UUID]) -> int:
    """Delete every erased account the restored database still holds: its data key (which
    makes anything of hers left anywhere unreadable) and its user row, whose foreign keys
    cascade to everything of hers. Then rewrite the database so no page keeps her bytes."""
    if not erased:
        return 0
    ids = sorted(erased)
    with transaction(engine, writes=True) as db:
        present = list(db.exec(select(User.id).where(col(User.id).in_(ids))).all())
        for account_id in present:
            search.remove_owner(db, account_id)
        db.execute(delete(DataKey).where(col(DataKey.victim_id).in_(ids)))
        db.execute(delete(User).where(col(User.id).in_(ids)))
    if not present:
        return 0
    # VACUUM cannot run inside a transaction. On SQLite a raw connection is in autocommit
    # (make_engine issues BEGIN itself, so SQLAlchemy's would still begin one).
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("VACUUM")
        finally:
            raw.close()
        truncate_wal(engine)
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # Rewrites every table into new files, without the deleted rows' dead tuples.
            connection.exec_driver_sql("VACUUM FULL")
    return len(present)
