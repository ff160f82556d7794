"""/api/v1/auth: registration, sign-in and the signed-in devices of an account.

Each endpoint's tests run in the same order: anonymous first, then someone else's id where
there is one, then success, then bad input (a problem, and nothing changed).
"""

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.models.auth_session import AuthSession
from app.models.types import utcnow
from app.services import passwords
from tests.conftest import ClientFactory
from tests.factories.accounts import (
    ANDROID_CHROME,
    DEVICE_COOKIE,
    OTHER_STRONG_PASSWORD,
    SESSION_COOKIE,
    STRONG_PASSWORD,
    WINDOWS_FIREFOX,
    assert_problem,
    attempt_login,
    current_session_id,
    list_sessions,
    login,
    me,
    new_email,
    register,
    replace_cookie,
    session_token,
    set_cookie_headers,
)
from tests.factories.database import (
    count_users,
    find_user,
    sessions_of,
    update_sessions,
    update_user,
)

AUTH = "/api/v1/auth"


def _registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": new_email(),
        "password": STRONG_PASSWORD,
        "display_name": "Alex",
    }
    body.update(overrides)
    return body


def _cookie_attributes(set_cookie: str) -> set[str]:
    """The attributes of one Set-Cookie header, lower-cased, values dropped ("httponly")."""
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def _assert_signed_out(client: TestClient) -> None:
    assert_problem(client.get(f"{AUTH}/me"), 401)


def _password_record(engine: Engine, email: str) -> tuple[str, datetime]:
    user = find_user(engine, email)
    assert user is not None
    return user.password_hash, user.password_changed_at


# --- register ---------------------------------------------------------------------------------


def test_register_makes_a_victim_and_signs_in(client: TestClient, db_engine: Engine) -> None:
    email = new_email()
    response = client.post(
        f"{AUTH}/register",
        json={"email": email, "password": STRONG_PASSWORD, "display_name": "  Alex  "},
    )

    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == email
    assert user["display_name"] == "Alex"
    assert user["role"] == "victim"
    assert user["organisation_id"] is None
    uuid.UUID(user["id"])
    assert not {"password", "password_hash"} & user.keys()
    assert me(client)["id"] == user["id"]
    stored = find_user(db_engine, email)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert STRONG_PASSWORD not in stored.password_hash


def test_register_sets_httponly_samesite_strict_cookies(client: TestClient) -> None:
    response = client.post(f"{AUTH}/register", json=_registration())

    for name in (SESSION_COOKIE, DEVICE_COOKIE):
        (header,) = set_cookie_headers(response, name)
        attributes = _cookie_attributes(header)
        assert "httponly" in attributes
        assert "samesite=strict" in header.lower().replace(" ", "")
        assert "path=/" in header.lower()
        assert "domain" not in attributes
        # Development serves plain http on localhost; Secure would make the cookie unusable.
        assert "secure" not in attributes
    (session_header,) = set_cookie_headers(response, SESSION_COOKIE)
    assert f"max-age={12 * 60 * 60}" in session_header.lower()


def test_register_keeps_only_a_hash_of_the_session_token(
    client: TestClient, db_engine: Engine
) -> None:
    user = register(client)
    token = session_token(client)

    # 32 random bytes, URL-safe base64: at least 256 bits.
    assert len(token) >= 43
    (stored,) = sessions_of(db_engine, user["id"])
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.model_dump_json()


def test_register_email_is_compared_without_case(client: TestClient, db_engine: Engine) -> None:
    response = client.post(f"{AUTH}/register", json=_registration(email="Robin@Example.ORG"))

    assert response.status_code == 201, response.text
    assert response.json()["email"] == "robin@example.org"
    assert find_user(db_engine, "robin@example.org") is not None


