"""Fuzzing from the API's own OpenAPI document (schemathesis): signed in as a victim with a
populated log, and as an advocate with a shared case, no generated request may cause a server
error, and every response must match the documented schema.

`make test` runs a bounded number of examples per operation; `make fuzz` runs many more
(WAYMARK_FUZZ_EXAMPLES)."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ClientFactory
from tests.test_authorization_matrix import build_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("WAYMARK_FUZZ_EXAMPLES", "12"))


@pytest.fixture
def fuzz_world(app: FastAPI, make_client: ClientFactory) -> Iterator[dict[str, TestClient]]:
    world = build_world(app, make_client)
    yield world.clients


SESSION_ENDING = ("/api/v1/account", "/api/v1/auth/logout", "/api/v1/auth/sessions/revoke-others")


def _fuzz_every_operation(app: FastAPI, client: TestClient) -> None:
    # schemathesis's pytest plugin does not run under this pytest yet, so the operations are
    # walked here and each gets its own bounded Hypothesis run.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    cookies = {name: value for name, value in client.cookies.items()}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken: say how
        operation = result.ok()
        if operation.path in SESSION_ENDING:
            continue  # they end the session under test; covered by their own tests

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case[Any]) -> None:
            # No 5xx, and every response as documented. Semantic refusals of schema-valid input
            # (a guessable password, someone else's id) are correct, so no positive-data check.
            case.call_and_validate(cookies=cookies, checks=CHECKS)

        run()


def test_fuzz_as_a_victim(app: FastAPI, fuzz_world: dict[str, TestClient]) -> None:
    _fuzz_every_operation(app, fuzz_world["owner"])


def test_fuzz_as_an_advocate(app: FastAPI, fuzz_world: dict[str, TestClient]) -> None:
    _fuzz_every_operation(app, fuzz_world["shared_advocate"])
