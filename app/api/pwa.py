"""The built PWA at /: its files, index.html for the app's own addresses, and caching headers.

Hashed build output (/assets/*) never changes under its name, so browsers keep it for a year.
Everything else (index.html, the service worker, the manifest, icons) is revalidated on every
use, so a new release reaches phones on their next visit. Paths under /api/ never fall back to
the app: an unknown API path stays a problem+json 404.
"""

import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

INDEX = "index.html"
ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Python's table does not know the web app manifest's type.
mimetypes.add_type("application/manifest+json", ".webmanifest")


def is_app_address(path: str) -> bool:
    """An address of one of the app's screens (no file extension, not a build asset), which
    gets index.html. A missing file (/assets/gone.js, /favicon.ico) stays a 404, so a stale
    script is never answered with HTML."""
    parts = PurePosixPath(path).parts
    if not parts or parts[0] in (ASSETS, "api"):
        return False
    return "." not in parts[-1]


def cache_control(path: str) -> str:
    return IMMUTABLE if PurePosixPath(path).parts[:1] == (ASSETS,) else REVALIDATE


class PWAFiles(StaticFiles):
    """StaticFiles with the app-shell fallback and per-file caching headers."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=False)

    async def get_response(self, path: str, scope: Scope) -> Response:
        route = scope["path"]
        if route == "/api" or route.startswith("/api/"):
            raise HTTPException(status_code=404)
        if path in ("", "."):
            path = INDEX
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or not is_app_address(path):
                raise
            path = INDEX
            response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = cache_control(path)
        return response


def mount_pwa(app: FastAPI, static_dir: Path) -> None:
    """Serve the built app at / when there is one (a checkout without `make` has none)."""
    if (static_dir / INDEX).is_file():
        app.mount("/", PWAFiles(static_dir), name="pwa")
