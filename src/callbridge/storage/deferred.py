"""Writes that wait for the task's next transaction instead of opening one of their own.

Inside :func:`collecting` (``units.deferring``: one sync job), a write handed to :func:`postpone`
rides with the next unit of work the same task writes (``units.write`` takes them with
:func:`carrying`); what is left is written when the block ends. A sync's object id returned by a
CRM create then costs no transaction of its own: it is written with the sync's next one (its
link, its status). Only writes whose loss a retry recovers from may wait so: if the process
stops first, the row stays as it was before (a claim without its id, which a retry looks up).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection

logger = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[Connection], object]


@dataclass
class _Waiting:
    """The writes waiting in one block; closed once it ended (a task it started may outlive it)."""

    writes: list[Write] = field(default_factory=list)
    open: bool = True


_WAITING: ContextVar[_Waiting | None] = ContextVar("callbridge_deferred", default=None)


def postpone(work: Write) -> bool:
    """Keep ``work`` for the task's next unit; False outside :func:`collecting` (write it now)."""
    waiting = _WAITING.get()
    if waiting is None or not waiting.open:
        return False
    waiting.writes.append(work)
    return True


def carrying(work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """Return ``work`` preceded by the writes waiting in this task, which it takes."""
    waiting = _WAITING.get()
    if waiting is None or not waiting.writes:
        return work
    taken = list(waiting.writes)
    waiting.writes.clear()
    return _after(taken, work)


@contextlib.asynccontextmanager
async def collecting(write: Callable[[Write], Awaitable[object]]) -> AsyncIterator[None]:
    """Let writes wait for the block's next unit; write those left with ``write`` at its end."""
    waiting = _Waiting()
    token = _WAITING.set(waiting)
    try:
        yield
    finally:
        waiting.open = False
        left, waiting.writes = waiting.writes, []
        _WAITING.reset(token)
        if left:
            try:
                await write(_after(left, lambda conn: None))
            except Exception:  # each one's loss is recovered from by a retry (see above)
                logger.warning("writing %d deferred rows failed", len(left), exc_info=True)


def _after(taken: list[Write], work: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """Return a unit that runs the ``taken`` writes, then ``work``."""

    def run(conn: Connection) -> T:
        for earlier in taken:
            earlier(conn)
        return work(conn)

    return run
