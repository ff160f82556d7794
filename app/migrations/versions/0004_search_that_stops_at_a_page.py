"""search that stops at a page

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 20:05:00.000000

Full-text search must cost about the same whether a word is in one item in four or in none
(app/services/search.py picks, per search, between looking the matches up and walking the
timeline until a page is full). Both need the index to answer "is this record a match?" and
"how many match?" cheaply.

SQLite: search_documents becomes an ordinary table (one row per record, found by its
record_id through an index) and the FTS5 index, search_documents_fts, reads its text from it
(an external-content table, kept in step by triggers). The owner and the kind are indexed
words, so a MATCH is confined to one owner's records of one kind without reading a row.

PostgreSQL: the GIN index stops keeping a pending list of new entries. That list is read in
full by every search until a vacuum merges it (3-4 ms a search after a large import); a log is
written a few rows at a time and searched far more often, so entries go straight into the
index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER INDEX ix_search_documents_tsv SET (fastupdate = off)")
        op.execute("SELECT gin_clean_pending_list('ix_search_documents_tsv'::regclass)")
        return
    op.execute("ALTER TABLE search_documents RENAME TO search_documents_old")
    op.execute(
        "CREATE TABLE search_documents ("
        # The FTS5 rowid of the record's entry.
        "id INTEGER PRIMARY KEY, "
        # Stored as the record tables store ids (32 hex digits), so they compare directly.
        "record_id CHAR(32) NOT NULL UNIQUE, "
        "owner_id CHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE, "
        "kind VARCHAR(32) NOT NULL, "
        "body TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX ix_search_documents_owner ON search_documents (owner_id)")
    op.execute(
        "CREATE VIRTUAL TABLE search_documents_fts USING fts5("
        "owner_id, kind, body, content = 'search_documents', content_rowid = 'id', "
        f"{_TOKENIZE})"
    )
    # The index follows the table. FTS5 removes an entry only when given the words it indexed,
    # so a delete passes the old row's values.
    op.execute(
        "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
        "INSERT INTO search_documents_fts (rowid, owner_id, kind, body) "
        "VALUES (new.id, new.owner_id, new.kind, new.body); END"
    )
    op.execute(
        "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
        "INSERT INTO search_documents_fts (search_documents_fts, rowid, owner_id, kind, body) "
        "VALUES ('delete', old.id, old.owner_id, old.kind, old.body); END"
    )
    op.execute(
        "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
        "INSERT INTO search_documents_fts (search_documents_fts, rowid, owner_id, kind, body) "
        "VALUES ('delete', old.id, old.owner_id, old.kind, old.body); "
        "INSERT INTO search_documents_fts (rowid, owner_id, kind, body) "
        "VALUES (new.id, new.owner_id, new.kind, new.body); END"
    )
    # Documents of accounts already erased were removed with them; the filter only keeps the
    # new foreign key from refusing the copy should one have been left behind.
    op.execute(
        "INSERT INTO search_documents (record_id, owner_id, kind, body) "
        "SELECT record_id, owner, kind, body FROM search_documents_old "
        "WHERE owner IN (SELECT id FROM users)"
    )
    op.execute("DROP TABLE search_documents_old")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER INDEX ix_search_documents_tsv SET (fastupdate = on)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE search_documents_old USING fts5("
        f"owner, body, record_id UNINDEXED, kind UNINDEXED, {_TOKENIZE})"
    )
    op.execute(
        "INSERT INTO search_documents_old (owner, body, record_id, kind) "
        "SELECT owner_id, body, record_id, kind FROM search_documents"
    )
    op.execute("DROP TABLE search_documents_fts")
    op.execute("DROP TABLE search_documents")
    op.execute("ALTER TABLE search_documents_old RENAME TO search_documents")
