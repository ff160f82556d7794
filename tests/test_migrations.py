"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.db import make_engine, normalise_database_url
from app.migrations.runner import alembic_config, upgrade_to_head
from app.models import ALL_TABLES


def _not_from_models(name: str | None, type_: str, _parent: Any) -> bool:
    """As app/migrations/env.py says: the full-text index tables are written by hand per
    dialect, not generated from the models, so autogenerate leaves them out."""
    return not (type_ == "table" and name is not None and name.startswith("search_documents"))


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": _not_from_models,
            },
        )
        differences: list[Any] = compare_metadata(context, ALL_TABLES)
    return differences


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as this run's, for this test alone."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"waymark_migrations_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_autogenerate_finds_nothing_to_do(cleanup_engine: Engine) -> None:
    assert _differences(cleanup_engine) == []


def test_the_database_is_at_the_single_head(cleanup_engine: Engine, database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    heads = script.get_heads()

    assert len(heads) == 1, "migrations have branched; merge them"
    with cleanup_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


def test_migrations_go_down_to_nothing_and_back_up(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    upgrade_to_head(fresh_database_url)

    command.downgrade(config, "base")
    engine = make_engine(fresh_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()

        upgrade_to_head(fresh_database_url)
        assert _differences(engine) == []
    finally:
        engine.dispose()
