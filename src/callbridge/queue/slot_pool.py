"""A worker's slots, where a job taking its slot back after a wait goes before a new job.

A job that lends its slot while it waits for a CRM (``queue.slots.parked``) needs one again to
go on. Were it to queue behind the worker's claims of new jobs, a backlog would start ever more
jobs and finish few: every slot busy starting calls while the calls already half synced wait.
Jobs taking a slot back are served first, in the order they asked; new jobs get what is left.
"""

from __future__ import annotations

import asyncio
from collections import deque


class SlotPool:
    """``size`` slots, handed first to jobs coming back from a wait, then to new jobs."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._back: deque[asyncio.Future[None]] = deque()
        self._new: deque[asyncio.Future[None]] = deque()

    @property
    def returning(self) -> int:
        """Return how many jobs wait to take a slot back (one just cancelled may count a moment)."""
        return len(self._back)

    async def take(self, *, back: bool = False) -> None:
        """Take a slot, waiting for one; ``back``: the job had one before its wait."""
        # A slot is free only while no job waits: ``give`` hands it to a waiting job first.
        if self._free > 0:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._back if back else self._new
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot, then cancelled
                self.give()
            elif waiter in queue:  # still queued (``give`` skips and drops cancelled ones)
                queue.remove(waiter)
            raise

    def give(self) -> None:
        """Give a slot back: to the first job coming back from a wait, else to a new job."""
        for queue in (self._back, self._new):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():  # else cancelled, its job not yet told: skip it
                    waiter.set_result(None)
                    return
        self._free += 1
