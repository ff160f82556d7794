from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import Settings
from app.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    # Migrations describe storage, so they must not import app code that may later change:
    # AutoString is a plain VARCHAR, and our TypeDecorators are rendered as what they store.
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl_instance!r}"
    return False


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    # The full-text index is written by hand per dialect (migration 0002), not from models.
    return not (type_ == "table" and name is not None and name.startswith("search_documents"))


def run_migrations() -> None:
    # From `waymark migrate` (runner.py), or from the settings when run as plain `alembic`.
    url = config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            render_item=render_item,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
