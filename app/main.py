"""The FastAPI application: the JSON API under /api/v1 and the PWA under /."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio.to_thread
from fastapi import FastAPI

from app.api import (
    account,
    audit,
    auth,
    cases,
    evidence,
    exports,
    health,
    impact_notes,
    incidents,
    invitations,
    org,
    police_reports,
    shares,
    timeline,
    uploads,
)
from app.api.deps import Runtime
from app.api.middleware import (
    BODY_LIMIT_BYTES,
    AdmissionMiddleware,
    BodyLimitMiddleware,
    RequestLogMiddleware,
    SameOriginMiddleware,
    SecurityHeadersMiddleware,
    worker_threads,
)
from app.api.problems import install_problem_handlers, install_problem_openapi
from app.api.pwa import mount_pwa
from app.config import Settings
from app.db import make_engine
from app.keys import load_keys
from app.logs import configure_logging
from app.services import passwords, sealing
from app.services.auth_sessions import Lifetimes
from app.services.evidence import Limits
from app.services.logins import LoginGuard
from app.storage.stores import open_blob_store
from app.throttle import MemoryThrottle, RedisThrottle, Throttle

API_PREFIX = "/api/v1"


def build_runtime(settings: Settings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = load_keys(settings)
    passwords.use(settings.password_hashing)
    throttle: Throttle = (
        RedisThrottle.from_url(settings.redis_url) if settings.redis_url else MemoryThrottle()
    )
    engine = make_engine(settings.resolved_database_url)
    sealing.register_keys(engine, keys)
    return Runtime(
        settings=settings,
        keys=keys,
        engine=engine,
        throttle=throttle,
        login_guard=LoginGuard(throttle, keys.secret_key),
        blob_store=open_blob_store(settings.resolved_storage_url),
        lifetimes=Lifetimes(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        ),
        evidence_limits=Limits(
            max_file_bytes=settings.max_upload_bytes, quota_bytes=settings.user_quota_bytes
        ),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = worker_threads(settings.requests_in_progress)
        yield
        runtime.engine.dispose()

    app = FastAPI(
        title="Waymark",
        version=settings.version,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the bundled docs page loads scripts from a CDN, which our CSP forbids
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_problem_openapi(app)

    for module in (
        health,
        auth,
        account,
        incidents,
        impact_notes,
        police_reports,
        evidence,
        uploads,
        timeline,
        audit,
        invitations,
        shares,
        cases,
        org,
        exports,
    ):
        app.include_router(module.router, prefix=API_PREFIX)

    mount_pwa(app, settings.static_dir)

    # Starlette wraps in reverse order: the last added is the outermost.
    app.add_middleware(AdmissionMiddleware, limit=settings.requests_in_progress)
    app.add_middleware(BodyLimitMiddleware, limit=BODY_LIMIT_BYTES)
    app.add_middleware(SameOriginMiddleware, public_origin=settings.public_url)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    return app
