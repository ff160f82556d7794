"""Client-chosen ids (the outbox makes them) can never reach another person's records or
search entries: an id already used by anyone, for anything, is refused with a 409."""

import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from app.errors import Conflict
from app.services import search
from tests.conftest import ClientFactory
from tests.factories.accounts import assert_problem
from tests.factories.records import log_incident, read, timeline
from tests.factories.sharing import case_url, shared_case, signed_in_victim, user_id, write_note

WORD = "marbleworks"


def _found(client: object, word: str) -> list[str]:
    return [item["id"] for item in timeline(client, q=word)]  # type: ignore[arg-type]


def test_a_note_cannot_take_another_victims_incident_id(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim_b = signed_in_victim(make_client, "Bea")
    hers = log_incident(victim_b, description=f"He was outside the {WORD} gate at nine.")
    case = shared_case(app, make_client)

    refused = write_note(case.advocate, case.case_id, f"{WORD} {WORD}", note_id=hers["id"])

    assert_problem(refused, 409)
    assert _found(victim_b, WORD) == [hers["id"]]
    assert _found(case.victim, WORD) == []
    assert read(case.advocate, case_url(case.case_id, "/notes"))["items"] == []


def test_a_note_cannot_take_its_own_victims_record_id(
    app: FastAPI, make_client: ClientFactory
) -> None:
    case = shared_case(app, make_client)
    own = log_incident(case.victim, description=f"At the {WORD} again.")

    assert_problem(write_note(case.advocate, case.case_id, "A note.", note_id=own["id"]), 409)
    assert _found(case.victim, WORD) == [own["id"]]


def test_a_note_sent_again_with_its_id_is_the_same_note(
    app: FastAPI, make_client: ClientFactory
) -> None:
    case = shared_case(app, make_client)
    note_id = str(uuid.uuid4())
    assert write_note(case.advocate, case.case_id, "Called the police.", note_id).status_code == 201
    again = write_note(case.advocate, case.case_id, "Called the police.", note_id)
    assert again.status_code == 200 and again.json()["id"] == note_id


def test_the_search_index_never_replaces_another_owners_entry(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim_b = signed_in_victim(make_client, "Bea")
    hers = log_incident(victim_b, description=f"The {WORD} car park.")
    other = signed_in_victim(make_client, "Cas")

    with Session(db_engine) as db:
        for kind, owner in (("advocate_note", user_id(other)), ("impact_note", user_id(victim_b))):
            with pytest.raises(Conflict):
                search.index(
                    db, kind=kind, record_id=uuid.UUID(hers["id"]), owner_id=owner, body="x"
                )
        db.commit()

    assert _found(victim_b, WORD) == [hers["id"]]
