"""Dependencies every router shares: the runtime, the request's transaction, who is asking."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from app.api.client_address import client_address
from app.api.faults import dependency_failure
from app.api.middleware import SAFE_METHODS
from app.config import Settings
from app.db import transaction
from app.errors import Forbidden, NotAuthenticated, OutOfSpace
from app.keys import Keys
from app.logs import get_logger
from app.models.auth_session import AuthSession
from app.models.user import Role, User
from app.services import auth_sessions
from app.services.evidence import Limits
from app.services.logins import LoginGuard
from app.storage import BlobStore
from app.throttle import Throttle

log = get_logger("waymark.auth")


@dataclass
class Runtime:
    """What one server process holds for its whole life."""

    settings: Settings
    keys: Keys
    engine: Engine
    throttle: Throttle
    login_guard: LoginGuard
    blob_store: BlobStore
    lifetimes: auth_sessions.Lifetimes
    evidence_limits: Limits


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def writes_on_read(request: Request) -> None:
    """For routers whose reads write too (an advocate's every look is audited): take the write
    lock up front, as an unsafe method would."""
    request.state.writes = True


def _writes(request: Request) -> bool:
    return request.method not in SAFE_METHODS or getattr(request.state, "writes", False)


def get_db(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    # scope="function" below: the commit happens before the response is sent, so a failed
    # commit is an error response, never a success for work that was lost.
    with transaction(runtime.engine, writes=_writes(request)) as db:
        yield db


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def get_signed_in(request: Request, db: SessionDep, runtime: RuntimeDep) -> auth_sessions.Resolved:
    return _sign_in(request, db, runtime, db_writes=_writes(request))


def get_ending_session(
    request: Request, db: SessionDep, runtime: RuntimeDep
) -> auth_sessions.Resolved:
    """The session this request's cookie belongs to, only to end it: the cookie alone is enough
    (no proof), because ending a session reveals nothing and the app may have already forgotten
    the proof when it signed out offline."""
    token = request.cookies.get(runtime.settings.session_cookie_name)
    resolved = (
        auth_sessions.resolve(db, token, runtime.lifetimes, None, ending=True) if token else None
    )
    if resolved is None:
        raise NotAuthenticated()
    return resolved


EndingSession = Annotated[auth_sessions.Resolved, Depends(get_ending_session)]


def _sign_in(
    request: Request, db: Session, runtime: Runtime, *, db_writes: bool
) -> auth_sessions.Resolved:
    token = request.cookies.get(runtime.settings.session_cookie_name)
    proof = request.headers.get(auth_sessions.PROOF_HEADER)
    resolved = auth_sessions.resolve(db, token, runtime.lifetimes, proof) if token else None
    if resolved is None:
        raise NotAuthenticated()
    if auth_sessions.touch_due(resolved.auth_session):
        if db_writes:
            auth_sessions.touch(db, resolved.auth_session)
        else:
            # A read transaction must not start writing: on SQLite it can fail outright when
            # another writer got in first. The touch is bookkeeping, so it commits on its own;
            # the read transaction (nothing written yet) is ended first so that a request
            # never holds two connections at once.
            db.commit()
            try:
                with transaction(runtime.engine, writes=True) as own:
                    auth_sessions.touch(own, resolved.auth_session)
            except Exception as error:
                # On a full disk a read still works: the session's last-seen time (which only
                # moves its idle expiry on) is left as it was, and touched on a later request.
                if not isinstance(dependency_failure(error), OutOfSpace):
                    raise
                log.warning("session_touch_skipped", reason="out-of-space")
    return resolved


SignedInDep = Annotated[auth_sessions.Resolved, Depends(get_signed_in)]


# The dependencies below only look at what is already loaded, so they are coroutines: FastAPI
# runs them on the event loop instead of sending each to a worker thread and back.
async def get_current_user(signed_in: SignedInDep) -> User:
    return signed_in.user


async def get_current_auth_session(signed_in: SignedInDep) -> AuthSession:
    return signed_in.auth_session


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_victim(user: CurrentUser) -> User:
    return _victim_only(user)


def _victim_only(user: User) -> User:
    # A role check, not an object check: it says nothing about anyone's records.
    if user.role != Role.victim:
        raise Forbidden("Only the person keeping this log can do this.")
    return user


CurrentVictim = Annotated[User, Depends(get_current_victim)]


async def get_current_advocate(user: CurrentUser) -> User:
    if user.role != Role.advocate:
        raise Forbidden("Only advocates can do this.")
    return user


CurrentAdvocate = Annotated[User, Depends(get_current_advocate)]


async def get_current_admin(user: CurrentUser) -> User:
    if user.role != Role.admin:
        raise Forbidden("Only an organisation's admins can do this.")
    return user


CurrentAdmin = Annotated[User, Depends(get_current_admin)]


def get_streaming_victim(request: Request, runtime: RuntimeDep) -> User:
    """The signed-in victim, for endpoints that stream a body: found in a short transaction of
    its own, so no database transaction stays open while a large file arrives."""
    with transaction(runtime.engine, writes=False) as db:
        resolved = _sign_in(request, db, runtime, db_writes=False)
    return _victim_only(resolved.user)


StreamingVictim = Annotated[User, Depends(get_streaming_victim)]
CurrentAuthSession = Annotated[AuthSession, Depends(get_current_auth_session)]


async def client_ip(request: Request, runtime: RuntimeDep) -> str:
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        runtime.settings.trusted_proxy_networks,
    )


ClientIP = Annotated[str, Depends(client_ip)]
