"""Registration, sign-in and the signed-in devices of an account."""

import uuid

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.api.cookies import clear_session_cookie, set_device_cookie, set_session_cookie
from app.api.deps import (
    ClientIP,
    CurrentAuthSession,
    CurrentUser,
    RuntimeDep,
    SessionDep,
)
from app.errors import Conflict
from app.models.auth_session import AuthSessionPublic
from app.models.user import Credentials, PasswordChange, Registration, UserPublic
from app.services import accounts, audit, auth_sessions
from app.services.logins import Attempt

router = APIRouter(prefix="/auth", tags=["auth"])


class SessionList(BaseModel):
    items: list[AuthSessionPublic]
    next_cursor: str | None = None


class Revoked(BaseModel):
    revoked: int


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def register(
    body: Registration,
    request: Request,
    response: Response,
    db: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> UserPublic:
    """Create a victim's account and sign in."""
    runtime.login_guard.guard_registration(ip)
    try:
        user = accounts.register(db, body)
    except Conflict:
        runtime.login_guard.registration_refused(ip)
        raise
    token = auth_sessions.start(db, user, request.headers.get("user-agent"), runtime.lifetimes)
    set_session_cookie(response, runtime.settings, token, runtime.lifetimes.absolute)
    set_device_cookie(
        response, runtime.settings, runtime.login_guard.issue_device_cookie(user.email)
    )
    return UserPublic.model_validate(user)


@router.post("/login", response_model=UserPublic)
def login(
    body: Credentials,
    request: Request,
    response: Response,
    db: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> UserPublic:
    """Sign in. Any failure gets the same 401; repeated failures get 429 with Retry-After."""
    signed_in = runtime.login_guard.sign_in(
        db,
        Attempt(
            email=body.email,
            password=body.password,
            client_ip=ip,
            device_cookie=request.cookies.get(runtime.settings.device_cookie_name),
            user_agent=request.headers.get("user-agent"),
        ),
        runtime.lifetimes,
    )
    set_session_cookie(
        response, runtime.settings, signed_in.session_token, runtime.lifetimes.absolute
    )
    set_device_cookie(response, runtime.settings, signed_in.device_cookie)
    return UserPublic.model_validate(signed_in.user)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    user: CurrentUser, current: CurrentAuthSession, db: SessionDep, runtime: RuntimeDep
) -> Response:
    """End this session."""
    auth_sessions.revoke(db, user, current.id)
    audit.record_own(db, user, "session.ended")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, runtime.settings)
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    """Who is signed in."""
    return UserPublic.model_validate(user)


@router.get("/sessions", response_model=SessionList)
def list_sessions(user: CurrentUser, current: CurrentAuthSession, db: SessionDep) -> SessionList:
    """Every device signed in to this account, most recently used first."""
    return SessionList(
        items=[
            AuthSessionPublic.model_validate(s, update={"current": s.id == current.id})
            for s in auth_sessions.list_for(db, user)
        ]
    )


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_session(
    session_id: uuid.UUID,
    user: CurrentUser,
    current: CurrentAuthSession,
    db: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """Sign out one device."""
    auth_sessions.revoke(db, user, session_id)
    audit.record_own(db, user, "session.ended" if session_id == current.id else "session.revoked")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if session_id == current.id:
        clear_session_cookie(response, runtime.settings)
    return response


@router.post("/sessions/revoke-others", response_model=Revoked)
def revoke_other_sessions(
    user: CurrentUser, current: CurrentAuthSession, db: SessionDep
) -> Revoked:
    """Sign out every device except this one."""
    revoked = auth_sessions.revoke_all(db, user, except_id=current.id)
    if revoked:
        audit.record_own(db, user, "session.revoked")
    return Revoked(revoked=revoked)


@router.post("/password", response_model=Revoked)
def change_password(
    body: PasswordChange,
    user: CurrentUser,
    current: CurrentAuthSession,
    db: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Revoked:
    """Change the password; every other device is signed out."""
    revoked = runtime.login_guard.reconfirm(
        user,
        ip,
        lambda: accounts.change_password(
            db,
            user,
            current=body.current_password,
            new=body.new_password,
            keep_session_id=current.id,
        ),
    )
    return Revoked(revoked=revoked)
