"""A worker's slots, where a job taking its slot back after a wait goes before a new job.

A job that lends its slot while it waits for a CRM (``queue.slots.parked``) needs one again to
go on. Were it to queue behind the worker's claims of new jobs, a backlog would start ever more
jobs and finish few: every slot busy starting calls while the calls already half synced wait.
Jobs taking a slot back are served first, in the order they asked; new jobs get what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


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


# Jobs under way at once per slot, most of them waiting outside it (queue.slots.parked): a
# HubSpot batch gathers the syncs waiting for it, and 200 waiting syncs drained a backlog fastest.
PARKED_PER_SLOT = 50


class WorkerSlots:
    """A worker's slots and its cap on jobs under way, in a slot or lending it while they wait.

    A new job takes a place under the cap, then a slot (:meth:`acquire`); a job lends its slot
    while it waits (:meth:`park`) and takes one back before any new job; it gives both back at
    its end (:meth:`release`). Every job under way may lend: the cap is what bounds them.
    """

    def __init__(self, concurrency: int) -> None:
        self._pool = SlotPool(concurrency)
        self._under_way = asyncio.Semaphore(concurrency * (1 + PARKED_PER_SLOT))
        self._slotless = 0  # jobs cancelled while taking their slot back: they end with none

    @property
    def returning(self) -> int:
        """Return how many jobs wait to take a slot back after their wait."""
        return self._pool.returning

    async def acquire(self) -> bool:
        """Wait for room for a new job, then for a slot (Procrastinate's semaphore's shape)."""
        await self._under_way.acquire()
        try:
            await self._pool.take()
        except BaseException:  # cancelled while waiting for a slot (a stopping worker)
            self._under_way.release()
            raise
        return True

    def release(self) -> None:
        """End a job: its slot goes to a job coming back from a wait first, then its place."""
        if self._slotless:  # a job without a slot ended: there is no slot to give
            self._slotless -= 1
        else:
            self._pool.give()
        self._under_way.release()

    @contextlib.asynccontextmanager
    async def park(self) -> AsyncIterator[None]:
        """Lend the running job's slot for the block; take one back after, before new jobs."""
        self._pool.give()
        try:
            yield
        finally:
            try:
                await self._pool.take(back=True)
            except asyncio.CancelledError:  # the job ends without a slot (an aborted job)
                self._slotless += 1
                raise
