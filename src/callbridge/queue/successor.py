"""A job's successor run in its slot at once: a call's sync right after the fold that asks for it.

When a job's unit of work enqueues a job due now (the fold of a call that became final asks for
its sync), the queue may hand that job straight to the running slot instead of queueing it for a
claim: the new row is written already running under this worker, and the job that asked for it
is settled (done) in the same transaction. The slot then runs it next without a claim: the
claim's transaction, and on PostgreSQL the wake-up of every worker, are saved.

Nothing is lost by it: the successor is a row of the jobs table run by this worker like any
claimed job, so a worker that dies while running it leaves it to be recovered like any of its
jobs. Its lock is taken only when no other job of that lock waits or runs (per-key order and
one-at-a-time are kept: else it is queued as usual), and only the first job due now of a run is
adopted. The asking job is done with the unit that adopts its successor: what it does after that
unit is not retried (the fold announces the call to the dialer, nothing more).

Each queue writes the rows its own way (``sqlite_successor``, ``procrastinate_successor``); the
offer, and what was adopted, are this module's.
"""

from __future__ import annotations

import abc
import contextvars
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from callbridge.queue.base import NewJob

_SUCCESSOR: contextvars.ContextVar[Successor | None] = contextvars.ContextVar(
    "callbridge_successor", default=None
)


@dataclass
class Successor(abc.ABC):
    """The running job's offer to run the first job due now that its units enqueue."""

    job_id: int
    open: bool = True
    adopted: tuple[int, NewJob] | None = field(default=None)

    def adopt(self, conn: Connection, job: NewJob, now: datetime) -> bool:
        """Write ``job`` as run by this slot and settle the running job; False: queue it."""
        if not self.open or self.adopted is not None or job.delay_seconds > 0:
            return False
        if job.lock_key is None:  # one-at-a-time cannot be checked by key: queued as usual
            return False
        adopted_id = self.write(conn, job, now)
        if adopted_id is None:
            return False
        self.adopted = (adopted_id, job)
        return True

    @abc.abstractmethod
    def write(self, conn: Connection, job: NewJob, now: datetime) -> int | None:
        """Insert ``job`` run by this slot and settle the running job; None if its lock is busy."""


def offer(successor: Successor) -> contextvars.Token[Successor | None]:
    """Let the units of the job running in this context adopt their first job due now."""
    return _SUCCESSOR.set(successor)


def withdraw(token: contextvars.Token[Successor | None]) -> None:
    """End the offer once the job's handler returned (a task it started keeps no offer)."""
    successor = _SUCCESSOR.get()
    if successor is not None:
        successor.open = False
    _SUCCESSOR.reset(token)


def adopt(conn: Connection, job: NewJob, now: datetime) -> bool:
    """Adopt ``job`` as the running job's successor if one is offered; False: queue it."""
    successor = _SUCCESSOR.get()
    return successor is not None and successor.adopt(conn, job, now)


def adopted() -> NewJob | None:
    """Return the job the running job's units adopted as its successor, if any."""
    successor = _SUCCESSOR.get()
    return successor.adopted[1] if successor is not None and successor.adopted else None
