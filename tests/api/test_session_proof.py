"""Sessions with a second secret (the app's): the cookie alone opens nothing, ending it is allowed.

The app asks for a proof at sign-in and forgets it on sign-out, even with no signal. Someone who
then picks up the phone has the browser's cookie but not the proof, so the account stays shut
(docs/security.md). Sessions made without a proof (scripts, older clients) are unchanged.
"""

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.factories.accounts import (
    SESSION_COOKIE,
    STRONG_PASSWORD,
    assert_problem,
    me,
    new_email,
    register,
    replace_cookie,
    session_token,
)
from tests.factories.database import sessions_of

AUTH = "/api/v1/auth"
PROOF = "Session-Proof"


def _register_with_proof(client: TestClient) -> dict[str, Any]:
    response = client.post(
        f"{AUTH}/register",
        json={
            "email": new_email(),
            "password": STRONG_PASSWORD,
            "display_name": "Lee",
            "session_proof": True,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _login_with_proof(client: TestClient, email: str) -> dict[str, Any]:
    response = client.post(
        f"{AUTH}/login", json={"email": email, "password": STRONG_PASSWORD, "session_proof": True}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_cookie_alone_opens_nothing_of_a_session_with_a_proof(client: TestClient) -> None:
    user = _register_with_proof(client)
    proof = user["session_proof"]
    assert len(proof) >= 43

    assert_problem(client.get(f"{AUTH}/me"), 401)
    assert_problem(client.get("/api/v1/timeline"), 401)
    assert_problem(client.post("/api/v1/incidents", json={}), 401)
    assert_problem(client.get(f"{AUTH}/me", headers={PROOF: "wrong" + proof[5:]}), 401)
    assert_problem(client.get(f"{AUTH}/me", headers={PROOF: ""}), 401)

    answer = client.get(f"{AUTH}/me", headers={PROOF: proof})
    assert answer.status_code == 200
    assert answer.json()["id"] == user["id"]
    assert "session_proof" not in answer.json()


def test_only_a_hash_of_the_proof_is_kept(client: TestClient, db_engine: Engine) -> None:
    user = _register_with_proof(client)

    (stored,) = sessions_of(db_engine, user["id"])
    assert stored.proof_hash == hashlib.sha256(user["session_proof"].encode()).hexdigest()
    assert user["session_proof"] not in stored.model_dump_json()


def test_a_proof_belongs_to_its_own_session(client: TestClient, make_client: Any) -> None:
    first = _register_with_proof(client)
    other = make_client()
    second = _login_with_proof(other, first["email"])
    assert second["session_proof"] != first["session_proof"]

    assert_problem(client.get(f"{AUTH}/me", headers={PROOF: second["session_proof"]}), 401)
    assert other.get(f"{AUTH}/me", headers={PROOF: second["session_proof"]}).status_code == 200


def test_signing_out_with_the_cookie_alone_ends_the_session_for_good(
    client: TestClient, db_engine: Engine
) -> None:
    user = _register_with_proof(client)
    token = session_token(client)

    response = client.post(f"{AUTH}/logout")

    assert response.status_code == 204
    assert sessions_of(db_engine, user["id"]) == []
    replace_cookie(client, SESSION_COOKIE, token)
    assert_problem(client.get(f"{AUTH}/me", headers={PROOF: user["session_proof"]}), 401)
    assert_problem(client.post(f"{AUTH}/logout"), 401)


def test_sessions_without_a_proof_work_with_the_cookie_as_before(client: TestClient) -> None:
    user = register(client)

    assert "session_proof" not in user
    assert me(client)["id"] == user["id"]
    # A proof header on a session that has none changes nothing.
    assert client.get(f"{AUTH}/me", headers={PROOF: "anything"}).status_code == 200


@pytest.mark.parametrize("value", ["yes please", 2, None])
def test_session_proof_must_be_a_boolean(client: TestClient, value: object) -> None:
    response = client.post(
        f"{AUTH}/register",
        json={
            "email": new_email(),
            "password": STRONG_PASSWORD,
            "display_name": "Lee",
            "session_proof": value,
        },
    )
    assert_problem(response, 422)
    assert_problem(client.get(f"{AUTH}/me"), 401)
