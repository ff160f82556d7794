"""Sharing a log with an advocate: invitations (/invitations), shares (/shares), revocation,
account erasure, advocates' notes on a case, and an organisation admin's view of its staff
(/org/advocates).

A stalker may know an advocate's name or the victim's email: nothing here may be found by
searching, a code works once and briefly, guessing is slowed down, and a victim's "stop" takes
effect on the advocate's very next request.
"""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.config import Settings
from app.models.share import Invitation
from app.models.user import Role
from app.services.logins import LoginGuard
from app.services.sharing import CODE_ALPHABET
from app.throttle import MemoryThrottle
from tests.conftest import ClientFactory
from tests.factories.accounts import STRONG_PASSWORD, assert_problem, me, register
from tests.factories.clock import FakeClock
from tests.factories.records import TIMELINE, instant, read
from tests.factories.sharing import (
    ADVOCATE_NAME,
    CASES,
    INVITATIONS,
    ORG_ADVOCATES,
    ORGANISATION,
    SHARES,
    VICTIM_NAME,
    case_url,
    cases,
    deactivate_with_cli,
    expire_invitations,
    invite,
    note_count,
    redeem,
    revoke,
    share_rows,
    share_with,
    shared_case,
    shares,
    signed_in_staff,
    signed_in_victim,
    user_id,
    write_note,
)

CODE = re.compile(rf"^[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}$")
REDEMPTION_FREE_FAILURES = 5


def _unknown_code() -> str:
    return "-".join(["ABCD", "EFGH", "JKMN"])


# Invitations: who may ask


def test_anonymous_cannot_invite(client: TestClient) -> None:
    assert_problem(client.post(INVITATIONS), 401)


def test_a_victim_cannot_invite(make_client: ClientFactory) -> None:
    victim = signed_in_victim(make_client)
    assert_problem(victim.post(INVITATIONS), 403)


def test_an_admin_cannot_invite(app: FastAPI, make_client: ClientFactory) -> None:
    admin, _ = signed_in_staff(app, make_client, role=Role.admin)
    assert_problem(admin.post(INVITATIONS), 403)


# Invitations: the code


def test_an_invitation_is_a_code_to_read_out_valid_for_72_hours(
    app: FastAPI, make_client: ClientFactory
) -> None:
    advocate, _ = signed_in_staff(app, make_client)

    before = datetime.now(UTC)
    response = advocate.post(INVITATIONS)
    after = datetime.now(UTC)

    assert response.status_code == 201, response.text
    invitation = response.json()
    assert set(invitation) == {"code", "expires_at"}
    assert CODE.fullmatch(invitation["code"]), invitation["code"]
    expires_at = instant(invitation["expires_at"])
    assert before + timedelta(hours=72) <= expires_at <= after + timedelta(hours=72)


