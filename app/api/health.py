"""/health: each dependency as it is now, for a monitor to alert on (503 when any is not ok)."""

import shutil
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import Runtime, RuntimeDep
from app.db import ping
from app.storage.local import LocalBlobStore

router = APIRouter(tags=["health"])


def _disk_ok(runtime: Runtime) -> bool:
    """Whether the data folder, and a local blob store, have room above the threshold."""
    folders: list[Path] = [runtime.settings.data_dir]
    if isinstance(runtime.blob_store, LocalBlobStore):
        folders.append(runtime.blob_store.root)
    needed = runtime.settings.min_free_disk_mb * 1024 * 1024
    try:
        return all(shutil.disk_usage(folder).free >= needed for folder in folders)
    except OSError:
        return False


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    """`status` is "ok" (200) or "degraded" (503); `database`, `storage` and `redis` (only when
    WAYMARK_REDIS_URL is set) are "ok" or "error"; `disk` is "ok" or "low" (less free than
    WAYMARK_MIN_FREE_DISK_MB in the data folder or the local blob store)."""
    checks = {
        "database": "ok" if ping(runtime.engine) else "error",
        "storage": "ok" if runtime.blob_store.check() else "error",
        "disk": "ok" if _disk_ok(runtime) else "low",
    }
    if runtime.settings.redis_url:
        checks["redis"] = "ok" if runtime.throttle.ping() else "error"
    healthy = all(value == "ok" for value in checks.values())
    status = "ok" if healthy else "degraded"
    body = {"status": status, **checks, "version": runtime.settings.version}
    return JSONResponse(body, status_code=200 if healthy else 503)
