from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep
from app.db import ping

router = APIRouter(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    """Whether the database and the blob store answer."""
    database = ping(runtime.engine)
    storage = runtime.blob_store.check()
    body = {
        "status": "ok" if database and storage else "degraded",
        "database": "ok" if database else "error",
        "storage": "ok" if storage else "error",
        "version": runtime.settings.version,
    }
    return JSONResponse(body, status_code=200 if database and storage else 503)