@pytest.mark.parametrize(
    ("password", "display_name", "email"),
    [
        pytest.param("short words", "Alex", None, id="too-short"),
        pytest.param("password1234", "Alex", None, id="common"),
        pytest.param("qwertyuiop123456", "Alex", None, id="keyboard-walk"),
        pytest.param("aaaaaaaaaaaaaaaaaaaa", "Alex", None, id="repeats"),
        pytest.param("marigold orchard velvet compass", "Marigold Finch", None, id="own-name"),
        pytest.param(
            "fairweather orchard velvet", "Sam", "robin.fairweather@example.org", id="email-part"
        ),
        pytest.param("lantern orchard velvet " * 12, "Alex", None, id="too-long"),
    ],
)
def test_register_refuses_a_weak_password_and_creates_nothing(
    client: TestClient,
    db_engine: Engine,
    password: str,
    display_name: str,
    email: str | None,
) -> None:
    body = _registration(password=password, display_name=display_name)
    if email:
        body["email"] = email

    response = client.post(f"{AUTH}/register", json=body)

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "password"]
    assert password not in response.text
    assert not set_cookie_headers(response, SESSION_COOKIE)
    assert find_user(db_engine, body["email"]) is None
    _assert_signed_out(client)


def test_register_accepts_a_long_passphrase(client: TestClient) -> None:
    passphrase = "lantern orchard velvet compass " * 4 + "tide"

    assert len(passphrase) == 128
    register(client, password=passphrase)
    assert me(client)["role"] == "victim"


def test_register_refuses_a_taken_email(client: TestClient, db_engine: Engine) -> None:
    email = new_email()
    register(client, email=email)
    stranger = client.post(
        f"{AUTH}/register",
        json=_registration(email=email.upper(), password=OTHER_STRONG_PASSWORD),
    )

    assert_problem(stranger, 409)
    assert count_users(db_engine) == 1
    # The first account is untouched: its own password still works, the stranger's does not.
    assert attempt_login(client, email, OTHER_STRONG_PASSWORD).status_code == 401
    login(client, email)


@pytest.mark.parametrize("email", ["not-an-email", "", "alex@", "@example.org", "a b@example.org"])
def test_register_refuses_a_bad_email(client: TestClient, db_engine: Engine, email: str) -> None:
    response = client.post(f"{AUTH}/register", json=_registration(email=email))

    problem = assert_problem(response, 422)
    assert ["body", "email"] in [e["loc"] for e in problem["errors"]]
    assert count_users(db_engine) == 0


@pytest.mark.parametrize(
    "display_name",
    ["Al\x00ex", "Al\nex", "Alex\x1b[31m", "\x7f", "", "   ", "x" * 101],
    ids=["nul", "newline", "escape", "delete", "empty", "blank", "too-long"],
)
def test_register_refuses_a_bad_display_name(
    client: TestClient, db_engine: Engine, display_name: str
) -> None:
    response = client.post(f"{AUTH}/register", json=_registration(display_name=display_name))

    problem = assert_problem(response, 422)
    assert ["body", "display_name"] in [e["loc"] for e in problem["errors"]]
    assert count_users(db_engine) == 0


@pytest.mark.parametrize(
    "display_name",
    ["Al\x85ex", "Alex\x9b31m", "Alex\u202egpj.exe"],
    ids=["nel", "csi", "right-to-left-override"],
)
def test_register_refuses_c1_control_characters_in_a_display_name(
    client: TestClient, db_engine: Engine, display_name: str
) -> None:
    response = client.post(f"{AUTH}/register", json=_registration(display_name=display_name))

    assert_problem(response, 422)
    assert count_users(db_engine) == 0


@pytest.mark.parametrize("missing", ["email", "password", "display_name"])
def test_register_needs_every_field(client: TestClient, db_engine: Engine, missing: str) -> None:
    body = _registration()
    del body[missing]

    problem = assert_problem(client.post(f"{AUTH}/register", json=body), 422)

    assert ["body", missing] in [e["loc"] for e in problem["errors"]]
    assert count_users(db_engine) == 0


