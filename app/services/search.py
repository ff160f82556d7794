"""Full-text search over what a victim wrote: SQLite FTS5 or PostgreSQL full text.

One row per record in `search_documents` (created by migration 0002 in the dialect's own
form). On SQLite the owner is an indexed FTS column, so a query only ever touches that owner's
postings; on PostgreSQL a GIN index on a generated tsvector does the work. Both stem English
("followed" finds "following").
"""

import re
import uuid

from sqlalchemy import TextClause, bindparam, text
from sqlmodel import Session

# Words as the user typed them; everything else is a separator. Quoting each word means no
# user input is ever parsed as FTS5 query syntax.
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 16


def _is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def index(db: Session, *, kind: str, record_id: uuid.UUID, owner_id: uuid.UUID, body: str) -> None:
    """(Re)index one record, in the caller's transaction."""
    remove(db, record_id)
    params: dict[str, object]
    if _is_sqlite(db):
        statement = text(
            "INSERT INTO search_documents (owner, body, record_id, kind) "
            "VALUES (:owner, :body, :record_id, :kind)"
        )
        params = {"owner": owner_id.hex, "body": body, "record_id": record_id.hex, "kind": kind}
    else:
        statement = text(
            "INSERT INTO search_documents (record_id, owner_id, kind, body) "
            "VALUES (:record_id, :owner_id, :kind, :body)"
        )
        params = {"record_id": record_id, "owner_id": owner_id, "kind": kind, "body": body}
    db.execute(statement, params)


def remove(db: Session, record_id: uuid.UUID) -> None:
    key = record_id.hex if _is_sqlite(db) else record_id
    db.execute(text("DELETE FROM search_documents WHERE record_id = :r"), {"r": key})


def remove_owner(db: Session, owner_id: uuid.UUID) -> None:
    if _is_sqlite(db):
        db.execute(
            text("DELETE FROM search_documents WHERE search_documents MATCH :m"),
            {"m": f'owner : "{owner_id.hex}"'},
        )
    else:
        db.execute(text("DELETE FROM search_documents WHERE owner_id = :o"), {"o": owner_id})


def words(query: str) -> list[str]:
    return _WORD.findall(query)[:MAX_QUERY_WORDS]


def matching_ids(db: Session, owner_id: uuid.UUID, kind: str, query: str) -> TextClause:
    """A subquery of the record ids of `kind` whose text has every word of `query`.

    Ids come back in the column's stored form, so it can sit in `Model.id IN (…)`.
    """
    terms = words(query)
    if not terms:
        # Nothing to find. The empty result keeps the id column's type: PostgreSQL reads a
        # bare NULL as text and refuses to compare it with a uuid.
        return text("SELECT record_id FROM search_documents WHERE 1 = 0")
    if _is_sqlite(db):
        body = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        return text(
            "SELECT record_id FROM search_documents "
            "WHERE search_documents MATCH :fts AND kind = :kind"
        ).bindparams(
            bindparam("fts", f'owner : "{owner_id.hex}" AND body : ({body})', unique=True),
            bindparam("kind", kind, unique=True),
        )
    return text(
        "SELECT record_id FROM search_documents WHERE owner_id = :owner AND kind = :kind "
        "AND tsv @@ plainto_tsquery('english', :q)"
    ).bindparams(
        bindparam("owner", owner_id, unique=True),
        bindparam("kind", kind, unique=True),
        bindparam("q", " ".join(terms), unique=True),
    )
