"""A job's worker slot, given back while the job waits for something outside the process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

Park = Callable[[], contextlib.AbstractAsyncContextManager[None]]
_PARK: ContextVar[Park | None] = ContextVar("callbridge_park", default=None)


def bind(park: Park) -> None:
    """Let the job running in this context give its slot back with :func:`parked`."""
    _PARK.set(park)


@contextlib.asynccontextmanager
async def parked() -> AsyncIterator[None]:
    """Give this job's worker slot to another job while the block waits; take one back after.

    A sync waiting for a CRM batch (``connectors/hubspot/batching.py``) costs no CPU: its slot
    lets another job in, so a batch gathers more syncs than the worker's concurrency. Where the
    queue gives no slot back (Procrastinate, a job run outside a worker) nothing happens.
    """
    park = _PARK.get()
    if park is None:
        yield
        return
    async with park():
        yield