def test_register_never_echoes_the_password_in_errors(client: TestClient) -> None:
    secret = "a-secret-someone-typed"
    response = client.post(
        f"{AUTH}/register",
        json={"email": "nope", "password": secret, "display_name": "Al\x00ex", "extra": secret},
    )

    assert_problem(response, 422)
    assert secret not in response.text


# --- login ------------------------------------------------------------------------------------


def test_login_opens_a_new_session(
    client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    user = register(client, email=email)
    laptop = make_client()

    response = attempt_login(laptop, email.upper(), STRONG_PASSWORD)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]
    assert response.json()["role"] == "victim"
    (header,) = set_cookie_headers(response, SESSION_COOKIE)
    assert "httponly" in _cookie_attributes(header)
    assert set_cookie_headers(response, DEVICE_COOKIE)
    assert session_token(laptop) != session_token(client)
    assert me(laptop)["id"] == user["id"]
    assert len(sessions_of(db_engine, user["id"])) == 2


def test_login_failures_look_the_same_for_unknown_email_and_wrong_password(
    client: TestClient, make_client: ClientFactory
) -> None:
    email = new_email()
    register(client, email=email)
    stranger = make_client()

    wrong_password = attempt_login(stranger, email, OTHER_STRONG_PASSWORD)
    unknown_email = attempt_login(stranger, new_email(), STRONG_PASSWORD)

    assert assert_problem(wrong_password, 401) == assert_problem(unknown_email, 401)
    for response in (wrong_password, unknown_email):
        assert not response.headers.get_list("set-cookie")
    _assert_signed_out(stranger)


