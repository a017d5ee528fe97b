"""A job's worker slot, given back while the job waits for something outside the process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

Park = Callable[[], contextlib.AbstractAsyncContextManager[None]]


@dataclass
class _Lending:
    """One slot's lending: how many of its job's waits are under way, and the slot lent."""

    park: Park
    waiting: int = 0
    lent: contextlib.AbstractAsyncContextManager[None] | None = None
    # Lending and taking back one at a time: a wait starting while the last one takes the slot
    # back waits for it, then lends again (never two lendings of one slot at once).
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


_LENDING: ContextVar[_Lending | None] = ContextVar("callbridge_lending", default=None)


def bind(park: Park) -> None:
    """Let the jobs running in this context give their slot back with :func:`parked`."""
    _LENDING.set(_Lending(park))


def unbind() -> None:
    """Give no slot back from this context (a task that is not a job, e.g. a batch's flush)."""
    _LENDING.set(None)


@contextlib.asynccontextmanager
async def parked() -> AsyncIterator[None]:
    """Give this job's worker slot to another job while the block waits; take one back after.

    A sync waiting for a CRM's answer or for a CRM batch (``connectors/hubspot/batching.py``)
    costs no CPU: its slot lets another job in, so the worker's concurrency bounds the CPU work,
    not the round trips. Waits of one job at once (two searches sent together, in tasks of their
    own) lend its one slot once: the first lends it, the last takes one back. Both queues' workers
    lend (``queue.sqlite_worker``, ``queue.procrastinate_worker``); outside a worker (a test, a
    command) nothing happens.
    """
    lending = _LENDING.get()
    if lending is None:
        yield
        return
    async with lending.turn:
        lending.waiting += 1
        try:
            if lending.waiting == 1:
                lent = lending.park()
                await lent.__aenter__()
                lending.lent = lent
        except BaseException:
            lending.waiting -= 1
            raise
    try:
        yield
    finally:
        async with lending.turn:
            lending.waiting -= 1
            if lending.waiting == 0 and lending.lent is not None:
                lent, lending.lent = lending.lent, None
                await lent.__aexit__(None, None, None)
