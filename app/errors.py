"""The project's own errors. Raised anywhere below the API; one handler turns them into
RFC 9457 problem details. Nothing below app/api/ raises HTTPException."""

from typing import Any, ClassVar


class ClientGone(Exception):
    """The client went away before its request's body had all arrived. The API's body streams
    (app/api/streaming.py) raise it in place of the web framework's own exception, so a service
    reading a body keeps what did arrive without knowing the framework. Nobody is left to
    answer it: it is logged as status 499."""


class DomainError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}

    @property
    def extra(self) -> dict[str, Any]:
        return {}


class NotAuthenticated(DomainError):
    status = 401
    slug = "not-authenticated"
    title = "Sign in to continue"


class LoginFailed(DomainError):
    # One message for every failure, so a stalker cannot learn whether an email has an account.
    status = 401
    slug = "login-failed"
    title = "Email or password is not right"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class ConcurrentWrite(Conflict):
    """Another request wrote the same row first (two amendments of one record at one revision,
    or one client id created twice at once): this request's transaction was rolled back whole,
    so the winner's change stands and nothing of this one was saved."""

    slug = "concurrent-write"
    title = "This was changed at the same moment by another request; nothing was saved"

    def __init__(self) -> None:
        super().__init__("Load it again to see what was saved, then make the change again.")


class PayloadTooLarge(DomainError):
    status = 413
    slug = "payload-too-large"
    title = "Too large"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = "This kind of file is not accepted"


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule (a weak password, say)."""

    status = 422
    slug = "invalid-input"
    title = "Some of what was sent is not valid"

    def __init__(self, detail: str, *, field: str | None = None, where: str = "body"):
        super().__init__(detail)
        self.field = field
        self.where = where  # "body" or "query", as in FastAPI's own validation errors

    @property
    def extra(self) -> dict[str, Any]:
        loc = [self.where, self.field] if self.field else [self.where]
        return {"errors": [{"loc": loc, "msg": self.detail, "type": "value_error"}]}


class ChecksumMismatch(DomainError):
    status = 422
    slug = "checksum-mismatch"
    title = "The file did not arrive intact"


class TooManyRequests(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "Too many attempts; wait a little and try again"

    def __init__(self, retry_after: int):
        super().__init__(
            f"Try again in {retry_after} seconds.", headers={"Retry-After": str(retry_after)}
        )
        self.retry_after = retry_after


class DatabaseBusy(DomainError):
    """Every writer waited its turn and this one's wait ran out: nothing was written, and the
    same request can be sent again."""

    status = 503
    slug = "busy"
    title = "The server is busy; nothing was saved, try again in a moment"

    def __init__(self, retry_after: int = 5):
        super().__init__(headers={"Retry-After": str(retry_after)})


class OutOfSpace(DomainError):
    """A disk (the blob store, staging, the database's) is full: the write was undone."""

    status = 507
    slug = "out-of-space"
    title = "The server is out of space; nothing was saved"


class Unavailable(DomainError):
    """A dependency (the database, the blob store, Redis) did not answer: nothing that was
    not already acknowledged was changed, and the same request can be sent again later."""

    status = 503
    slug = "unavailable"
    title = "The server cannot reach part of itself; try again in a moment"

    def __init__(self, dependency: str, retry_after: int = 10):
        # `dependency` is a fixed phrase ("The database"), never a value.
        super().__init__(
            f"{dependency} is not answering. Nothing new was saved; try again shortly.",
            headers={"Retry-After": str(retry_after)},
        )
        self.dependency = dependency