def test_the_alphabet_has_no_look_alike_characters() -> None:
    assert not set("01OIL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)
    # 12 characters of this alphabet carry at least 50 bits.
    assert len(CODE_ALPHABET) ** 12 >= 2**50


def test_every_invitation_has_its_own_code_and_only_its_hash_is_stored(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    advocate, _ = signed_in_staff(app, make_client)
    codes = {invite(advocate)["code"] for _ in range(5)}
    assert len(codes) == 5

    with Session(db_engine) as db:
        stored = db.exec(select(Invitation)).all()
    assert len(stored) == 5
    for row in stored:
        for code in codes:
            assert code not in row.code_hash
            assert code.replace("-", "") not in row.code_hash


# Redeeming a code: who may


def test_anonymous_cannot_redeem(app: FastAPI, make_client: ClientFactory) -> None:
    advocate, _ = signed_in_staff(app, make_client)
    code = invite(advocate)["code"]
    assert_problem(redeem(make_client(), code), 401)


def test_staff_cannot_redeem(app: FastAPI, make_client: ClientFactory) -> None:
    advocate, _ = signed_in_staff(app, make_client)
    colleague, _ = signed_in_staff(app, make_client, display_name="Jo")
    admin, _ = signed_in_staff(app, make_client, role=Role.admin, display_name="Pat")
    code = invite(advocate)["code"]

    assert_problem(redeem(colleague, code), 403)
    assert_problem(redeem(admin, code), 403)
    assert_problem(redeem(advocate, code), 403)
    # The refusals did not use the code up.
    assert redeem(signed_in_victim(make_client), code).status_code == 201


# Redeeming a code: what happens


def test_redeeming_shares_the_log_with_that_advocate(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim = signed_in_victim(make_client)
    advocate, staff = signed_in_staff(app, make_client)

    response = redeem(victim, invite(advocate)["code"], can_export=True)

    assert response.status_code == 201, response.text
    share = response.json()
    assert share["advocate"] == {
        "id": str(staff.id),
        "display_name": ADVOCATE_NAME,
        "organisation": ORGANISATION,
    }
    assert share["can_export"] is True
    assert share["last_viewed_at"] is None
    assert share["since"]
    assert "email" not in str(share)
    assert shares(victim) == [share]

    (case,) = cases(advocate)
    assert case["id"] == share["id"]
    assert case["victim"] == {"display_name": VICTIM_NAME}
    assert case["can_export"] is True


def test_a_code_works_once(app: FastAPI, make_client: ClientFactory) -> None:
    victim, someone_else = signed_in_victim(make_client), signed_in_victim(make_client, "Dana")
    advocate, _ = signed_in_staff(app, make_client)
    code = invite(advocate)["code"]
    assert redeem(victim, code).status_code == 201

    assert_problem(redeem(victim, code), 422)
    assert_problem(redeem(someone_else, code), 422)
    assert shares(someone_else) == []
    assert len(cases(advocate)) == 1


def test_a_second_code_from_the_same_advocate_keeps_one_case(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)

    response = redeem(victim, invite(advocate)["code"], can_export=True)

    assert response.status_code == 201, response.text
    assert response.json()["id"] == case_id
    assert [share["can_export"] for share in shares(victim)] == [True]
    assert [case["id"] for case in cases(advocate)] == [case_id]


def test_an_expired_code_does_not_work(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim = signed_in_victim(make_client)
    advocate, _ = signed_in_staff(app, make_client)
    code = invite(advocate)["code"]
    expire_invitations(db_engine, datetime.now(UTC) - timedelta(minutes=1))

    assert_problem(redeem(victim, code), 422)
    assert shares(victim) == []
    assert cases(advocate) == []


def test_used_expired_and_unknown_codes_are_refused_alike(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    """A stalker trying codes learns nothing about which ever existed."""
    victim, other = signed_in_victim(make_client), signed_in_victim(make_client, "Dana")
    advocate, _ = signed_in_staff(app, make_client)
    used = invite(advocate)["code"]
    assert redeem(other, used).status_code == 201
    expired = invite(advocate)["code"]
    with Session(db_engine) as db:
        for row in db.exec(select(Invitation).where(col(Invitation.redeemed_at).is_(None))).all():
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            db.add(row)
        db.commit()

    refusals = [redeem(victim, code) for code in (used, expired, _unknown_code())]

    bodies = [assert_problem(response, 422) for response in refusals]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["errors"][0]["loc"] == ["body", "code"]
    assert {tuple(r.headers.get_list("content-type")) for r in refusals} == {
        ("application/problem+json",)
    }
    assert shares(victim) == []


def test_a_deactivated_advocates_code_does_not_work(
    app: FastAPI, make_client: ClientFactory, database_url: str, settings: Settings
) -> None:
    victim = signed_in_victim(make_client)
    advocate, staff = signed_in_staff(app, make_client)
    code = invite(advocate)["code"]
    unknown = assert_problem(redeem(victim, _unknown_code()), 422)

    deactivate_with_cli(settings.data_dir, database_url, staff.email)

    assert assert_problem(redeem(victim, code), 422) == unknown
    assert shares(victim) == []


@pytest.mark.parametrize(
    "spoken",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", " "),
        lambda code: f"  {code.lower().replace('-', ' ')}  ",
        lambda code: code.replace("-", ""),
    ],
    ids=["lower case", "spaces", "lower case with spaces around", "no separators"],
)
def test_a_code_is_accepted_as_people_type_it(
    spoken: Any, app: FastAPI, make_client: ClientFactory
) -> None:
    victim = signed_in_victim(make_client)
    advocate, _ = signed_in_staff(app, make_client)
    code = invite(advocate)["code"]

    assert redeem(victim, spoken(code)).status_code == 201
    assert len(cases(advocate)) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"code": ""}, {"code": "A" * 65}, {"code": "ABCD-EFGH-JKMN", "advocate_id": "x"}],
    ids=["no code", "empty", "too long", "unknown field"],
)
def test_a_malformed_redemption_is_422(body: dict[str, Any], make_client: ClientFactory) -> None:
    victim = signed_in_victim(make_client)
    assert_problem(victim.post(SHARES, json=body), 422)


# Redeeming a code: guessing is slowed down


@pytest.fixture
def clock(app: FastAPI) -> Iterator[FakeClock]:
    """The app's throttle on a clock that only moves when the test says so."""
    fake = FakeClock()
    runtime = app.state.runtime
    runtime.throttle = MemoryThrottle(fake)
    runtime.login_guard = LoginGuard(runtime.throttle, runtime.keys.secret_key)
    yield fake


def test_guessing_codes_is_throttled(
    clock: FakeClock, app: FastAPI, make_client: ClientFactory
) -> None:
    victim = signed_in_victim(make_client)
    advocate, _ = signed_in_staff(app, make_client)
    good = invite(advocate)["code"]

    for _ in range(REDEMPTION_FREE_FAILURES):
        assert_problem(redeem(victim, _unknown_code()), 422)
    throttled = redeem(victim, _unknown_code())

    assert_problem(throttled, 429)
    wait = int(throttled.headers["retry-after"])
    assert wait >= 1
    # While throttled even a good code waits, and is not used up by the refusal.
    assert_problem(redeem(victim, good), 429)

    clock.advance(wait)
    assert redeem(victim, good).status_code == 201


def test_a_throttled_guesser_does_not_slow_down_a_victim_elsewhere(
    clock: FakeClock, app: FastAPI, make_client: ClientFactory
) -> None:
    guesser = signed_in_victim(make_client, "Mallory")
    for _ in range(REDEMPTION_FREE_FAILURES + 1):
        redeem(guesser, _unknown_code())
    assert_problem(redeem(guesser, _unknown_code()), 429)

    advocate, _ = signed_in_staff(app, make_client)
    with TestClient(app, client=("203.0.113.7", 50000)) as victim:
        register(victim, display_name=VICTIM_NAME)
        assert redeem(victim, invite(advocate)["code"]).status_code == 201


# Who can see and take back a share


def test_anonymous_and_staff_cannot_list_or_revoke_shares(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    admin, _ = signed_in_staff(app, make_client, role=Role.admin, display_name="Pat")

    assert_problem(make_client().get(SHARES), 401)
    assert_problem(revoke(make_client(), case_id), 401)
    for staff in (advocate, admin):
        assert_problem(staff.get(SHARES), 403)
        assert_problem(revoke(staff, case_id), 403)
    assert len(shares(victim)) == 1
    assert advocate.get(case_url(case_id)).status_code == 200


def test_shares_show_when_the_advocate_last_looked(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    (share,) = shares(victim)
    assert share["last_viewed_at"] is None
    assert share["can_export"] is False

    assert advocate.get(case_url(case_id, "/timeline")).status_code == 200

    (share,) = shares(victim)
    assert share["id"] == case_id
    assert share["advocate"]["display_name"] == ADVOCATE_NAME
    assert share["advocate"]["organisation"] == ORGANISATION
    viewed = instant(share["last_viewed_at"])
    assert viewed >= instant(share["since"])

    # Listing the caseload shows the case's counts and last activity: a look too.
    cases(advocate)
    assert instant(shares(victim)[0]["last_viewed_at"]) >= viewed


def test_a_victim_sees_only_their_own_shares_and_cannot_revoke_anothers(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    stranger = signed_in_victim(make_client, "Mallory")

    assert shares(stranger) == []
    problem = assert_problem(revoke(stranger, case_id), 404)
    assert VICTIM_NAME not in str(problem)

    assert advocate.get(case_url(case_id)).status_code == 200
    assert len(shares(victim)) == 1
    assert all(row.revoked_at is None for row in share_rows(db_engine, user_id(victim)))


def test_revoking_ends_access_on_the_advocates_very_next_request(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    assert advocate.get(case_url(case_id, "/timeline")).status_code == 200

    response = revoke(victim, case_id)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(advocate.get(case_url(case_id, "/timeline")), 404)
    assert_problem(advocate.get(case_url(case_id)), 404)
    assert cases(advocate) == []
    assert shares(victim) == []
    # Revoking twice, or an id that never existed: 404 alike.
    assert_problem(revoke(victim, case_id), 404)
    assert_problem(revoke(victim, str(uuid.uuid4())), 404)


def test_sharing_again_after_revoking_makes_a_new_case(
    app: FastAPI, make_client: ClientFactory
) -> None:
    victim, advocate, old_case = shared_case(app, make_client)
    assert revoke(victim, old_case).status_code == 204

    new_case = share_with(victim, advocate)

    assert new_case != old_case
    assert [case["id"] for case in cases(advocate)] == [new_case]
    assert_problem(advocate.get(case_url(old_case)), 404)
    assert advocate.get(case_url(new_case)).status_code == 200


def test_erasing_the_account_takes_every_share_away(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    colleague, _ = signed_in_staff(app, make_client, display_name="Jo")
    share_with(victim, colleague)
    assert write_note(advocate, case_id, "Called Robin back.").status_code == 201
    victim_id = user_id(victim)

    response = victim.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})

    assert response.status_code == 204, response.text
    assert cases(advocate) == []
    assert cases(colleague) == []
    assert_problem(advocate.get(case_url(case_id)), 404)
    assert share_rows(db_engine, victim_id) == []
    assert note_count(db_engine, victim_id) == 0


# Notes on a case


def test_a_note_appears_on_the_victims_timeline(app: FastAPI, make_client: ClientFactory) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    advocate_id = me(advocate)["id"]

    response = write_note(advocate, case_id, "  Spoke to Robin; safety plan updated.  ")

    assert response.status_code == 201, response.text
    note = response.json()
    assert note["body"] == "Spoke to Robin; safety plan updated."
    assert note["author"] == {"id": advocate_id, "display_name": ADVOCATE_NAME}
    assert set(note) == {"id", "body", "created_at", "author"}

    (item,) = read(victim, TIMELINE)["items"]
    assert item["kind"] == "advocate_note"
    assert item["id"] == note["id"]
    assert item["summary"] == f"Note from {ADVOCATE_NAME}: Spoke to Robin; safety plan updated."
    assert item["data"] == note
    assert read(victim, TIMELINE, kinds="advocate_note")["items"] == [item]
    assert read(victim, TIMELINE, q="safety plan")["items"] == [item]
    assert read(victim, TIMELINE, behaviours="threats")["items"] == []
    assert read(advocate, case_url(case_id, "/notes"))["items"] == [note]


def test_notes_are_listed_oldest_first(app: FastAPI, make_client: ClientFactory) -> None:
    _, advocate, case_id = shared_case(app, make_client)
    written = [write_note(advocate, case_id, f"Note {n}").json()["id"] for n in range(3)]
    listed = read(advocate, case_url(case_id, "/notes"))["items"]
    assert [note["id"] for note in listed] == written


def test_a_note_with_the_same_id_is_saved_once(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    note_id = str(uuid.uuid4())
    first = write_note(advocate, case_id, "Offline note, synced twice.", note_id)
    assert first.status_code == 201, first.text
    assert first.json()["id"] == note_id

    again = write_note(advocate, case_id, "Offline note, synced twice.", note_id)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()

    assert_problem(write_note(advocate, case_id, "Something else.", note_id), 409)
    assert note_count(db_engine, user_id(victim)) == 1
    assert [n["body"] for n in read(advocate, case_url(case_id, "/notes"))["items"]] == [
        "Offline note, synced twice."
    ]


def test_a_note_id_of_another_advocate_cannot_be_taken_over(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)
    colleague, _ = signed_in_staff(app, make_client, display_name="Jo")
    colleague_case = share_with(victim, colleague)
    note_id = str(uuid.uuid4())
    assert write_note(advocate, case_id, "Sam's note.", note_id).status_code == 201

    for body in ("Sam's note.", "Jo's replacement."):
        assert_problem(write_note(colleague, colleague_case, body, note_id), 409)

    assert note_count(db_engine, user_id(victim)) == 1
    (item,) = read(victim, TIMELINE)["items"]
    assert item["data"]["body"] == "Sam's note."
    assert item["data"]["author"]["display_name"] == ADVOCATE_NAME


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "   \n "},
        {"body": "A note\x00with a NUL"},
        {"body": "x" * 10_001},
        {},
        {"body": "fine", "author_id": str(uuid.uuid4())},
        {"id": "not-a-uuid", "body": "fine"},
    ],
    ids=["empty", "blank", "NUL", "too long", "missing", "unknown field", "bad id"],
)
def test_a_bad_note_is_422_and_nothing_is_kept(
    body: dict[str, Any], app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, advocate, case_id = shared_case(app, make_client)

    problem = assert_problem(advocate.post(case_url(case_id, "/notes"), json=body), 422)

    assert "NUL" not in str(problem)  # the input is never echoed back
    assert note_count(db_engine, user_id(victim)) == 0
    assert read(victim, TIMELINE)["items"] == []


# An organisation's admin


def test_an_admin_lists_the_organisations_staff_and_caseloads(
    app: FastAPI, make_client: ClientFactory, database_url: str, settings: Settings
) -> None:
    victim, sam, case_id = shared_case(app, make_client)
    share_with(signed_in_victim(make_client, "Dana Price"), sam)
    jo, jo_staff = signed_in_staff(app, make_client, display_name="Jo")
    revoked = share_with(victim, jo)
    assert revoke(victim, revoked).status_code == 204
    _, gone = signed_in_staff(app, make_client, display_name="Max")
    deactivate_with_cli(settings.data_dir, database_url, gone.email)
    admin, admin_staff = signed_in_staff(app, make_client, role=Role.admin, display_name="Pat")
    # Another organisation's staff and caseload.
    kim, _ = signed_in_staff(app, make_client, display_name="Kim", organisation_name="Harbour")
    share_with(signed_in_victim(make_client, "Eve"), kim)
    signed_in_staff(
        app, make_client, role=Role.admin, display_name="Ola", organisation_name="Harbour"
    )

    response = admin.get(ORG_ADVOCATES)

    assert response.status_code == 200, response.text
    staff = {person["display_name"]: person for person in response.json()["items"]}
    assert set(staff) == {"Jo", "Max", "Pat", "Sam"}
    assert {name: person["caseload"] for name, person in staff.items()} == {
        "Jo": 0,
        "Max": 0,
        "Pat": 0,
        "Sam": 2,
    }
    assert {name: person["role"] for name, person in staff.items()} == {
        "Jo": "advocate",
        "Max": "advocate",
        "Pat": "admin",
        "Sam": "advocate",
    }
    assert staff["Max"]["active"] is False
    assert staff["Jo"]["email"] == jo_staff.email
    assert staff["Pat"]["id"] == str(admin_staff.id)
    # Nothing of the victims: no names, no emails, no case ids.
    for secret in (VICTIM_NAME, "Dana", "Eve", case_id, revoked, me(victim)["email"]):
        assert secret not in response.text


def test_only_admins_see_the_organisations_staff(app: FastAPI, make_client: ClientFactory) -> None:
    victim, advocate, _ = shared_case(app, make_client)
    assert_problem(make_client().get(ORG_ADVOCATES), 401)
    assert_problem(victim.get(ORG_ADVOCATES), 403)
    assert_problem(advocate.get(ORG_ADVOCATES), 403)


def test_cases_are_not_reachable_by_guessing_a_share_id_as_a_case_of_another_advocate(
    app: FastAPI, make_client: ClientFactory
) -> None:
    """The case id is the share id; holding one of your own does not open another."""
    _, sam, sams_case = shared_case(app, make_client)
    _, kim, kims_case = shared_case(
        app, make_client, victim_name="Dana Price", advocate_name="Kim", organisation_name="Harbour"
    )
    assert_problem(kim.get(case_url(sams_case)), 404)
    assert_problem(sam.get(case_url(kims_case)), 404)
    assert [case["id"] for case in cases(kim)] == [kims_case]
    assert kim.get(CASES).json()["items"][0]["victim"]["display_name"] == "Dana Price"
