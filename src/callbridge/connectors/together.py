"""Run a connector's independent requests at once, and stop the others when one fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def together(*requests: Awaitable[T]) -> list[T]:
    """Await ``requests`` at once; the first failure cancels the others, then is raised as is.

    ``asyncio.gather`` would raise the failure and leave the others running after the sync has
    ended: a search still waiting in its batch, which then takes a worker slot back and holds it
    until it ends. Here nothing the call started outlives it, whichever way it ends (a failure,
    or the sync itself cancelled by its watchdog or its worker's stop).
    """
    tasks = [asyncio.ensure_future(request) for request in requests]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.wait(unfinished)
