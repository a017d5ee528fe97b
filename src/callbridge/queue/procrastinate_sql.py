"""The SQL the Procrastinate queue runs beside Procrastinate's own: defers, errors, operator views.

Procrastinate keeps no error text, so each job's last error (and its first failure's time) is
kept in ``callbridge_job_errors``; the dead letters, replays and counts read both tables.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from procrastinate.manager import get_channel_for_queues
from sqlalchemy import BigInteger, Connection, DateTime, Integer, column, text

from callbridge.queue.base import NewJob
from callbridge.queue.retry import (
    Dead,
    Decision,
    Reschedule,
    RetryPolicy,
    starts_the_clock,
)

logger = logging.getLogger("callbridge.queue.procrastinate_queue")

QUEUE_NAME = "callbridge"
TASK_NAME = "callbridge.run"
NOTIFY_CHANNEL = next(iter(get_channel_for_queues([QUEUE_NAME])))


# What procrastinate_defer_jobs_v1 (JobManager.defer_job_async) inserts, for one job, made a
# no-op instead of an error when a waiting job holds the queueing lock: no savepoint is needed to
# keep that conflict from aborting the caller's transaction. The insert trigger notifies workers.
DEFER = text("""
INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args,
                                scheduled_at)
VALUES (:queue, :task_name, 0, :lock, :queueing_lock, CAST(:args AS jsonb),
        CASE WHEN CAST(:delay AS float8) > 0
             THEN clock_timestamp() + make_interval(secs => CAST(:delay AS float8)) END)
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
RETURNING id
""").columns(column("id", BigInteger))

# The first failure's time is kept: the retry horizon is counted from it (migration 0008).
RECORD_ERROR = text("""
INSERT INTO callbridge_job_errors (job_id, error, first_failed_at)
VALUES (:job_id, :error, :first_failed_at)
ON CONFLICT (job_id) DO UPDATE SET error = excluded.error, failed_at = now(),
    first_failed_at = COALESCE(callbridge_job_errors.first_failed_at, excluded.first_failed_at)
""")

FIRST_FAILED = text(
    "SELECT first_failed_at FROM callbridge_job_errors WHERE job_id = :job_id"
).columns(column("first_failed_at", DateTime(timezone=True)))

# A run lost with its worker: counted beside the job, as its attempts also count failed runs.
COUNT_LOST_RUN = text("""
INSERT INTO callbridge_job_errors (job_id, error, lost_runs) VALUES (:job_id, :error, 1)
ON CONFLICT (job_id) DO UPDATE SET lost_runs = callbridge_job_errors.lost_runs + 1
RETURNING lost_runs
""").columns(column("lost_runs", Integer))

LOST_RUNS = text("SELECT lost_runs FROM callbridge_job_errors WHERE job_id = :job_id").columns(
    column("lost_runs", Integer)
)

# Due now: the waiting jobs of one lock prefix (an integration's syncs after its CRM is back).
WAKE = text("""
UPDATE procrastinate_jobs SET scheduled_at = NULL
 WHERE status = 'todo' AND queue_name = :queue AND lock LIKE :pattern ESCAPE '\\'
   AND scheduled_at > now()
""")

# procrastinate_retry_job_v2 adds one attempt on every retry; a rate-limited run takes it back.
UNCOUNT_ATTEMPT = text(
    "UPDATE procrastinate_jobs SET attempts = attempts - 1 WHERE id = :job_id AND status = 'doing'"
)

DEAD_LETTERS = text("""
SELECT job.id, job.args, job.attempts, error.error,
       (SELECT max(event.at) FROM procrastinate_events AS event
         WHERE event.job_id = job.id AND event.type = 'failed') AS failed_at
  FROM procrastinate_jobs AS job
  LEFT JOIN callbridge_job_errors AS error ON error.job_id = job.id
 WHERE job.status = 'failed' AND job.queue_name = :queue
   AND (CAST(:company_id AS text) IS NULL OR job.args->'payload'->>'company_id' = :company_id)
 ORDER BY failed_at DESC NULLS LAST, job.id DESC
 LIMIT :limit
""")

# Like procrastinate_retry_job_v2 on a failed job, but with a fresh attempt count; the queueing
# lock is dropped so an operator's replay is never merged into, or refused by, a waiting job.
REPLAY = text("""
UPDATE procrastinate_jobs
   SET status = 'todo', attempts = 0, scheduled_at = NULL, queueing_lock = NULL
 WHERE id = :job_id AND status = 'failed' AND queue_name = :queue
   AND (CAST(:company_id AS text) IS NULL OR args->'payload'->>'company_id' = :company_id)
