"""words sealed at rest

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:40:00.000000

What people write, and what names them, is now stored sealed (app/services/sealing.py), and
search reads keyed tokens instead of words. This migration makes room for it; the values
themselves are sealed afterwards by `waymark migrate`, which has the keys a migration does not
(app/services/sealing_migration.py, resumable: each batch commits on its own, and a value
already sealed is left as it is).

- Sealed text is longer than the text (base64 and 29 bytes), so the columns bounded for text
  become unbounded on PostgreSQL (SQLite does not enforce lengths).
- An account is found by a keyed hash of its email (users.email_lookup, unique) rather than by
  the email, which is sealed. The email's own unique constraint stays: no two sealed values
  are alike (each has its own nonce), so it never refuses one, and SQLite cannot drop the
  unnamed constraint of 0001 without rebuilding the table by hand.
- The search index takes tokens as they are: no stemming or stop words (they were applied to
  the words before hashing), so SQLite's FTS5 index is rebuilt with the plain unicode61
  tokenizer and PostgreSQL's tsvector uses the 'simple' configuration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns that hold sealed text and were bounded for plain text.
_WIDENED = {
    "users": ("email", "display_name"),
    "incidents": ("location", "withdrawn_reason"),
    "impact_notes": ("withdrawn_reason",),
    "police_reports": ("crime_reference", "force", "officer", "withdrawn_reason"),
    "evidence": ("original_filename", "sha256", "withdrawn_reason"),
    "advocate_notes": ("withdrawn_reason",),
}


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_lookup", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_users_email_lookup", ["email_lookup"], unique=True)
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.alter_column(name, type_=sa.Text())
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_fts("unicode61")
        return
    op.execute("DROP INDEX ix_search_documents_tsv")
    op.execute("ALTER TABLE search_documents DROP COLUMN tsv")
    op.execute(
        "ALTER TABLE search_documents ADD COLUMN "
        "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv) "
        "WITH (fastupdate = off)"
    )


def _rebuild_fts(tokenizer: str) -> None:
    # The triggers of 0004 name the index table and keep working once it is made again.
    op.execute("DROP TABLE search_documents_fts")
    op.execute(
        "CREATE VIRTUAL TABLE search_documents_fts USING fts5("
        "owner_id, kind, body, content = 'search_documents', content_rowid = 'id', "
        f"tokenize = '{tokenizer}')"
    )
    op.execute("INSERT INTO search_documents_fts (search_documents_fts) VALUES ('rebuild')")


# What the widened columns were before.
_BOUNDS = {
    "email": 320,
    "display_name": 100,
    "location": 500,
    "withdrawn_reason": 1000,
    "crime_reference": 64,
    "force": 200,
    "officer": 200,
    "original_filename": 255,
    "sha256": 64,
}


def downgrade() -> None:
    # The schema only: values already sealed stay sealed (opening them needs the keys), so
    # going back is for a database that holds none yet.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_email_lookup")
        batch_op.drop_column("email_lookup")
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.alter_column(name, type_=sa.String(length=_BOUNDS[name]))
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_fts("porter unicode61 remove_diacritics 2")
        return
    op.execute("DROP INDEX ix_search_documents_tsv")
    op.execute("ALTER TABLE search_documents DROP COLUMN tsv")
    op.execute(
        "ALTER TABLE search_documents ADD COLUMN "
        "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv) "
        "WITH (fastupdate = off)"
    )
