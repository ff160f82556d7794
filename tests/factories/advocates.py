"""Advocates are made by the CLI, never by self-registration; tests make them the same way,
through the accounts service on the app's own engine."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.organisation import Organisation
from app.models.user import Role
from app.services import accounts
from tests.factories.accounts import STRONG_PASSWORD, login, new_email


def create_advocate(app: FastAPI, *, organisation: str = "Crossroads Support") -> str:
    """An advocate at a new organisation; returns their email."""
    email = new_email()
    with Session(app.state.runtime.engine) as db:
        org = Organisation(name=f"{organisation} {email}")
        db.add(org)
        db.flush()
        accounts.create(
            db,
            email=email,
            password=STRONG_PASSWORD,
            display_name="Sam",
            role=Role.advocate,
            organisation_id=org.id,
        )
        db.commit()
    return email


def sign_in_advocate(app: FastAPI, client: TestClient) -> None:
    login(client, create_advocate(app))
