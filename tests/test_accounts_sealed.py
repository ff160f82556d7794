"""An account's email and display name are sealed at rest (issue 14): the users table holds
neither, yet sign-in, /auth/me, the sharing views and the admin's staff list show them, an
email is still refused twice whatever its case, and a master key change followed by `waymark
keys rotate` keeps everyone able to sign in and rehashes their lookups."""

import base64
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, col, update
from typer.testing import CliRunner

from app.cli import main
from app.models.user import Role, User
from app.services import identities
from tests.conftest import AppFactory, ClientFactory
from tests.factories.accounts import STRONG_PASSWORD, attempt_login, login, me, register
from tests.factories.evidence import evidence_settings
from tests.factories.sharing import (
    ORG_ADVOCATES,
    cases,
    share_with,
    shares,
    signed_in_staff,
)

# Markers no other value could contain by chance, in the case they are typed and folded.
EMAIL = "Quillfeather.Marker@Example.org"
NAME = "Zephyrine Quillfeather"
ADVOCATE = "Bartholomew Wrenfield"
ADMIN = "Ottoline Marchbanks"
MARKERS = ("quillfeather", "zephyrine", "marker@example", "bartholomew", "wrenfield", "ottoline")


def _users_table(engine: Engine) -> list[bytes]:
    """Every value of every column of every row of users, as bytes, read with plain SQL."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM users")).all()
    values = []
    for row in rows:
        for value in row:
            values.append(value if isinstance(value, bytes) else str(value).encode())
    return values


def _assert_no_markers(engine: Engine) -> None:
    values = _users_table(engine)
    assert values, "the table has accounts"
    for value in values:
        for marker in MARKERS:
            assert marker.encode() not in value.lower(), (marker, value)


def _lookup_of(engine: Engine, user_id: str) -> str:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, email_lookup FROM users")).all()
    # SQLite keeps ids as 32 hex digits, PostgreSQL as uuid.
    (lookup,) = [
        found for stored, found in rows if str(stored).replace("-", "") == user_id.replace("-", "")
    ]
    return str(lookup)


def test_the_users_table_holds_no_email_or_name_yet_the_account_works(
    client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    registered = register(client, email=EMAIL, display_name=NAME)
    assert registered["email"] == EMAIL.lower()
    assert registered["display_name"] == NAME
    _assert_no_markers(db_engine)

    other = make_client()
    signed_in = login(other, EMAIL.upper())
    assert (signed_in["email"], signed_in["display_name"]) == (EMAIL.lower(), NAME)
    assert me(other) == me(client)
    assert (me(other)["email"], me(other)["display_name"]) == (EMAIL.lower(), NAME)
    assert attempt_login(make_client(), EMAIL, "not the password at all").status_code == 401


@pytest.mark.parametrize("again", [EMAIL, EMAIL.lower(), EMAIL.upper(), f"  {EMAIL.swapcase()} "])
def test_an_email_is_refused_twice_whatever_its_case(client: TestClient, again: str) -> None:
    register(client, email=EMAIL, display_name=NAME)
    client.cookies.clear()
    response = client.post(
        "/api/v1/auth/register",
        json={"email": again, "password": STRONG_PASSWORD, "display_name": "Someone Else"},
    )
    assert response.status_code == 409, response.text


def test_sharing_views_and_the_staff_list_show_the_names(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    victim = make_client()
    register(victim, email=EMAIL, display_name=NAME)
    advocate, advocate_staff = signed_in_staff(app, make_client, display_name=ADVOCATE)
    admin, admin_staff = signed_in_staff(app, make_client, role=Role.admin, display_name=ADMIN)
    share_with(victim, advocate)
    _assert_no_markers(db_engine)

    assert [s["advocate"]["display_name"] for s in shares(victim)] == [ADVOCATE]
    assert [c["victim"]["display_name"] for c in cases(advocate)] == [NAME]
    response = admin.get(ORG_ADVOCATES)
    assert response.status_code == 200, response.text
    # By name, as before they were sealed: Bartholomew before Ottoline.
    staff = [(s["display_name"], s["email"]) for s in response.json()["items"]]
    assert staff == [(ADVOCATE, advocate_staff.email), (ADMIN, admin_staff.email)]


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _waymark(data_dir: Path, database_url: str, master: str, previous: str) -> CliRunner:
    return CliRunner(
        env={
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_DATA_DIR": str(data_dir),
            "WAYMARK_DATABASE_URL": database_url,
            "WAYMARK_MASTER_KEY": master,
            "WAYMARK_PREVIOUS_MASTER_KEYS": previous,
        }
    )


def _signs_in(make_app: AppFactory, data_dir: Path, database_url: str, **keys: Any) -> None:
    settings = evidence_settings(data_dir, database_url, None, **keys)
    with TestClient(make_app(settings)) as client:
        signed_in = login(client, EMAIL)
        assert (signed_in["email"], signed_in["display_name"]) == (EMAIL.lower(), NAME)
        assert me(client)["display_name"] == NAME


def test_a_new_master_key_signs_in_before_and_after_rotation(
    make_app: AppFactory, tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    data_dir = tmp_path / "data"
    old, new = _key(), _key()
    with TestClient(make_app(evidence_settings(data_dir, database_url, None, master_key=old))) as c:
        user_id = register(c, email=EMAIL, display_name=NAME)["id"]
    before = _lookup_of(db_engine, user_id)

    # The key is changed, the old one kept as a previous key: found by its old lookup.
    _signs_in(make_app, data_dir, database_url, master_key=new, previous_master_keys=old)
    assert _lookup_of(db_engine, user_id) == before

    result = _waymark(data_dir, database_url, new, old).invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "rehashed 1 account lookup(s)" in result.output
    after = _lookup_of(db_engine, user_id)
    assert after != before

    # Rotated: the new key alone finds the account and opens its name.
    _signs_in(make_app, data_dir, database_url, master_key=new)
    _assert_no_markers(db_engine)
    rotated_again = _waymark(data_dir, database_url, new, "").invoke(main, ["keys", "rotate"])
    assert "rehashed 0 account lookup(s)" in rotated_again.output


def test_an_account_stored_in_plain_is_sealed_in_place(
    app: FastAPI, client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    """A deployment from before accounts were sealed: `waymark migrate` seals each account
    through identities.seal_in_place, which a second run leaves as it is."""
    user_id = uuid.UUID(register(client, email=EMAIL, display_name=NAME)["id"])
    with Session(db_engine) as db:
        db.exec(
            update(User)
            .where(col(User.id) == user_id)
            .values(email=EMAIL.lower(), display_name=NAME, email_lookup=None)
        )
        db.commit()
    assert attempt_login(make_client(), EMAIL, STRONG_PASSWORD).status_code == 401

    keys = app.state.runtime.keys
    with Session(db_engine) as db:
        user = db.get_one(User, user_id)
        assert identities.seal_in_place(db, user, keys) is True
        db.commit()
    _assert_no_markers(db_engine)
    assert (login(make_client(), EMAIL)["email"], me(client)["display_name"]) == (
        EMAIL.lower(),
        NAME,
    )
    with Session(db_engine) as db:
        assert identities.seal_in_place(db, db.get_one(User, user_id), keys) is False
