"""The `waymark` command: organisations and their staff come from here, never from the API."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from app.cli import main
from app.config import Settings
from tests.factories.accounts import (
    STRONG_PASSWORD,
    assert_problem,
    attempt_login,
    login,
    new_email,
)
from tests.factories.database import count_users, find_user

COMMANDS = [
    [],
    ["serve"],
    ["migrate"],
    ["org"],
    ["org", "create"],
    ["advocate"],
    ["advocate", "create"],
    ["admin"],
    ["admin", "create"],
]


@pytest.fixture
def waymark(client: TestClient, settings: Settings, database_url: str) -> CliRunner:
    """The command, pointed at this test's data folder and database.

    It depends on `client` so that the app fixture empties the tables afterwards.
    """
    return CliRunner(
        env={
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_DATA_DIR": str(settings.data_dir),
            "WAYMARK_DATABASE_URL": database_url,
        }
    )


def _run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(main, list(args), input=stdin)


def _create_org(runner: CliRunner, name: str = "Crossroads") -> str:
    """Create an organisation; returns its id, as the command prints it."""
    result = _run(runner, "org", "create", name)
    assert result.exit_code == 0, result.output
    ids: list[str] = re.findall(r"\(([0-9a-f-]{36})\)", result.stdout)
    (organisation_id,) = ids
    return organisation_id


def _create_staff(
    runner: CliRunner,
    role: str,
    email: str,
    *,
    org: str = "Crossroads",
    name: str = "Sam Okafor",
    password: str | None = STRONG_PASSWORD,
) -> Result:
    args = [role, "create", "--org", org, "--email", email, "--name", name]
    if password is None:
        return _run(runner, *args)
    return _run(runner, *args, "--password-stdin", stdin=password + "\n")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "waymark")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])

    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_advocate_create_help_explains_the_password(waymark: CliRunner) -> None:
    result = _run(waymark, "advocate", "create", "--help")

    for option in ("--org", "--email", "--name", "--password-stdin"):
        assert option in result.output


def test_migrate_brings_the_database_up_to_date(waymark: CliRunner) -> None:
    result = _run(waymark, "migrate")

    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


# --- organisations ----------------------------------------------------------------------------


def test_org_create(waymark: CliRunner) -> None:
    result = _run(waymark, "org", "create", "  Crossroads Advocacy  ")

    assert result.exit_code == 0, result.output
    assert "Crossroads Advocacy" in result.stdout


def test_org_create_refuses_a_duplicate(waymark: CliRunner) -> None:
    _create_org(waymark)

    result = _run(waymark, "org", "create", "Crossroads")

    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_org_create_refuses_an_empty_name(waymark: CliRunner) -> None:
    result = _run(waymark, "org", "create", "   ")

    assert result.exit_code == 2
    assert "empty" in result.stderr


# --- advocates and admins ---------------------------------------------------------------------


def test_advocate_with_a_password_from_stdin_can_sign_in(
    waymark: CliRunner, client: TestClient, db_engine: Engine
) -> None:
    organisation_id = _create_org(waymark)
    email = new_email()

    result = _create_staff(waymark, "advocate", email)

    assert result.exit_code == 0, result.output
    assert STRONG_PASSWORD not in result.output
    user = login(client, email, STRONG_PASSWORD)
    assert user["role"] == "advocate"
    assert user["display_name"] == "Sam Okafor"
    assert user["organisation_id"] == organisation_id
    assert user["id"] in result.stdout
    assert count_users(db_engine) == 1


def test_advocate_with_a_generated_password_sees_it_once_and_it_works(
    waymark: CliRunner, client: TestClient
) -> None:
    _create_org(waymark)
    email = new_email()

    result = _create_staff(waymark, "advocate", email, password=None)

    assert result.exit_code == 0, result.output
    shown = re.findall(r"password \(shown once[^)]*\): (\S+)", result.stdout)
    assert len(shown) == 1
    (password,) = shown
    assert len(password) >= 20
    assert result.stdout.count(password) == 1
    assert login(client, email, password)["role"] == "advocate"


def test_generated_passwords_differ(waymark: CliRunner) -> None:
    _create_org(waymark)
    outputs = [_create_staff(waymark, "advocate", new_email(), password=None) for _ in range(2)]

    first, second = (re.findall(r"shown once[^)]*\): (\S+)", o.stdout)[0] for o in outputs)
    assert first != second


def test_admin_create(waymark: CliRunner, client: TestClient) -> None:
    _create_org(waymark)
    email = new_email()

    result = _create_staff(waymark, "admin", email, name="Jo Admin")

    assert result.exit_code == 0, result.output
    assert login(client, email)["role"] == "admin"


def test_staff_for_an_unknown_org_is_refused(
    waymark: CliRunner, client: TestClient, db_engine: Engine
) -> None:
    email = new_email()

    result = _create_staff(waymark, "advocate", email, org="Nowhere")

    assert result.exit_code == 1
    assert "no organisation" in result.stderr
    assert find_user(db_engine, email) is None
    assert_problem(attempt_login(client, email, STRONG_PASSWORD), 401)


def test_staff_with_a_taken_email_is_refused(waymark: CliRunner, db_engine: Engine) -> None:
    _create_org(waymark)
    email = new_email()
    assert _create_staff(waymark, "advocate", email).exit_code == 0

    result = _create_staff(waymark, "admin", email)

    assert result.exit_code == 1
    assert count_users(db_engine) == 1


@pytest.mark.parametrize(
    "password", ["short", "password1234", "sam okafor lantern"], ids=["short", "common", "name"]
)
def test_staff_with_a_weak_password_is_refused(
    waymark: CliRunner, db_engine: Engine, password: str
) -> None:
    _create_org(waymark)
    email = new_email()

    result = _create_staff(waymark, "advocate", email, password=password)

    assert result.exit_code == 1
    assert password not in result.output
    assert find_user(db_engine, email) is None


def test_staff_with_a_bad_email_is_refused(waymark: CliRunner, db_engine: Engine) -> None:
    _create_org(waymark)

    result = _create_staff(waymark, "advocate", "not-an-email")

    assert result.exit_code == 2
    assert "not a valid email" in result.stderr
    assert count_users(db_engine) == 0


def test_staff_emails_are_stored_lower_case(waymark: CliRunner, client: TestClient) -> None:
    _create_org(waymark)

    assert _create_staff(waymark, "advocate", "Sam.Okafor@Example.ORG").exit_code == 0

    assert login(client, "sam.okafor@example.org")["email"] == "sam.okafor@example.org"


# --- settings ---------------------------------------------------------------------------------


def test_production_without_keys_refuses_with_a_message(tmp_path: Path) -> None:
    runner = CliRunner(
        env={
            "WAYMARK_ENVIRONMENT": "production",
            "WAYMARK_DATA_DIR": str(tmp_path),
            "WAYMARK_PUBLIC_URL": "https://waymark.example",
            "WAYMARK_MASTER_KEY": None,
            "WAYMARK_SECRET_KEY": None,
            "WAYMARK_SIGNING_KEY": None,
        }
    )

    result = runner.invoke(main, ["migrate"])

    assert result.exit_code == 2
    assert "WAYMARK_MASTER_KEY" in result.stderr
    assert "Traceback" not in result.output
