"""/api/v1/account: erasing the whole account."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import ClientFactory
from tests.factories.accounts import (
    OTHER_STRONG_PASSWORD,
    SESSION_COOKIE,
    STRONG_PASSWORD,
    assert_problem,
    attempt_login,
    login,
    me,
    new_email,
    register,
    set_cookie_headers,
)
from tests.factories.database import count_users, find_user, sessions_of

ACCOUNT = "/api/v1/account"


def _erase(client: TestClient, body: Any) -> Any:
    return client.request("DELETE", ACCOUNT, json=body)


def test_erase_needs_a_session(client: TestClient) -> None:
    assert_problem(_erase(client, {"password": STRONG_PASSWORD}), 401)


def test_erase_with_someone_elses_password_erases_nothing(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    victim, stranger = make_client(), make_client()
    victim_email = new_email()
    register(victim, email=victim_email, password=STRONG_PASSWORD)
    register(stranger, password=OTHER_STRONG_PASSWORD)

    # The stranger's own session with the victim's password: refused, and nobody is erased.
    assert_problem(_erase(stranger, {"password": STRONG_PASSWORD}), 403)

    assert count_users(db_engine) == 2
    me(victim)
    me(stranger)


def test_erase_removes_the_user_and_every_session(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop, bystander = make_client(), make_client(), make_client()
    user = register(phone, email=email)
    login(laptop, email)
    register(bystander)

    response = _erase(phone, {"password": STRONG_PASSWORD})

    assert response.status_code == 204
    assert response.content == b""
    assert set_cookie_headers(response, SESSION_COOKIE)
    assert find_user(db_engine, email) is None
    assert sessions_of(db_engine, user["id"]) == []
    for device in (phone, laptop):
        assert_problem(device.get("/api/v1/auth/me"), 401)
    me(bystander)
    assert count_users(db_engine) == 1


def test_erased_account_cannot_sign_in_and_its_email_is_free_again(
    client: TestClient, make_client: ClientFactory
) -> None:
    email = new_email()
    register(client, email=email)
    assert _erase(client, {"password": STRONG_PASSWORD}).status_code == 204
    other = make_client()

    erased = attempt_login(other, email, STRONG_PASSWORD)
    unknown = attempt_login(other, new_email(), STRONG_PASSWORD)

    assert assert_problem(erased, 401) == assert_problem(unknown, 401)
    register(other, email=email)
    assert me(other)["email"] == email


def test_erase_refuses_a_wrong_password_and_erases_nothing(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    email = new_email()
    phone, laptop = make_client(), make_client()
    user = register(phone, email=email)
    login(laptop, email)

    response = _erase(phone, {"password": OTHER_STRONG_PASSWORD})

    problem = assert_problem(response, 403)
    assert OTHER_STRONG_PASSWORD not in response.text
    assert problem["type"].endswith("forbidden")
    assert find_user(db_engine, email) is not None
    assert len(sessions_of(db_engine, user["id"])) == 2
    me(phone)
    me(laptop)
    login(make_client(), email)


@pytest.mark.parametrize(
    "body",
    [{}, {"password": ""}, {"password": None}, {"password": "x" * 1025}, [STRONG_PASSWORD]],
    ids=["missing", "empty", "null", "huge", "not-an-object"],
)
def test_erase_refuses_bad_input_and_erases_nothing(
    client: TestClient, db_engine: Engine, body: Any
) -> None:
    email = new_email()
    user = register(client, email=email)

    assert_problem(_erase(client, body), 422)

    assert find_user(db_engine, email) is not None
    assert len(sessions_of(db_engine, user["id"])) == 1
    me(client)


def test_erase_without_a_body_erases_nothing(client: TestClient, db_engine: Engine) -> None:
    email = new_email()
    register(client, email=email)

    assert_problem(client.delete(ACCOUNT), 422)

    assert find_user(db_engine, email) is not None
    me(client)
