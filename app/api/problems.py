"""Every error as RFC 9457 problem details (application/problem+json)."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import DomainError

PROBLEM_JSON = "application/problem+json"


def problem_type(slug: str) -> str:
    return f"urn:waymark:problem:{slug}"


def problem(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": problem_type(slug or phrase.lower().replace(" ", "-")),
        "title": title or phrase,
        "status": status,
        "detail": detail or title or phrase,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _validation_errors(
    error: RequestValidationError | ValidationError, prefix: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    # Never echo the input back: it may be a password or something the victim wrote.
    return [
        {
            "loc": [*prefix, *e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in error.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, error: DomainError) -> JSONResponse:
        return problem(
            error.status,
            slug=error.slug,
            title=error.title,
            detail=error.detail,
            headers=error.headers,
            **error.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            slug="invalid-input",
            title="Some of what was sent is not valid",
            detail="Check the fields listed in errors.",
            errors=_validation_errors(error),
        )

    @app.exception_handler(ValidationError)
    async def _merged_validation(_request: Request, error: ValidationError) -> JSONResponse:
        # A PATCH merged with the stored record no longer validates (e.g. a required field
        # sent as null): the same 422 as any other invalid body.
        return problem(
            422,
            slug="invalid-input",
            title="Some of what was sent is not valid",
            detail="Check the fields listed in errors.",
            errors=_validation_errors(error, ("body",)),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(error.status_code).phrase
        detail = error.detail if isinstance(error.detail, str) else phrase
        return problem(error.status_code, detail=detail, headers=error.headers)
