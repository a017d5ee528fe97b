"""A job's successor run in its slot at once: a call's sync right after the fold that asks for it.

When a job's unit of work enqueues a job due now (the fold of a call that became final asks for
its sync), the embedded queue may hand that job straight to the running slot instead of
queueing it for a claim: the new row is inserted already leased to this worker, and the job
that asked for it is deleted (done) in the same transaction. The slot then runs it next without
a claim, and the settle-and-claim transaction between the two jobs is saved.

Nothing is lost by it: the successor is a row of the jobs table under a lease like any claimed
job, so a worker that dies while running it leaves it to be claimed again when the lease runs
out (or at once by the next process on this host). Its lock key is taken only when no other job
of that key waits or runs (per-key order and one-at-a-time are kept: else it is queued as
usual), and only the first job due now of a run is adopted. The asking job is done with the
unit that adopts its successor: what it does after that unit is not retried (the fold announces
the call to the dialer, nothing more).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from callbridge.queue.base import NewJob
from callbridge.queue.sqlite_table import jobs
from callbridge.storage import driver

_SUCCESSOR: contextvars.ContextVar[Successor | None] = contextvars.ContextVar(
    "callbridge_successor", default=None
)
# Inserted only if no other job of its lock key waits or runs, and none waits under its
# queueing lock (which would merge it): else it is enqueued as usual.
_ADOPT = text(
    "INSERT INTO jobs (task, payload, lock_key, queueing_lock, status, scheduled_at, attempts, "
    "lease_until, worker_id, created_at, lost_runs) "
    "SELECT :task, :payload, :lock_key, NULL, 'doing', :now, 0, :until, :worker, :now, 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE lock_key = :lock_key "
    "AND status IN ('todo', 'doing')) "
    "AND NOT EXISTS (SELECT 1 FROM jobs WHERE queueing_lock = :queueing_lock "
    "AND status = 'todo') RETURNING id"
).bindparams(
    bindparam("payload", type_=jobs.c.payload.type),
    bindparam("now", type_=jobs.c.scheduled_at.type),
    bindparam("until", type_=jobs.c.lease_until.type),
)
_DONE = text("DELETE FROM jobs WHERE id = :job AND worker_id = :worker AND status = 'doing'")


@dataclass
class Successor:
    """The running job's offer to run the first job due now that its units enqueue."""

    job_id: int
    worker_id: str
    lease: timedelta
    open: bool = True
    adopted: tuple[int, NewJob] | None = field(default=None)

    def adopt(self, conn: Connection, job: NewJob, now: datetime) -> bool:
        """Insert ``job`` leased to this slot and settle the running job; False: queue it."""
        if not self.open or self.adopted is not None or job.delay_seconds > 0:
            return False
        if job.lock_key is None:  # one-at-a-time cannot be checked by key: queued as usual
            return False
        values: dict[str, Any] = {
            "task": job.task,
            "payload": job.payload,
            "lock_key": job.lock_key,
            "queueing_lock": job.queueing_lock,
            "now": now,
            "until": now + self.lease,
            "worker": self.worker_id,
        }
        row = driver.execute(conn, _ADOPT, values).first()
        if row is None:
            return False
        driver.execute(conn, _DONE, {"job": self.job_id, "worker": self.worker_id})
        self.adopted = (int(row.id), job)
        return True


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