""")
REPLAY_COUNTS = text(
    "UPDATE callbridge_job_errors SET first_failed_at = NULL, lost_runs = 0 WHERE job_id = :job_id"
)

WAKE_WORKERS = text("SELECT pg_notify(:channel, :message)")

# A job going back to the queue (a retry, a recovered stall) gives up its queueing lock: the lock
# dedupes waiting jobs only, and one may have been queued while it ran (the unique index on
# waiting jobs would refuse the retry). A job that succeeds is deleted with it.
RELEASE_QUEUEING_LOCK = text(
    "UPDATE procrastinate_jobs SET queueing_lock = NULL "
    "WHERE id = :job_id AND queueing_lock IS NOT NULL"
)

# Holds the waiting job that took a new event's place until the enqueuing transaction ends:
# procrastinate_fetch_job_v2 selects FOR UPDATE SKIP LOCKED, so the job cannot start before the
# event it must read is committed. A worker that looked meanwhile skipped it, and nothing else
# would tell it the job is free again: the notification (delivered at commit, once the hold is
# released) does.
HOLD_WAITING = text(
    "SELECT id, pg_notify(:channel, json_build_object('type', 'job_inserted', 'job_id', id)::text) "
    "FROM procrastinate_jobs WHERE queueing_lock = :queueing_lock AND status = 'todo' FOR SHARE"
).columns(column("id", BigInteger))

PENDING = text(
    "SELECT count(*) FROM procrastinate_jobs "
    "WHERE queue_name = :queue AND status IN ('todo', 'doing')"
)


# The dead letters are the failed jobs; a waiting job with an error noted failed before.
JOB_COUNTS = text("""
SELECT job.args->>'task' AS task,
       CASE WHEN job.status = 'todo' AND error.job_id IS NOT NULL THEN 'retry'
            WHEN job.status = 'todo' THEN 'waiting'
            WHEN job.status = 'doing' THEN 'running'
            ELSE 'dead' END AS state,
       count(*) AS jobs
  FROM procrastinate_jobs AS job
  LEFT JOIN callbridge_job_errors AS error ON error.job_id = job.id
 WHERE job.queue_name = :queue AND job.status IN ('todo', 'doing', 'failed')
 GROUP BY 1, 2
""")


def defer_params(job: NewJob) -> dict[str, Any]:
    """Return the parameters of ``DEFER`` (and ``HOLD_WAITING``) for one job."""
    return {
        "queue": QUEUE_NAME,
        "task_name": TASK_NAME,
        "lock": job.lock_key,
        "queueing_lock": job.queueing_lock,
        "args": json.dumps({"task": job.task, "payload": job.payload}),
        "delay": job.delay_seconds,
        "channel": NOTIFY_CHANNEL,
    }


def lost_runs(job_id: int, conn: Connection) -> int:
    """Return how many runs of the job were lost with their worker so far."""
    return int(conn.execute(LOST_RUNS, {"job_id": job_id}).scalar() or 0)


def count_lost_run(job_id: int, conn: Connection) -> int:
    """Count one more run of the job lost with its worker; return the count."""
    error = "WorkerLost: its worker stopped during a run"
    return int(conn.execute(COUNT_LOST_RUN, {"job_id": job_id, "error": error}).scalar_one())


def note_error(job_id: int, error: str, conn: Connection, first: datetime | None = None) -> None:
    """Keep a job's last error (and its first failure's time) beside it, for the dead letters."""
    conn.execute(RECORD_ERROR, {"job_id": job_id, "error": error, "first_failed_at": first})


def failed(
    job_id: int, error: Exception, attempts: int, policy: RetryPolicy, conn: Connection
) -> Decision:
    """Decide a failed run's fate and note it, dropping its queueing lock, before the retry."""
    now = datetime.now(UTC)
    first = conn.execute(FIRST_FAILED, {"job_id": job_id}).scalar()
    failing_for = 0.0 if first is None else (now - first).total_seconds()
    decision = policy.decide(error, attempts, failing_for)
    if first is None and starts_the_clock(decision):
        first = now
    said = decision.reason if isinstance(decision, Dead) else f"{type(error).__name__}: {error}"
    note_error(job_id, said, conn, first)
    conn.execute(RELEASE_QUEUEING_LOCK, {"job_id": job_id})
    if isinstance(decision, Reschedule):
        conn.execute(UNCOUNT_ATTEMPT, {"job_id": job_id})
    return decision
