"""The `waymark` command: serve, migrate, and create organisations and their staff.

`waymark serve` runs the app in this same process, so modules only some commands need
(Alembic, backup, the pack verifier: about 10 MiB) are imported inside those commands.
"""

import base64
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlmodel import select

from app.config import ConfigurationError, Settings
from app.db import make_engine, transaction
from app.errors import DomainError
from app.keys import Keys, load_keys
from app.models.organisation import Organisation
from app.models.user import Email, Role, User
from app.services import accounts, auth_sessions, data_keys, identities, sealing, uploads
from app.storage.staging import staging_for
from app.storage.stores import open_blob_store

main = typer.Typer(help="Waymark: an incident log for people being stalked.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations (advocacy services).", no_args_is_help=True)
advocate_app = typer.Typer(
    help="Advocates: the caseworkers victims share with.", no_args_is_help=True
)
admin_app = typer.Typer(help="Organisation admins.", no_args_is_help=True)
main.add_typer(org_app, name="org")
main.add_typer(advocate_app, name="advocate")
keys_app = typer.Typer(help="The service's keys.", no_args_is_help=True)
uploads_app = typer.Typer(help="Resumable uploads.", no_args_is_help=True)
main.add_typer(admin_app, name="admin")
main.add_typer(keys_app, name="keys")
main.add_typer(uploads_app, name="uploads")
blobs_app = typer.Typer(help="The blob store.", no_args_is_help=True)
main.add_typer(blobs_app, name="blobs")


def _settings() -> Settings:
    try:
        return Settings()
    except ConfigurationError as error:
        typer.echo(f"waymark: {error}", err=True)
        raise typer.Exit(2) from error


