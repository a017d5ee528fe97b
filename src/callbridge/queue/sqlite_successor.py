"""The embedded queue's successors (``queue.successor``): the row leased to the slot at once.

The successor's row is inserted already leased to this worker, and the job that asked for it is
deleted (done) in the same transaction. A worker that dies while running it leaves it to be
claimed again when the lease runs out (or at once by the next process on this host).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from callbridge.queue.base import NewJob
from callbridge.queue.sqlite_table import jobs
from callbridge.queue.successor import Successor
from callbridge.storage import driver

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
class SqliteSuccessor(Successor):
    """A successor in the embedded queue's table, leased to this slot for ``lease``."""

    worker_id: str = ""
    lease: timedelta = timedelta(0)

    def write(self, conn: Connection, job: NewJob, now: datetime) -> int | None:
        """Insert ``job`` leased to this slot and delete the running job; None: queue it."""
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
            return None
        driver.execute(conn, _DONE, {"job": self.job_id, "worker": self.worker_id})
        return int(row.id)
