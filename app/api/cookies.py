"""The session and device cookies: HttpOnly, SameSite=Strict, Secure and __Host- in production."""

from datetime import timedelta

from fastapi import Response

from app.config import Settings

DEVICE_COOKIE_LIFETIME = timedelta(days=180)


def set_session_cookie(
    response: Response, settings: Settings, token: str, max_age: timedelta
) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=int(max_age.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
    )


def set_device_cookie(response: Response, settings: Settings, value: str) -> None:
    response.set_cookie(
        settings.device_cookie_name,
        value,
        max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
    )
