"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from callbridge.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer 200 while the process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Answer 200 when the database answers and say how many jobs are waiting; 503 otherwise."""
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        pending = await runtime.queue.pending_count()
    except Exception as err:  # readiness must report any failure, not raise it
        return JSONResponse({"status": "unavailable", "reason": str(err)}, 503)
    return JSONResponse({"status": "ready", "pending_jobs": pending})
