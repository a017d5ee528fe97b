"""Run a runtime's queue in-process until it is empty: tests drive whole calls with it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from callbridge.pipeline import handlers
from callbridge.queue.base import Payload
from callbridge.runtime import Runtime


async def drain(runtime: Runtime, *, seconds: float = 30.0) -> list[str]:
    """Run the queue's worker until no job is left; return the tasks that ran, in order."""
    ran: list[str] = []
    by_task = handlers(runtime.for_worker())

    def counted(task: str) -> Any:
        async def run(payload: Payload) -> None:
            ran.append(task)
            await by_task[task](payload)

        return run

    stop = asyncio.Event()
    work = {task: counted(task) for task in by_task}
    worker = asyncio.create_task(runtime.queue.work(work, stop=stop, concurrency=2))
    try:
        for _ in range(int(seconds / 0.05)):
            if ran and not await runtime.queue.pending_count():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the queue did not drain in {seconds:.0f} s; ran {ran}")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return ran
