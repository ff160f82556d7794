"""Full-text search over what a victim wrote: SQLite FTS5 or PostgreSQL full text, over keyed
word tokens rather than words (services/sealing.py makes them), so the index holds nothing
readable.

One row per record in `search_documents` (migrations 0001, 0004 and 0006, in each dialect's
own form). On SQLite an FTS5 index, `search_documents_fts`, reads that table; the owner and the
kind are indexed words in it, so a MATCH only ever touches one owner's postings of one kind. On
PostgreSQL a GIN index on a generated tsvector (the 'simple' configuration: tokens are taken
as they are) does the work. A search is a list of terms, each the tokens of which a match needs
one (a word's stem, or the word as a prefix), and a match needs every term.

A timeline page wants the first matches in time order, and no index holds both the words and
the time. So each kind's matches are first counted, up to FEW_MATCHES (a read of the index
alone), and the count picks the plan:

- few matches: look them up by id and sort them (the cost follows the number of matches);
- many: walk the kind's time index and keep the rows that match, which stops once a page is
  full (the cost follows how far apart matches are, and with many they are close).

Neither plan alone will do at 100,000 items: walking for a word in no record reads the whole
log, and looking up a word in one record in four reads a quarter of it. The databases cannot
choose for themselves: SQLite knows nothing of how many rows an FTS5 MATCH gives, and
PostgreSQL multiplies the frequencies of the words it is given, which is far out when they go
together (or never do).
"""

import functools
import re
import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    Uuid,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import ColumnClause, UnaryExpression
from sqlmodel import Session

from app.errors import Conflict

# Words as the user typed them; everything else is a separator. Tokens are letters only, and
# are quoted anyway, so nothing a user typed is ever parsed as query syntax.
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 16

# At most this many matches of a kind are looked up; more, and the time index is walked. Near
# this count the two plans cost about the same: with 100,000 items and 500 to 2,000 matches,
# 15-30 ms on either database (a walk then reads about 100 rows per match it keeps).
FEW_MATCHES = 1000


class Plan(StrEnum):
    LOOK_UP = "look up"
    WALK = "walk"


def _is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


_DOCUMENTS = table(
    "search_documents",
    column("id"),
    column("record_id", Uuid()),
    column("owner_id", Uuid()),
    column("kind"),
    column("body"),
    column("tsv"),  # PostgreSQL only
)
# SQLite's FTS5 index; a MATCH is written against the table's own name.
_FTS = table("search_documents_fts", column("rowid"))
_FTS_TABLE: ColumnClause[Any] = literal_column("search_documents_fts")
_SIMPLE: ColumnClause[Any] = literal_column("'simple'")

# One statement for both dialects: the record id is unique, so a record indexed again (an
# amendment) replaces its text, and a new record is a plain insert with no delete before it.
# Only the same owner's entry of the same kind is replaced: a client-chosen id that collides
# with someone else's record must never overwrite her entry (index() then refuses the id).
# On SQLite the triggers of migration 0004 bring the FTS5 index along.
_UPSERT = text(
    "INSERT INTO search_documents (record_id, owner_id, kind, body) "
    "VALUES (:record_id, :owner_id, :kind, :body) "
    "ON CONFLICT (record_id) DO UPDATE SET body = excluded.body "
    "WHERE search_documents.owner_id = excluded.owner_id "
    "AND search_documents.kind = excluded.kind"
).bindparams(bindparam("record_id", type_=Uuid()), bindparam("owner_id", type_=Uuid()))


