"""Run the job worker: the embedded one inside ``serve`` or standalone ``callbridge worker``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from callbridge.api.metrics import JOB_SECONDS, JOBS
from callbridge.pipeline import handlers
from callbridge.queue.base import Handler, Payload
from callbridge.runtime import Runtime

log = logging.getLogger("callbridge.worker")
RESTART_SECONDS = 2.0


def _measured(task: str, handler: Handler) -> Handler:
    async def run(payload: Payload) -> None:
        started = time.perf_counter()
        try:
            await handler(payload)
        except Exception:
            JOBS.labels(task=task, outcome="error").inc()
            log.warning("job %s failed", task, exc_info=True)
            raise
        finally:
            JOB_SECONDS.labels(task=task).observe(time.perf_counter() - started)
        JOBS.labels(task=task, outcome="ok").inc()

    return run


async def run_worker(runtime: Runtime, stop: asyncio.Event) -> None:
    """Drain the queue with the pipeline's handlers until ``stop`` is set, restarting on crash."""
    measured = {task: _measured(task, h) for task, h in handlers(runtime.for_worker()).items()}
    while not stop.is_set():
        try:
            await runtime.queue.work(
                measured, stop=stop, concurrency=runtime.settings.worker_concurrency
            )
        except Exception:  # a dead worker must never go unnoticed, nor stay dead
            log.exception("the job worker crashed; restarting it in %s s", RESTART_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_SECONDS)
