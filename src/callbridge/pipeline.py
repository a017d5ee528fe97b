"""The job table: each kind of job (``callbridge.queue.jobs``) and the stage that runs it."""

from __future__ import annotations

from callbridge.fold import fold_call
from callbridge.queue import jobs
from callbridge.queue.base import Handler, Payload
from callbridge.runtime import Runtime
from callbridge.storage import units
from callbridge.sync import sync_call


def handlers(runtime: Runtime) -> dict[str, Handler]:
    """Return the job handlers by task name, bound to ``runtime``."""

    async def fold_job(payload: Payload) -> None:
        await fold_call(runtime, payload)

    async def sync_job(payload: Payload) -> None:
        # A create's object id and a lookup's cache entry ride with the sync's next write.
        async with units.deferring(runtime.engine):
            await sync_call(runtime, payload)

    return {jobs.FOLD: fold_job, jobs.SYNC: sync_job}


async def process(runtime: Runtime, task: str, payload: Payload) -> None:
    """Run one job by task name (used by tests and ``callbridge replay``)."""
    await handlers(runtime)[task](payload)