def index(db: Session, *, kind: str, record_id: uuid.UUID, owner_id: uuid.UUID, body: str) -> None:
    """(Re)index one record, in the caller's transaction. An id whose entry belongs to another
    owner or kind is refused (Conflict), its entry left as it was."""
    result = db.execute(
        _UPSERT, document(kind=kind, record_id=record_id, owner_id=owner_id, body=body)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise Conflict("This id cannot be used. Make a new one.")


def document(*, kind: str, record_id: uuid.UUID, owner_id: uuid.UUID, body: str) -> dict[str, Any]:
    """The parameters of `index_statement` for one record (bulk loaders send many at once)."""
    return {"record_id": record_id, "owner_id": owner_id, "kind": kind, "body": body}


def index_statement() -> TextClause:
    return _UPSERT


def remove_owner(db: Session, owner_id: uuid.UUID) -> None:
    db.execute(_DOCUMENTS.delete().where(_DOCUMENTS.c.owner_id == owner_id))


def words(query: str) -> list[str]:
    return _WORD.findall(query)[:MAX_QUERY_WORDS]


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


Terms = list[tuple[str, ...]]


def _fts_expression(owner_id: uuid.UUID, kind: str, terms: Terms) -> str:
    """An FTS5 query for the owner's records of `kind` matching every one of `terms`."""
    body = " AND ".join(
        "(" + " OR ".join(_fts_phrase(token) for token in term) + ")" for term in terms
    )
    scope = f"owner_id : {_fts_phrase(owner_id.hex)} AND kind : {_fts_phrase(kind)}"
    return f"{scope} AND body : ({body})"


def _tsquery(terms: Terms) -> str:
    """A to_tsquery text for the same condition (tokens are letters a-p: nothing to escape)."""
    return " & ".join("(" + " | ".join(term) + ")" for term in terms)


def parameters(
    db: Session, owner_id: uuid.UUID, kinds: Iterable[str], terms: Terms
) -> dict[str, Any]:
    """The values `count_statement` and `restrict` bind."""
    if _is_sqlite(db):
        return {_fts_name(kind): _fts_expression(owner_id, kind, terms) for kind in kinds}
    return {"search_owner": owner_id, "search_terms": _tsquery(terms)}


def _fts_name(kind: str) -> str:
    return f"search_{kind}"


def _matches(dialect: str, kind: str) -> Select[Any]:
    """The owner's records of `kind` that match, read from the index alone: FTS5 rowids on
    SQLite, record ids on PostgreSQL."""
    if dialect == "sqlite":
        return select(_FTS.c.rowid).where(_FTS_TABLE.op("MATCH")(bindparam(_fts_name(kind))))
    return select(_DOCUMENTS.c.record_id).where(
        _DOCUMENTS.c.owner_id == bindparam("search_owner"),
        _DOCUMENTS.c.kind == kind,
        _DOCUMENTS.c.tsv.op("@@")(func.to_tsquery(_SIMPLE, bindparam("search_terms"))),
    )


@functools.lru_cache(maxsize=64)
def count_statement(dialect: str, kinds: tuple[str, ...], limit: int) -> Select[Any]:
    """Each kind's number of matches, counted no further than `limit`: one column per kind,
    named after it."""
    counts = [
        select(func.count())
        .select_from(_matches(dialect, kind).limit(limit).subquery())
        .scalar_subquery()
        .label(kind)
        for kind in kinds
    ]
    return select(*counts)


def plans(
    db: Session, owner_id: uuid.UUID, kinds: tuple[str, ...], terms: Terms
) -> dict[str, Plan]:
    """The plan for each kind's matches, from how many there are."""
    if not _is_sqlite(db):
        _plan_with_the_values(db)
    counts = db.execute(
        count_statement(db.get_bind().dialect.name, kinds, FEW_MATCHES + 1),
        parameters(db, owner_id, kinds, terms),
    ).one()
    return {
        kind: Plan.LOOK_UP if count <= FEW_MATCHES else Plan.WALK
        for kind, count in zip(kinds, counts, strict=True)
    }


def _plan_with_the_values(db: Session) -> None:
    """Settings for the rest of this (search) transaction on PostgreSQL.

    - Plan each statement for its values. Once psycopg has prepared a statement (after five
      runs), PostgreSQL may plan it for any values, and without the words it cannot tell an
      index read of a few matches from a scan of the whole log. Planning costs a millisecond
      or two.
    - No parallel workers. A walk stops after a page of matches; split between workers, each
      walks its own share and the page costs two to four times as much."""
    db.execute(
        text(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('max_parallel_workers_per_gather', '0', true)"
        )
    )


def owner_condition(dialect: str, owner_column: Any, plan: Plan | None) -> ColumnElement[bool]:
    """The arm's owner scope. When matches are looked up, SQLite must not be tempted by the
    (owner, time) index, which it would walk to the end of the log to save a sort: a unary "+"
    is its documented way of keeping a term away from the indexes."""
    if plan is Plan.LOOK_UP and dialect == "sqlite":
        unindexed: ColumnElement[Any] = UnaryExpression(
            owner_column, operator=operators.custom_op("+"), type_=owner_column.type
        )
        return unindexed == bindparam("owner")
    condition: ColumnElement[bool] = owner_column == bindparam("owner")
    return condition


def restrict(dialect: str, kind: str, id_column: Any, plan: Plan) -> ColumnElement[bool]:
    """The condition that keeps an arm's rows to the matches of its kind."""
    matches = _matches(dialect, kind)
    if dialect != "sqlite":
        if plan is Plan.LOOK_UP:
            # Gathered once into an array and looked up by primary key. Given IN (…), the
            # planner may prefer hashing the matches against a scan of the whole table.
            gathered: ColumnElement[bool] = id_column == any_(func.array(matches.scalar_subquery()))
            return gathered
        walked: ColumnElement[bool] = id_column.in_(matches)
        return walked
    if plan is Plan.LOOK_UP:
        looked_up: ColumnElement[bool] = id_column.in_(
            select(_DOCUMENTS.c.record_id).where(_DOCUMENTS.c.id.in_(matches))
        )
        return looked_up
    # Walking: each row is found in search_documents by its id (an index lookup) and its FTS5
    # rowid checked against the set of matching rowids, which SQLite builds once.
    fts_rowid = select(_DOCUMENTS.c.id).where(_DOCUMENTS.c.record_id == id_column).scalar_subquery()
    return fts_rowid.in_(matches)
