"""Typed look-ups of what the API stored, straight from the test database."""

import uuid
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select, update

from app.models.auth_session import AuthSession
from app.models.user import User
from app.services import identities


def find_user(engine: Engine, email: str) -> User | None:
    """By the account's lookup, as sign-in finds it (the engine has the app's keys)."""
    with Session(engine) as db:
        return identities.find_by_email(db, email)


def count_users(engine: Engine) -> int:
    with Session(engine) as db:
        return len(db.exec(select(User.id)).all())


def sessions_of(engine: Engine, user_id: uuid.UUID | str) -> list[AuthSession]:
    with Session(engine) as db:
        return list(
            db.exec(select(AuthSession).where(AuthSession.user_id == uuid.UUID(str(user_id)))).all()
        )


def update_user(engine: Engine, email: str, **values: Any) -> None:
    with Session(engine) as db:
        user = identities.find_by_email(db, email)
        assert user is not None, "no account with this email"
        db.exec(update(User).where(col(User.id) == user.id).values(**values))
        db.commit()


def update_sessions(engine: Engine, user_id: uuid.UUID | str, **values: Any) -> None:
    with Session(engine) as db:
        db.exec(
            update(AuthSession)
            .where(col(AuthSession.user_id) == uuid.UUID(str(user_id)))
            .values(**values)
        )
        db.commit()
