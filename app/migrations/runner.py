"""Run Alembic from code, so `waymark migrate` works wherever the package is installed."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % specially; a password may contain one.
    config.set_main_option(
        "sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%")
    )
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
