"""Registration, sign-in and the signed-in devices of an account."""

import uuid

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.api.cookies import clear_session_cookie, set_device_cookie, set_session_cookie
from app.api.deps import (
    ClientIP,
    CurrentAuthSession,
    CurrentUser,
    EndingSession,
    RuntimeDep,
    SessionDep,
)
from app.errors import Conflict
from app.models.auth_session import AuthSessionPublic
from app.models.user import Credentials, PasswordChange, Registration, User, UserPublic
from app.services import accounts, audit, auth_sessions, identities
from app.services.logins import Attempt

router = APIRouter(prefix="/auth", tags=["auth"])


class SessionList(BaseModel):
    items: list[AuthSessionPublic]
    next_cursor: str | None = None


class Revoked(BaseModel):
    revoked: int


class SignedInPublic(UserPublic):
    """Who signed in, and, if asked for, the session's proof: sent this once and never again."""

    session_proof: str | None = None


def _signed_in(db: SessionDep, user: User, token: str, *, proof: bool) -> SignedInPublic:
    # Without a proof the answer is exactly what it always was (the field is left out).
    public = identities.public_of(db, user)
    if not proof:
        return SignedInPublic.model_validate(public)
    return SignedInPublic.model_validate(
        public, update={"session_proof": auth_sessions.require_proof(db, token)}
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=SignedInPublic,
    response_model_exclude_unset=True,
)
def register(
    body: Registration,
    request: Request,
    response: Response,
    db: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> SignedInPublic:
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
        response, runtime.settings, runtime.login_guard.issue_device_cookie(body.email)
    )
    return _signed_in(db, user, token, proof=body.session_proof)


@router.post("/login", response_model=SignedInPublic, response_model_exclude_unset=True)
def login(
    body: Credentials,
    request: Request,
    response: Response,
    db: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> SignedInPublic:
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
    return _signed_in(db, signed_in.user, signed_in.session_token, proof=body.session_proof)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(current: EndingSession, db: SessionDep, runtime: RuntimeDep) -> Response:
    """End this session. The cookie alone is enough: an app that signed out offline has already
    forgotten the session's proof, and sends this first when it is back online."""
    user = current.user
    auth_sessions.revoke(db, user, current.auth_session.id)
    audit.record_own(db, user, "session.ended")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, runtime.settings)
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser, db: SessionDep) -> UserPublic:
    """Who is signed in."""
    return identities.public_of(db, user)


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
