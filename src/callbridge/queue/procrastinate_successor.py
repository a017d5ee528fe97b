"""Procrastinate's successors (``queue.successor``): the sync written running, no fetch, no wake.

The successor is inserted ``doing`` under this worker's id, and the job that asked for it is
deleted (done) in the same transaction: no notification wakes every worker to fetch it, and no
fetch is spent on it. A worker that dies while running it leaves it to the stalled-job
recovery, like any job it fetched (and one that dies before the fold's transaction commits
leaves the fold, which asks again).

Only Procrastinate's fetch ever set a job ``doing`` before, one lock's jobs one at a time. An
adoption is a second way, so a fetch may meet it: a job of the same lock committed after the
adoption read that none waited, then fetched before the adoption commits, collides with it in
Procrastinate's unique index of running locks. :class:`LockSafeJobManager` takes that fetch for
"no job now", as it is: the job waits for the lock, and is woken when the successor ends
(migration 0006).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate import exceptions, manager
from sqlalchemy import BigInteger, Connection, column, text

from callbridge.queue import procrastinate_sql as sql
from callbridge.queue.base import NewJob
from callbridge.queue.successor import Successor

# Procrastinate's unique index of the locks of running jobs.
RUNNING_LOCKS = "procrastinate_jobs_lock_idx_v1"

# Inserted running only if no job of its lock waits or runs and none waits under its queueing
# lock (which would merge it); a running job of its lock committed meanwhile makes it a no-op.
_ADOPT = text("""
INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args,
                                status, worker_id)
SELECT :queue, :task_name, 0, :lock, NULL, CAST(:args AS jsonb), 'doing', :worker_id
 WHERE NOT EXISTS (SELECT 1 FROM procrastinate_jobs
                    WHERE lock = :lock AND status IN ('todo', 'doing'))
   AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs
                    WHERE queueing_lock = :queueing_lock AND status = 'todo')
ON CONFLICT (lock) WHERE status = 'doing' DO NOTHING
RETURNING id
""").columns(column("id", BigInteger))
_DONE = text(
    "DELETE FROM procrastinate_jobs WHERE id = :job AND status = 'doing' AND worker_id = :worker_id"
)
# A successor this slot will not run (its asking job failed after adopting it): queued again.
_RELEASE = text(
    "UPDATE procrastinate_jobs SET status = 'todo', worker_id = NULL "
    "WHERE id = :job AND status = 'doing'"
)


@dataclass
class ProcrastinateSuccessor(Successor):
    """A successor in Procrastinate's table, run by worker ``worker_id``."""

    worker_id: int = 0

    def write(self, conn: Connection, job: NewJob, now: datetime) -> int | None:
        """Insert ``job`` running under this worker and delete the running job; None: queue it."""
        params = sql.defer_params(job) | {"worker_id": self.worker_id}
        row = conn.execute(_ADOPT, params).first()
        if row is None:
            return None
        conn.execute(_DONE, {"job": self.job_id, "worker_id": self.worker_id})
        return int(row.id)


def job_of(job_id: int, job: NewJob, worker_id: int) -> procrastinate.jobs.Job:
    """Return the adopted job as Procrastinate sees a fetched one, to settle it its way."""
    return procrastinate.jobs.Job(
        id=job_id,
        status="doing",
        queue=sql.QUEUE_NAME,
        lock=job.lock_key,
        queueing_lock=None,
        task_name=sql.TASK_NAME,
        task_kwargs={"task": job.task, "payload": job.payload},
        worker_id=worker_id,
    )


def release(job_id: int, conn: Connection) -> None:
    """Queue again a successor this slot will not run, and wake the workers to fetch it."""
    if conn.execute(_RELEASE, {"job": job_id}).rowcount:
        message = json.dumps({"type": "job_inserted", "job_id": job_id})
        conn.execute(sql.WAKE_WORKERS, {"channel": sql.NOTIFY_CHANNEL, "message": message})


class LockSafeJobManager(manager.JobManager):
    """Procrastinate's job manager, whose fetch takes a collision with a successor for no job."""

    async def fetch_job(self, queues: Any, worker_id: int) -> procrastinate.jobs.Job | None:
        """Fetch a job; None when its lock was taken by a successor as the fetch ran."""
        try:
            return await super().fetch_job(queues=queues, worker_id=worker_id)
        except exceptions.UniqueViolation as err:
            if err.constraint_name != RUNNING_LOCKS:
                raise
            return None
