"""The built PWA at /: its files, index.html for the app's own addresses, and caching headers.

Hashed build output (/assets/*) never changes under its name, so browsers keep it for a year.
Everything else (index.html, the service worker, the manifest, icons) is revalidated on every
use, so a new release reaches phones on their next visit. Paths under /api/ never fall back to
the app: an unknown API path stays a problem+json 404.

The build precompresses every text file (NAME.br, NAME.gz, frontend/scripts/compress.mjs); a
browser that accepts brotli or gzip gets that file instead, with its own length and ETag.
"""

import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

INDEX = "index.html"
ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Best first: brotli is about a fifth smaller than gzip for the app's JavaScript.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))

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


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (RFC 9110 12.5.3): listed without
    q=0, or covered by a `*` that is not q=0."""
    allowed: set[str] = set()
    refused: set[str] = set()
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        (allowed if quality > 0 else refused).add(name)
    if "*" in allowed:
        allowed |= {coding for coding, _ in ENCODINGS} - refused
    return allowed


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
        if response.status_code == 200:
            response = self._precompressed(path, scope) or response
        response.headers["Cache-Control"] = cache_control(path)
        return response

    def _precompressed(self, path: str, scope: Scope) -> Response | None:
        """The file's .br or .gz twin, when the build made one and the browser accepts it."""
        full_path, stat_result = self.lookup_path(path)
        if stat_result is None or not Path(f"{full_path}.br").exists():
            return None
        accepted = accepted_encodings(Headers(scope=scope).get("accept-encoding", ""))
        for coding, suffix in ENCODINGS:
            twin, twin_stat = self.lookup_path(path + suffix)
            if coding in accepted and twin_stat is not None:
                response = self.file_response(twin, twin_stat, scope)
                if response.status_code == 200:
                    response.media_type = None
                    response.headers["Content-Type"] = _media_type(path)
                    response.headers["Content-Encoding"] = coding
                response.headers["Vary"] = "Accept-Encoding"
                return response
        identity = self.file_response(full_path, stat_result, scope)
        identity.headers["Vary"] = "Accept-Encoding"
        return identity


def _media_type(path: str) -> str:
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def mount_pwa(app: FastAPI, static_dir: Path) -> None:
    """Serve the built app at / when there is one (a checkout without `make` has none)."""
    if (static_dir / INDEX).is_file():
        app.mount("/", PWAFiles(static_dir), name="pwa")
