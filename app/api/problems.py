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
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status HTTPStatus does not know, such as tus's 460
        phrase = "Error"
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


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def install_problem_openapi(app: FastAPI) -> None:
    """Say in the OpenAPI document what every error really is: problem+json, for any status
    (a "default" response), in place of FastAPI's plain-JSON validation error."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        problem_response = {
            "description": "A problem (RFC 9457).",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["default"] = problem_response
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