@main.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (WAYMARK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (WAYMARK_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the app."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    uvicorn.run(
        "app.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # The app reads X-Forwarded-For itself, from WAYMARK_TRUSTED_PROXIES only
        # (app/api/client_address.py); uvicorn's own reading would trust loopback.
        proxy_headers=False,
        server_header=False,
        ws="none",  # no WebSocket routes: the server need not load a WebSocket library
        log_config=None,
        access_log=False,
    )


@main.command()
def migrate() -> None:
    """Bring the database schema up to date, then seal any text still stored in plain (a
    deployment from before sealing). Safe to run again after an interruption."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    from app.migrations.runner import upgrade_to_head
    from app.services.sealing_migration import seal_existing

    upgrade_to_head(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        changed = seal_existing(engine, load_keys(settings))
    finally:
        engine.dispose()
    if any(changed.values()):
        sealed = ", ".join(f"{count} {table}" for table, count in changed.items() if count)
        typer.echo(f"sealed text stored in plain: {sealed}")
    typer.echo("database is up to date")


@org_app.command("create")
def create_org(name: Annotated[str, typer.Argument(help="The organisation's name.")]) -> None:
    """Create an organisation."""
    name = name.strip()
    if not name:
        typer.echo("waymark: the name must not be empty", err=True)
        raise typer.Exit(2)
    engine = make_engine(_settings().resolved_database_url)
    with transaction(engine, writes=True) as db:
        if db.exec(select(Organisation).where(Organisation.name == name)).first():
            typer.echo(f"waymark: organisation {name!r} already exists", err=True)
            raise typer.Exit(1)
        organisation = Organisation(name=name)
        db.add(organisation)
    typer.echo(f"created organisation {name!r} ({organisation.id})")


def _engine_with_keys() -> Engine:
    """An engine whose sessions can read and write sealed text (names and emails included)."""
    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    sealing.register_keys(engine, load_keys(settings))
    return engine


def _create_staff(role: Role, org: str, email: str, name: str, password_stdin: bool) -> None:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        # About 128 bits, in words a person can type.
        password = "-".join(secrets.token_urlsafe(8) for _ in range(3))
        generated = True
    try:
        email = TypeAdapter(Email).validate_python(email)
    except ValidationError as error:
        typer.echo("waymark: that is not a valid email address", err=True)
        raise typer.Exit(2) from error
    engine = _engine_with_keys()
    try:
        with transaction(engine, writes=True) as db:
            organisation = db.exec(select(Organisation).where(Organisation.name == org)).first()
            if organisation is None:
                typer.echo(f"waymark: no organisation called {org!r}", err=True)
                raise typer.Exit(1)
            user: User = accounts.create(
                db,
                email=email,
                password=password,
                display_name=name.strip(),
                role=role,
                organisation_id=organisation.id,
            )
    except DomainError as error:
        typer.echo(f"waymark: {error.detail}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"created {role} {name.strip()!r} in {org!r} ({user.id})")
    if generated:
        typer.echo(f"password (shown once, pass it on safely): {password}")


@advocate_app.command("create")
def create_advocate(
    org: Annotated[str, typer.Option(help="The organisation's name.")],
    email: Annotated[str, typer.Option(help="The advocate's email, used to sign in.")],
    name: Annotated[str, typer.Option(help="The name victims will see.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an advocate. Without --password-stdin a password is generated and printed once."""
    _create_staff(Role.advocate, org, email, name, password_stdin)


@admin_app.command("create")
def create_admin(
    org: Annotated[str, typer.Option(help="The organisation's name.")],
    email: Annotated[str, typer.Option(help="The admin's email, used to sign in.")],
    name: Annotated[str, typer.Option(help="The admin's name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an organisation admin. Without --password-stdin a password is generated."""
    _create_staff(Role.admin, org, email, name, password_stdin)


@main.command("verify-pack")
def verify_pack_command(
    pack: Annotated[
        Path,
        typer.Argument(
            help="The evidence pack: the .zip, or the waymark-evidence-pack-… folder unzipped "
            "from it.",
            exists=True,
        ),
    ],
    fingerprint: Annotated[
        str | None,
        typer.Option(
            help="The signing key's fingerprint as the service publishes it (GET "
            "/api/v1/signing-key): 64 hex digits, spaces and colons ignored."
        ),
    ] = None,
) -> None:
    """Check an evidence pack: every file's hash, SHA256SUMS's signature, the manifest and its
    signature, the signing key, and the audit trail. Exits 0 when everything holds, 1 on any
    mismatch."""
    from app.export.verify import verify_pack

    report = verify_pack(pack, fingerprint)
    for line in report.lines():
        typer.echo(line)
    typer.echo("This pack is intact." if report.ok else "This pack has been changed or is damaged.")
    raise typer.Exit(0 if report.ok else 1)


@main.command("backup")
def backup_command(
    destination: Annotated[Path, typer.Argument(help="An empty or new folder for the backup.")],
) -> None:
    """Copy the database (encrypted under a key derived from the master key) and every file
    into DESTINATION, with a manifest of hashes. The master key is not included: keep it
    apart from backups."""
    from app import backup
    from app.services import erase_list as erase_lists

    settings = _settings()
    try:
        manifest = backup.backup(
            settings.resolved_database_url,
            open_blob_store(settings.resolved_storage_url),
            destination,
            _keys(settings),
        )
    except backup.BackupError as error:
        typer.echo(f"waymark: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"backed up {len(manifest['files'])} file(s) to {destination}")
    listed = erase_lists.path_for(settings)
    try:
        count = len(erase_lists.read([listed]))
    except erase_lists.EraseListError as error:
        # The backup is good, but a restore would refuse this list: it must be mended now.
        typer.echo(f"waymark: {error}", err=True)
        raise typer.Exit(1) from error
    # The one thing a backup must not carry, and the operator must keep: say so every time.
    typer.echo(
        f"not in the backup: the master key, and the erase list {listed} ({count} erased "
        "account(s)); keep an up-to-date copy of both apart from the backups"
    )


@main.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="A folder made by `waymark backup`.")],
    erase_list: Annotated[
        list[Path] | None,
        typer.Option(
            "--erase-list",
            help="Another erase list to apply (repeatable), besides keys/erased in the data "
            "folder.",
        ),
    ] = None,
) -> None:
    """Check a backup against its manifest and restore it into an empty data folder or
    database (set WAYMARK_DATA_DIR / WAYMARK_DATABASE_URL / WAYMARK_STORAGE_URL and the
    master key first), then delete every account on the erase list."""
    from app import backup
    from app.services import erase_list as erase_lists

    settings = _settings()
    if settings.master_key is None and not (settings.keys_dir / "master.key").exists():
        # Never let a restore generate a new master key: it could not open the backup.
        typer.echo(
            "waymark: a restore needs the master key the backup was made under: set "
            "WAYMARK_MASTER_KEY, or put the keys folder back (docs/backups.md)",
            err=True,
        )
        raise typer.Exit(2)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        manifest = backup.restore(
            source,
            settings.resolved_database_url,
            open_blob_store(settings.resolved_storage_url),
            _keys(settings),
            [erase_lists.path_for(settings), *(erase_list or [])],
        )
    except backup.BackupError as error:
        typer.echo(f"waymark: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(
        f"restored {len(manifest['files'])} file(s), and removed {manifest['erased']} "
        "erased account(s) again; start the service with the same keys"
    )


def _keys(settings: Settings) -> Keys:
    try:
        return load_keys(settings)
    except ConfigurationError as error:
        typer.echo(f"waymark: {error}", err=True)
        raise typer.Exit(2) from error


@advocate_app.command("deactivate")
def deactivate_advocate(
    email: Annotated[str, typer.Argument(help="The advocate's email.")],
) -> None:
    """End an advocate's access at once: every session ends and they cannot sign in again.
    Their cases stay with the victims, who can share with someone else."""
    engine = _engine_with_keys()
    with transaction(engine, writes=True) as db:
        user = identities.find_by_email(db, email)
        if user is None or user.role not in (Role.advocate, Role.admin):
            typer.echo("waymark: no advocate or admin with that email", err=True)
            raise typer.Exit(1)
        user.active = False
        db.add(user)
        ended = auth_sessions.revoke_all(db, user)
        name = identities.name_of(db, user)
    typer.echo(f"deactivated {name!r}; ended {ended} session(s)")


@keys_app.command("rotate")
def rotate_keys() -> None:
    """Rewrap every victim's data key under the current master key (blobs are untouched).

    Put the new key in WAYMARK_MASTER_KEY and the old one in WAYMARK_PREVIOUS_MASTER_KEYS,
    run this, then drop the old key. In development, `waymark keys new-master` does the first
    step for the generated key files."""
    settings = _settings()
    keys = load_keys(settings)
    engine = make_engine(settings.resolved_database_url)
    with transaction(engine, writes=True) as db:
        count = data_keys.rotate(db, keys)
        rehashed = identities.rehash_lookups(db, keys)
    typer.echo(f"rewrapped {count} data key(s) under the current master key")
    typer.echo(f"rehashed {rehashed} account lookup(s) under the current master key")


@keys_app.command("new-master")
def new_master_key() -> None:
    """Development only: make a new master key file, keeping the old one as a previous key."""
    settings = _settings()
    if settings.is_production:
        typer.echo("waymark: in production, set WAYMARK_MASTER_KEY yourself", err=True)
        raise typer.Exit(2)
    load_keys(settings)  # make sure the current files exist
    current = settings.keys_dir / "master.key"
    previous = settings.keys_dir / "master.previous"
    old = current.read_text().strip()
    kept = previous.read_text().strip() if previous.exists() else ""
    _write_secret(previous, ",".join(filter(None, [kept, old])) + "\n")
    _write_secret(current, base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    typer.echo("new master key made; now run `waymark keys rotate`")


def _write_secret(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


@uploads_app.command("expire")
def expire_uploads() -> None:
    """Remove abandoned uploads past their expiry, with their staged data."""
    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    staging = staging_for(open_blob_store(settings.resolved_storage_url))
    with transaction(engine, writes=True) as db:
        count = uploads.expire(db, staging)
    typer.echo(f"removed {count} expired upload(s)")


@blobs_app.command("sweep")
def sweep_blobs(
    older_than_hours: Annotated[
        float,
        typer.Option(
            min=0, help="Only what is older than this; the default leaves any write in flight."
        ),
    ] = 24.0,
) -> None:
    """Remove blobs and staged upload data that no record points at (safe while servers run)."""
    from datetime import timedelta

    from app.services import orphans

    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    store = open_blob_store(settings.resolved_storage_url)
    swept = orphans.sweep(engine, store, grace=timedelta(hours=older_than_hours))
    typer.echo(
        f"removed {swept.blobs} orphaned blob(s) and {swept.staged} staged item(s); "
        f"kept {swept.kept}"
    )
