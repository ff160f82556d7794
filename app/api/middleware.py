"""ASGI middleware: request logging, security headers, the same-origin check, the body cap and
admission.

Written as plain ASGI (not BaseHTTPMiddleware) so streamed uploads and downloads pass through
untouched.
"""

import json
import time
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import anyio
import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.faults import known_failure
from app.api.problems import PROBLEM_JSON, problem_type
from app.errors import ClientGone
from app.logs import get_logger

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
API_PREFIX = "/api/"
# Every JSON body fits in this many times over (the longest record is ~40,000 characters of
# text, see docs/limits.md); anything bigger is refused before it is read, let alone parsed.
BODY_LIMIT_BYTES = 256 * 1024
_BODY_CAP = "waymark.body_cap"

log = get_logger("waymark.http")


async def _send_problem(
    send: Send,
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    extra = headers or {}
    body = json.dumps(
        {
            "type": problem_type(slug or title.lower().replace(" ", "-")),
            "title": title,
            "status": status,
            "detail": detail,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *((name.lower().encode(), value.encode()) for name, value in extra.items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLogMiddleware:
    """One line per request: id, method, route template, status, duration. Nothing else.

    It wraps the app, so it also turns an exception into a problem: a failing dependency (a
    full disk, a database or store that does not answer) into its 507 or 503, a write that lost
    a race with another into a 409 (app/api/faults.py), anything else into a 500, logging the
    exception's type (and for a 500 where it was raised), never its message or arguments.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except (ClientDisconnect, ClientGone):
            status = 499  # nginx's "client closed request": nobody is left to answer
        except Exception as error:
            failure = known_failure(error)
            if failure is not None:
                event = "write_conflict" if failure.status == 409 else "dependency_failure"
                log.warning(event, error=type(error).__name__, answer=failure.status)
                if not response_started:
                    await _send_problem(
                        send_with_id,
                        failure.status,
                        failure.title,
                        failure.detail,
                        slug=failure.slug,
                        headers=failure.headers,
                    )
                return
            log.error(
                "unhandled_error",
                error=type(error).__name__,
                # The frames only: an exception's message can carry values (a database's
                # "Key (email)=(…) already exists"), and values never reach the logs.
                traceback="".join(traceback.format_tb(error.__traceback__)),
            )
            if not response_started:
                await _send_problem(
                    send_with_id,
                    500,
                    "Internal Server Error",
                    "Something went wrong on our side. Nothing was changed.",
                )
        finally:
            log.info(
                "request",
                method=scope["method"],
                route=_route_template(scope),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def _route_template(scope: Scope) -> str:
    """The matched route as written (/api/v1/incidents/{incident_id}), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    if path is None:
        return "<api-unmatched>" if scope["path"].startswith(API_PREFIX) else "<static>"
    # FastAPI keeps an included router's prefix beside the route rather than in route.path.
    included = (scope.get("fastapi") or {}).get("included_router")
    prefix = getattr(getattr(included, "include_context", None), "prefix", "")
    return f"{prefix}{path}"


def _content_security_policy() -> str:
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' blob: data:",
        "media-src": "'self' blob:",
        "connect-src": "'self'",
        "font-src": "'self'",
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PERMISSIONS_POLICY = ", ".join(
    f"{feature}={allow}"
    for feature, allow in {
        "accelerometer": "()",
        "autoplay": "()",
        "camera": "(self)",
        "display-capture": "()",
        "geolocation": "()",
        "gyroscope": "()",
        "magnetometer": "()",
        "microphone": "(self)",
        "payment": "()",
        "usb": "()",
        "browsing-topics": "()",
    }.items()
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.common: list[tuple[str, str]] = [
            ("Content-Security-Policy", _content_security_policy()),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Permissions-Policy", PERMISSIONS_POLICY),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
        ]
        if hsts:
            self.common.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith(API_PREFIX) or scope["path"] == API_PREFIX.rstrip("/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _set_all(headers, self.common)
                if is_api:
                    # A shared or seized phone must not hold copies of what the victim logged.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _set_all(headers: MutableHeaders, values: Iterable[tuple[str, str]]) -> None:
    for name, value in values:
        if name not in headers:
            headers[name] = value


class SameOriginMiddleware:
    """Refuse unsafe methods sent by a browser from another site (CSRF).

    Same origin means Sec-Fetch-Site is same-origin or none, or, where a browser sends no
    Sec-Fetch-Site, Origin equals our own origin. Clients sending neither (scripts) pass:
    they carry no ambient browser cookies to abuse.
    """

    def __init__(self, app: ASGIApp, *, public_origin: str | None) -> None:
        self.app = app
        self.public_origin = public_origin.rstrip("/") if public_origin else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and not self._allowed(scope)
        ):
            await _send_problem(
                send,
                403,
                "Cross-site request refused",
                "This request came from another site, so it was refused.",
            )
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site in ("same-origin", "none")
        origin = headers.get("origin")
        if origin is None:
            return True
        return origin.rstrip("/") in self._own_origins(scope, headers)

    def _own_origins(self, scope: Scope, headers: Headers) -> set[str]:
        own: set[str] = set()
        if self.public_origin:
            own.add(self.public_origin)
        host = headers.get("host")
        if host:
            scheme = scope.get("scheme", "http")
            default_port = {"http": ":80", "https": ":443"}.get(scheme, "")
            own.add(f"{scheme}://{host.removesuffix(default_port)}")
        return own


class AdmissionMiddleware:
    """At most `limit` requests are worked on at once; the rest wait their turn here, on the
    event loop, where waiting costs nothing.

    Why: sync handlers and dependencies each borrow a worker thread, and a request can block
    in one (waiting its turn to write to SQLite, say) while the request it waits for needs a
    thread for its next step. If every thread were taken by waiters, the request holding the
    lock could never finish. The app gives the thread pool more threads than this limit
    (see `worker_threads`), so a request in progress always finds a thread.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self._slots = anyio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)


@dataclass
class _BodyCap:
    limit: int | None  # None: the endpoint streams the body and keeps limits of its own


class _BodyTooLarge(Exception):
    pass


def lift_body_cap(scope: Scope) -> None:
    """For an endpoint that reads its body as it streams and enforces its own limits as it goes
    (an evidence upload, a tus PATCH): the general cap does not apply to it."""
    cap = scope.get(_BODY_CAP)
    if isinstance(cap, _BodyCap):
        cap.limit = None


class BodyLimitMiddleware:
    """Refuse a request body over `limit` bytes with a 413, having read no more than the limit.

    The bytes are counted as they come through the receive channel, so a chunked body or one
    whose Content-Length lies is caught as surely as one that declares its size (that one is
    refused before a byte is read). The app never sees more than the limit: FastAPI would
    otherwise read the whole body into memory before it looked at it.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = _BodyCap(self.limit)
        scope[_BODY_CAP] = cap
        declared = _declared_length(scope)
        received = 0
        refused = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused or (cap.limit is not None and declared > cap.limit):
                refused = True
                raise _BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request" and cap.limit is not None:
                received += len(message.get("body", b""))
                if received > cap.limit:
                    refused = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused and not response_started:
                return  # whatever the app made of the refusal (a 400, say) gives way to the 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused or response_started:
                raise
        if refused and not response_started:
            await _send_problem(
                send,
                413,
                "Too large",
                f"A request body can be up to {self.limit} bytes; nothing was read or saved.",
                slug="payload-too-large",
                headers={"Connection": "close"},
            )


def _declared_length(scope: Scope) -> int:
    declared = Headers(scope=scope).get("content-length", "")
    # The server has already refused a malformed Content-Length; a chunked body declares none.
    return int(declared) if declared.isascii() and declared.isdigit() else 0


def worker_threads(requests_in_progress: int) -> int:
    """Threads for the pool that runs sync code: one per request in progress (a request uses
    one at a time), plus room for streamed responses' iterators and spare."""
    return requests_in_progress + 8
