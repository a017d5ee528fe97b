"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from callbridge.api.deps import RuntimeDep
from callbridge.storage.engine import ping

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    """The process is up."""

    status: Literal["ok"]


class Ready(BaseModel):
    """The database answers; how many jobs wait to run."""

    status: Literal["ready"]
    pending_jobs: int


class Unavailable(BaseModel):
    """The database, or the queue in it, does not answer."""

    status: Literal["unavailable"]
    reason: str


@router.get("/healthz")
async def healthz() -> Alive:
    """Answer 200 while the process is up."""
    return Alive(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Unavailable, "description": "The database does not answer"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Answer 200 when the database answers and say how many jobs are waiting; 503 otherwise."""
    try:
        await ping(runtime.engine)
        pending = await runtime.queue.pending_count()
    except Exception as err:  # readiness must report any failure, not raise it
        return JSONResponse({"status": "unavailable", "reason": str(err)}, 503)
    return JSONResponse({"status": "ready", "pending_jobs": pending})