def test_login_refuses_a_deactivated_account_like_any_other_failure(
    client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    register(client, email=email)
    update_user(db_engine, email, active=False)
    other = make_client()

    refused = attempt_login(other, email, STRONG_PASSWORD)
    unknown = attempt_login(other, new_email(), STRONG_PASSWORD)

    assert assert_problem(refused, 401) == assert_problem(unknown, 401)
    # Deactivation also ends the sessions the account already had.
    _assert_signed_out(client)


@pytest.mark.real_password_hashing
def test_login_rehashes_a_password_stored_with_old_parameters(
    client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    register(client, email=email)
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    old_hash = weaker.hash(STRONG_PASSWORD)
    update_user(db_engine, email, password_hash=old_hash)
    assert passwords.needs_rehash(old_hash)

    login(make_client(), email)

    stored = find_user(db_engine, email)
    assert stored is not None
    assert stored.password_hash != old_hash
    assert not passwords.needs_rehash(stored.password_hash)
    assert passwords.verify_password(stored.password_hash, STRONG_PASSWORD)


@pytest.mark.real_password_hashing
def test_login_leaves_a_current_hash_alone(
    client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    register(client, email=email)
    before = find_user(db_engine, email)
    assert before is not None

    login(make_client(), email)

    after = find_user(db_engine, email)
    assert after is not None
    assert after.password_hash == before.password_hash


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": STRONG_PASSWORD},
        {"email": "alex@example.org"},
        {"password": STRONG_PASSWORD},
        {"email": "alex@example.org", "password": ""},
        {"email": "alex@example.org", "password": "x" * 1025},
        {"email": ["alex@example.org"], "password": STRONG_PASSWORD},
    ],
    ids=["bad-email", "no-password", "no-email", "empty-password", "huge-password", "list"],
)
def test_login_refuses_bad_input(
    client: TestClient, make_client: ClientFactory, db_engine: Engine, body: dict[str, Any]
) -> None:
    user = register(client, email="alex@example.org")
    other = make_client()

    response = other.post(f"{AUTH}/login", json=body)

    assert_problem(response, 422)
    assert not response.headers.get_list("set-cookie")
    assert len(sessions_of(db_engine, user["id"])) == 1


# --- logout -----------------------------------------------------------------------------------


def test_logout_needs_a_session(client: TestClient) -> None:
    assert_problem(client.post(f"{AUTH}/logout"), 401)


def test_logout_ends_this_session_only(
    client: TestClient, make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    user = register(client, email=email)
    phone = make_client()
    login(phone, email)
    token = session_token(client)

    response = client.post(f"{AUTH}/logout")

    assert response.status_code == 204
    (cleared,) = set_cookie_headers(response, SESSION_COOKIE)
    assert "max-age=0" in cleared.lower() or "expires=thu, 01 jan 1970" in cleared.lower()
    _assert_signed_out(client)
    # The token is dead on the server, not only forgotten by this browser.
    replace_cookie(client, SESSION_COOKIE, token)
    _assert_signed_out(client)
    assert me(phone)["id"] == user["id"]
    assert len(sessions_of(db_engine, user["id"])) == 1


def test_logout_with_a_forged_token_is_refused(client: TestClient, db_engine: Engine) -> None:
    user = register(client)
    replace_cookie(client, SESSION_COOKIE, "forged-" + "A" * 40)

    assert_problem(client.post(f"{AUTH}/logout"), 401)
    assert len(sessions_of(db_engine, user["id"])) == 1


# --- me ---------------------------------------------------------------------------------------


def test_me_needs_a_session(client: TestClient) -> None:
    problem = assert_problem(client.get(f"{AUTH}/me"), 401)
    assert problem["type"].endswith("not-authenticated")


def test_me_says_who_is_signed_in(client: TestClient) -> None:
    user = register(client, display_name="Robin")

    body = me(client)

    assert body == user
    assert set(body) == {"id", "email", "display_name", "role", "organisation_id", "created_at"}


@pytest.mark.parametrize("token", ["", "garbage", "x" * 4000, "../../etc/passwd"])
def test_me_refuses_a_token_it_did_not_issue(client: TestClient, token: str) -> None:
    register(client)
    replace_cookie(client, SESSION_COOKIE, token)

    assert_problem(client.get(f"{AUTH}/me"), 401)


def test_me_refuses_a_session_idle_for_too_long(client: TestClient, db_engine: Engine) -> None:
    user = register(client)
    update_sessions(db_engine, user["id"], last_used_at=utcnow() - timedelta(minutes=31))

    assert_problem(client.get(f"{AUTH}/me"), 401)


def test_me_refuses_a_session_past_its_lifetime(client: TestClient, db_engine: Engine) -> None:
    user = register(client)
    update_sessions(db_engine, user["id"], expires_at=utcnow() - timedelta(seconds=1))

    assert_problem(client.get(f"{AUTH}/me"), 401)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_using_a_session_keeps_it_alive(client: TestClient, db_engine: Engine, method: str) -> None:
    user = register(client)
    twenty_minutes_ago = utcnow() - timedelta(minutes=20)
    update_sessions(db_engine, user["id"], last_used_at=twenty_minutes_ago)

    if method == "GET":
        me(client)
    else:
        assert client.post(f"{AUTH}/sessions/revoke-others").status_code == 200

    (stored,) = sessions_of(db_engine, user["id"])
    assert stored.last_used_at > twenty_minutes_ago + timedelta(minutes=10)
    # Fifteen more idle minutes would have ended it without that use; now they do not.
    update_sessions(db_engine, user["id"], last_used_at=utcnow() - timedelta(minutes=15))
    me(client)


# --- sessions ---------------------------------------------------------------------------------


def test_sessions_need_a_session(client: TestClient) -> None:
    assert_problem(client.get(f"{AUTH}/sessions"), 401)


def test_sessions_list_only_this_accounts_devices(make_client: ClientFactory) -> None:
    victim, stranger = make_client(), make_client()
    register(victim)
    register(stranger)

    items = list_sessions(victim)

    assert len(items) == 1
    assert items[0]["id"] not in {s["id"] for s in list_sessions(stranger)}


def test_sessions_describe_each_device_and_mark_this_one(make_client: ClientFactory) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    phone.headers["user-agent"] = ANDROID_CHROME
    laptop.headers["user-agent"] = WINDOWS_FIREFOX
    register(phone, email=email)
    login(laptop, email)

    response = laptop.get(f"{AUTH}/sessions")

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    by_device = {item["device"]: item for item in body["items"]}
    assert set(by_device) == {"Chrome Mobile on Android", "Firefox on Windows"}
    assert by_device["Firefox on Windows"]["current"] is True
    assert by_device["Chrome Mobile on Android"]["current"] is False
    for item in body["items"]:
        assert set(item) == {"id", "created_at", "last_used_at", "expires_at", "device", "current"}
        created, last_used, expires = (
            datetime.fromisoformat(item[k]) for k in ("created_at", "last_used_at", "expires_at")
        )
        assert created <= last_used < expires
    assert [s["current"] for s in list_sessions(phone)].count(True) == 1


def test_sessions_are_listed_most_recently_used_first(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    register(phone, email=email)
    login(laptop, email)
    phone_session = current_session_id(phone)
    with Session(db_engine) as db:
        stored = db.get(AuthSession, uuid.UUID(phone_session))
        assert stored is not None
        stored.last_used_at = utcnow() - timedelta(minutes=5)
        db.add(stored)
        db.commit()

    ids = [s["id"] for s in list_sessions(laptop)]

    assert ids == [current_session_id(laptop), phone_session]


def test_sessions_name_an_unrecognised_client_coarsely(client: TestClient) -> None:
    client.headers["user-agent"] = "secret-tool/1.0 (user=robin; host=home-laptop)"
    register(client)

    (item,) = list_sessions(client)

    assert "robin" not in item["device"]
    assert "home-laptop" not in item["device"]
    assert len(item["device"]) <= 100


# --- revoke one session -----------------------------------------------------------------------


def test_revoke_session_needs_a_session(client: TestClient) -> None:
    assert_problem(client.delete(f"{AUTH}/sessions/{uuid.uuid4()}"), 401)


def test_revoke_session_of_someone_else_is_not_found(make_client: ClientFactory) -> None:
    victim, stranger = make_client(), make_client()
    register(victim)
    register(stranger)
    victims_session = current_session_id(victim)

    response = stranger.delete(f"{AUTH}/sessions/{victims_session}")

    problem = assert_problem(response, 404)
    assert problem["type"].endswith("not-found")
    me(victim)
    assert victims_session in {s["id"] for s in list_sessions(victim)}


def test_revoke_session_signs_out_another_device(make_client: ClientFactory) -> None:
    email = new_email()
    phone, lost_laptop = make_client(), make_client()
    register(phone, email=email)
    login(lost_laptop, email)
    laptop_session = current_session_id(lost_laptop)

    response = phone.delete(f"{AUTH}/sessions/{laptop_session}")

    assert response.status_code == 204
    assert not set_cookie_headers(response, SESSION_COOKIE)
    _assert_signed_out(lost_laptop)
    assert [s["id"] for s in list_sessions(phone)] == [current_session_id(phone)]


def test_revoke_session_can_end_this_one(client: TestClient) -> None:
    register(client)

    response = client.delete(f"{AUTH}/sessions/{current_session_id(client)}")

    assert response.status_code == 204
    assert set_cookie_headers(response, SESSION_COOKIE)
    _assert_signed_out(client)


def test_revoke_session_refuses_bad_ids(client: TestClient, db_engine: Engine) -> None:
    user = register(client)

    assert_problem(client.delete(f"{AUTH}/sessions/not-a-uuid"), 422)
    assert_problem(client.delete(f"{AUTH}/sessions/{uuid.uuid4()}"), 404)
    assert len(sessions_of(db_engine, user["id"])) == 1
    me(client)


# --- revoke every other session ---------------------------------------------------------------


def test_revoke_others_needs_a_session(client: TestClient) -> None:
    assert_problem(client.post(f"{AUTH}/sessions/revoke-others"), 401)


def test_revoke_others_leaves_other_accounts_alone(make_client: ClientFactory) -> None:
    victim, stranger = make_client(), make_client()
    register(victim)
    register(stranger)

    response = stranger.post(f"{AUTH}/sessions/revoke-others")

    assert response.json() == {"revoked": 0}
    me(victim)


def test_revoke_others_signs_out_every_other_device(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop, tablet = make_client(), make_client(), make_client()
    user = register(phone, email=email)
    login(laptop, email)
    login(tablet, email)

    response = phone.post(f"{AUTH}/sessions/revoke-others")

    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    _assert_signed_out(laptop)
    _assert_signed_out(tablet)
    me(phone)
    assert len(sessions_of(db_engine, user["id"])) == 1
    assert phone.post(f"{AUTH}/sessions/revoke-others").json() == {"revoked": 0}


def test_revoke_others_with_a_forged_token_changes_nothing(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    user = register(phone, email=email)
    login(laptop, email)
    replace_cookie(laptop, SESSION_COOKIE, "forged")

    assert_problem(laptop.post(f"{AUTH}/sessions/revoke-others"), 401)
    assert len(sessions_of(db_engine, user["id"])) == 2


# --- change password --------------------------------------------------------------------------


def _change_password(client: TestClient, current: str, new: str) -> Any:
    return client.post(f"{AUTH}/password", json={"current_password": current, "new_password": new})


def test_change_password_needs_a_session(client: TestClient) -> None:
    assert_problem(_change_password(client, STRONG_PASSWORD, OTHER_STRONG_PASSWORD), 401)


def test_change_password_leaves_other_accounts_alone(make_client: ClientFactory) -> None:
    victim, stranger = make_client(), make_client()
    victim_email = new_email()
    register(victim, email=victim_email)
    register(stranger)

    assert _change_password(stranger, STRONG_PASSWORD, OTHER_STRONG_PASSWORD).status_code == 200

    me(victim)
    login(make_client(), victim_email, STRONG_PASSWORD)


def test_change_password_signs_out_every_other_device(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    user = register(phone, email=email)
    login(laptop, email)
    _, changed_before = _password_record(db_engine, email)

    response = _change_password(phone, STRONG_PASSWORD, OTHER_STRONG_PASSWORD)

    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 1}
    me(phone)
    _assert_signed_out(laptop)
    assert attempt_login(laptop, email, STRONG_PASSWORD).status_code == 401
    login(laptop, email, OTHER_STRONG_PASSWORD)
    _, changed_after = _password_record(db_engine, email)
    assert changed_after > changed_before
    assert len(sessions_of(db_engine, user["id"])) == 2


def test_change_password_refuses_a_wrong_current_password(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    register(phone, email=email)
    login(laptop, email)
    before = _password_record(db_engine, email)

    response = _change_password(phone, "not the password at all", OTHER_STRONG_PASSWORD)

    assert_problem(response, 403)
    assert _password_record(db_engine, email) == before
    me(laptop)
    login(make_client(), email, STRONG_PASSWORD)


@pytest.mark.parametrize(
    "new_password",
    ["short", "password1234", "robin hartley orchard", "x" * 1025, ""],
    ids=["short", "common", "own-name", "huge", "empty"],
)
def test_change_password_refuses_a_weak_new_password(
    make_client: ClientFactory, db_engine: Engine, new_password: str
) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    register(phone, email=email, display_name="Robin Hartley")
    login(laptop, email)
    before = _password_record(db_engine, email)

    response = _change_password(phone, STRONG_PASSWORD, new_password)

    assert_problem(response, 422)
    if new_password:
        assert new_password not in response.text
    assert _password_record(db_engine, email) == before
    me(laptop)


def test_change_password_needs_both_fields(client: TestClient, db_engine: Engine) -> None:
    email = new_email()
    register(client, email=email)
    before = _password_record(db_engine, email)

    response = client.post(f"{AUTH}/password", json={"new_password": OTHER_STRONG_PASSWORD})

    problem = assert_problem(response, 422)
    assert ["body", "current_password"] in [e["loc"] for e in problem["errors"]]
    assert _password_record(db_engine, email) == before
