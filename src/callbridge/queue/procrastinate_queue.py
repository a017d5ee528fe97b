"""The production job queue: Procrastinate on PostgreSQL, enqueued in the caller's transaction.

Every job is one Procrastinate task, ``callbridge.run``, with ``{"task", "payload"}`` as its
arguments; the worker dispatches on ``task``. Per-key ordering is Procrastinate's ``lock``.
Procrastinate keeps no error text, so the last error of each job is kept beside it in
``callbridge_job_errors`` (created by the Alembic migration 0001, deleted with the job).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
import psycopg
import psycopg_pool
from procrastinate.manager import get_channel_for_queues
from sqlalchemy import BigInteger, Connection, DateTime, Integer, column, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callbridge.errors import Permanent
from callbridge.queue.base import DeadJob, Handler, JobCounts, NewJob, Payload
from callbridge.queue.retry import (
    DEFAULT_POLICY,
    Dead,
    Decision,
    Reschedule,
    RetryPolicy,
    lost_runs_error,
    starts_the_clock,
)
from callbridge.storage import units
from callbridge.storage.engine import IDLE_PING_SECONDS

logger = logging.getLogger(__name__)

QUEUE_NAME = "callbridge"
TASK_NAME = "callbridge.run"
_NOTIFY_CHANNEL = next(iter(get_channel_for_queues([QUEUE_NAME])))


# What procrastinate_defer_jobs_v1 (JobManager.defer_job_async) inserts, for one job, made a
# no-op instead of an error when a waiting job holds the queueing lock: no savepoint is needed to
# keep that conflict from aborting the caller's transaction. The insert trigger notifies workers.
_DEFER = text("""
INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args,
                                scheduled_at)
VALUES (:queue, :task_name, 0, :lock, :queueing_lock, CAST(:args AS jsonb),
        CASE WHEN CAST(:delay AS float8) > 0
             THEN clock_timestamp() + make_interval(secs => CAST(:delay AS float8)) END)
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
RETURNING id
""").columns(column("id", BigInteger))

# The first failure's time is kept: the retry horizon is counted from it (migration 0008).
_RECORD_ERROR = text("""
INSERT INTO callbridge_job_errors (job_id, error, first_failed_at)
VALUES (:job_id, :error, :first_failed_at)
ON CONFLICT (job_id) DO UPDATE SET error = excluded.error, failed_at = now(),
    first_failed_at = COALESCE(callbridge_job_errors.first_failed_at, excluded.first_failed_at)
""")

_FIRST_FAILED = text(
    "SELECT first_failed_at FROM callbridge_job_errors WHERE job_id = :job_id"
).columns(column("first_failed_at", DateTime(timezone=True)))

# A run lost with its worker: counted beside the job, as its attempts also count failed runs.
_COUNT_LOST_RUN = text("""
INSERT INTO callbridge_job_errors (job_id, error, lost_runs) VALUES (:job_id, :error, 1)
ON CONFLICT (job_id) DO UPDATE SET lost_runs = callbridge_job_errors.lost_runs + 1
RETURNING lost_runs
""").columns(column("lost_runs", Integer))

_LOST_RUNS = text("SELECT lost_runs FROM callbridge_job_errors WHERE job_id = :job_id").columns(
    column("lost_runs", Integer)
)

# Due now: the waiting jobs of one lock prefix (an integration's syncs after its CRM is back).
_WAKE = text("""
UPDATE procrastinate_jobs SET scheduled_at = NULL
 WHERE status = 'todo' AND queue_name = :queue AND lock LIKE :pattern ESCAPE '\\'
   AND scheduled_at > now()
""")

# procrastinate_retry_job_v2 adds one attempt on every retry; a rate-limited run takes it back.
_UNCOUNT_ATTEMPT = text(
    "UPDATE procrastinate_jobs SET attempts = attempts - 1 WHERE id = :job_id AND status = 'doing'"
)

_DEAD_LETTERS = text("""
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
_REPLAY = text("""
UPDATE procrastinate_jobs
   SET status = 'todo', attempts = 0, scheduled_at = NULL, queueing_lock = NULL
 WHERE id = :job_id AND status = 'failed' AND queue_name = :queue
   AND (CAST(:company_id AS text) IS NULL OR args->'payload'->>'company_id' = :company_id)
""")
_REPLAY_COUNTS = text(
    "UPDATE callbridge_job_errors SET first_failed_at = NULL, lost_runs = 0 WHERE job_id = :job_id"
)

_WAKE_WORKERS = text("SELECT pg_notify(:channel, :message)")

# A job going back to the queue (a retry, a recovered stall) gives up its queueing lock: the lock
# dedupes waiting jobs only, and one may have been queued while it ran (the unique index on
# waiting jobs would refuse the retry). A job that succeeds is deleted with it.
_RELEASE_QUEUEING_LOCK = text(
    "UPDATE procrastinate_jobs SET queueing_lock = NULL "
    "WHERE id = :job_id AND queueing_lock IS NOT NULL"
)

# Holds the waiting job that took a new event's place until the enqueuing transaction ends:
# procrastinate_fetch_job_v2 selects FOR UPDATE SKIP LOCKED, so the job cannot start before the
# event it must read is committed. A worker that looked meanwhile skipped it, and nothing else
# would tell it the job is free again: the notification (delivered at commit, once the hold is
# released) does.
_HOLD_WAITING = text(
    "SELECT id, pg_notify(:channel, json_build_object('type', 'job_inserted', 'job_id', id)::text) "
    "FROM procrastinate_jobs WHERE queueing_lock = :queueing_lock AND status = 'todo' FOR SHARE"
).columns(column("id", BigInteger))

_PENDING = text(
    "SELECT count(*) FROM procrastinate_jobs "
    "WHERE queue_name = :queue AND status IN ('todo', 'doing')"
)


# The dead letters are the failed jobs; a waiting job with an error noted failed before.
_JOB_COUNTS = text("""
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


def _libpq_url(database_url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://``) into a libpq one for psycopg_pool."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _defer_params(job: NewJob) -> dict[str, Any]:
    """Return the parameters of ``_DEFER`` (and ``_HOLD_WAITING``) for one job."""
    return {
        "queue": QUEUE_NAME,
        "task_name": TASK_NAME,
        "lock": job.lock_key,
        "queueing_lock": job.queueing_lock,
        "args": json.dumps({"task": job.task, "payload": job.payload}),
        "delay": job.delay_seconds,
        "channel": _NOTIFY_CHANNEL,
    }


# When each pooled connection was last handed out (see _check_if_idle).
_HANDED_OUT: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
    weakref.WeakKeyDictionary()
)


async def _check_if_idle(conn: psycopg.AsyncConnection[Any]) -> None:
    """Check a pooled connection only if it sat unused: Procrastinate checks it on every use.

    A fetch or a finish would otherwise cost two round trips, the check and the query. A dead
    connection found here is replaced by the pool.
    """
    now = time.monotonic()
    last = _HANDED_OUT.get(conn)
    _HANDED_OUT[conn] = now
    if last is None or now - last >= IDLE_PING_SECONDS:
        await psycopg_pool.AsyncConnectionPool.check_connection(conn)


async def _autocommit(conn: psycopg.AsyncConnection[Any]) -> None:
    """Put a new pooled connection in autocommit mode.

    Each of Procrastinate's queries is one statement (a function call): autocommit spares a
    BEGIN and a COMMIT round trip around every fetch and finish.
    """
    await conn.set_autocommit(True)


def _lost_runs(job_id: int, conn: Connection) -> int:
    """Return how many runs of the job were lost with their worker so far."""
    return int(conn.execute(_LOST_RUNS, {"job_id": job_id}).scalar() or 0)


def _count_lost_run(job_id: int, conn: Connection) -> int:
    """Count one more run of the job lost with its worker; return the count."""
    error = "WorkerLost: its worker stopped during a run"
    return int(conn.execute(_COUNT_LOST_RUN, {"job_id": job_id, "error": error}).scalar_one())


def _pool_checking_idle_connections(**kwargs: Any) -> psycopg_pool.AsyncConnectionPool[Any]:
    """Build Procrastinate's pool: autocommit connections, checked only after idling."""
    return psycopg_pool.AsyncConnectionPool(
        **{**kwargs, "check": _check_if_idle, "configure": _autocommit}
    )


def _note_error(job_id: int, error: str, conn: Connection, first: datetime | None = None) -> None:
    """Keep a job's last error (and its first failure's time) beside it, for the dead letters."""
    conn.execute(_RECORD_ERROR, {"job_id": job_id, "error": error, "first_failed_at": first})


def _failed(
    job_id: int, error: Exception, attempts: int, policy: RetryPolicy, conn: Connection
) -> Decision:
    """Decide a failed run's fate and note it, dropping its queueing lock, before the retry."""
    now = datetime.now(UTC)
    first = conn.execute(_FIRST_FAILED, {"job_id": job_id}).scalar()
    failing_for = 0.0 if first is None else (now - first).total_seconds()
    decision = policy.decide(error, attempts, failing_for)
    if first is None and starts_the_clock(decision):
        first = now
    said = decision.reason if isinstance(decision, Dead) else f"{type(error).__name__}: {error}"
    _note_error(job_id, said, conn, first)
    conn.execute(_RELEASE_QUEUEING_LOCK, {"job_id": job_id})
    if isinstance(decision, Reschedule):
        conn.execute(_UNCOUNT_ATTEMPT, {"job_id": job_id})
    return decision


class PolicyRetryStrategy(procrastinate.BaseRetryStrategy):
    """Turn RetryPolicy decisions into procrastinate retries; None buries the job."""

    def __init__(self, policy: RetryPolicy, decisions: dict[int, Decision]) -> None:
        self._policy = policy
        self._decisions = decisions

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        """Reuse the decision the failed run took, or take one now (e.g. on shutdown)."""
        assert job.id is not None, "a fetched job has an id"
        decision = self._decisions.pop(job.id, None) or self._policy.decide(
            exception, job.attempts + 1
        )
        if isinstance(decision, Dead):
            logger.warning("job %s is dead: %s (%s)", job.id, decision.reason, exception)
            return None
        retry_at = datetime.now(UTC) + timedelta(seconds=decision.delay_seconds)
        return procrastinate.RetryDecision(retry_at=retry_at)


class ProcrastinateJobQueue:
    """Run jobs with Procrastinate: many workers on many hosts, per-key locks, stall recovery."""

    def __init__(
        self,
        database_url: str,
        engine: AsyncEngine,
        policy: RetryPolicy = DEFAULT_POLICY,
        *,
        stall_seconds: float = 15.0,
        stall_check_seconds: float = 5.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._stall_seconds = stall_seconds
        self._stall_check_seconds = stall_check_seconds
        self._poll_seconds = poll_seconds
        self._handlers: Mapping[str, Handler] = {}
        self._decisions: dict[int, Decision] = {}
        connector = procrastinate.PsycopgConnector(
            conninfo=_libpq_url(database_url),
            min_size=1,
            max_size=10,
            pool_factory=_pool_checking_idle_connections,
        )
        self._app = procrastinate.App(connector=connector)
        self._app.task(
            name=TASK_NAME,
            queue=QUEUE_NAME,
            pass_context=True,
            retry=PolicyRetryStrategy(policy, self._decisions),
        )(self._run)

    def notify(self) -> None:
        """Do nothing: PostgreSQL's NOTIFY already wakes the workers when the enqueue commits."""

    async def enqueue(
        self,
        conn: AsyncConnection,
        task: str,
        payload: Payload,
        *,
        lock_key: str | None = None,
        queueing_lock: str | None = None,
        delay_seconds: float = 0.0,
    ) -> bool:
        """Add a job inside the caller's open transaction; False if the queueing lock is held."""
        job = NewJob(task, payload, lock_key, queueing_lock, delay_seconds)
        return await conn.run_sync(self.enqueue_blocking, job)

    def enqueue_blocking(self, conn: Connection, job: NewJob) -> bool:
        """Like :meth:`enqueue`, on a synchronous connection (a unit of work in a thread)."""
        params = _defer_params(job)
        for _ in range(10):
            if conn.execute(_DEFER, params).first() is not None:
                return True
            # A job with this queueing lock waits: hold it until the caller commits, so it reads
            # the caller's rows. If it started in between, it may not: defer a new job instead.
            if conn.execute(_HOLD_WAITING, params).first() is not None:
                return False
        raise RuntimeError(f"could not enqueue {job.task}: its queueing lock kept changing hands")

    async def work(
        self, handlers: Mapping[str, Handler], *, stop: Any, concurrency: int = 4
    ) -> None:
        """Run jobs with ``handlers`` until the ``stop`` asyncio.Event is set."""
        self._handlers = handlers
        async with self._app.open_async():
            worker = asyncio.create_task(self._run_worker(concurrency))
            recovery = asyncio.create_task(self._recover_periodically())
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                recovery.cancel()
                # Procrastinate turns a cancel into a graceful stop: running jobs finish first.
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            if not stop.is_set():
                raise RuntimeError("the procrastinate worker stopped by itself")

    async def recover_stalled_jobs(self) -> int:
        """Put back in the queue the running jobs of workers that stopped heartbeating."""
        stalled = await self._app.job_manager.get_stalled_jobs(
            queue=QUEUE_NAME, seconds_since_heartbeat=self._stall_seconds
        )
        recovered = 0
        for job in stalled:
            try:
                await self._recover(job)
            except Exception:
                logger.info("stalled job %s was recovered elsewhere", job.id, exc_info=True)
                continue
            recovered += 1
        return recovered

    async def _recover(self, job: procrastinate.jobs.Job) -> None:
        """Queue a stalled job again, counting the lost run, or bury it after too many."""
        assert job.id is not None, "a stored job has an id"
        lost_runs = await units.read(self._engine, functools.partial(_lost_runs, job.id)) + 1
        if lost_runs >= self._policy.max_lost_runs:  # it may be what kills its workers
            error = lost_runs_error(lost_runs)
            await units.write(self._engine, functools.partial(_note_error, job.id, error))
            failed = procrastinate.jobs.Status.FAILED
            await self._app.job_manager.finish_job(job, status=failed, delete_job=False)
            logger.error("job %s is dead: %s", job.id, error)
            return
        await self._release_queueing_lock(job.id)
        await self._app.job_manager.retry_job(job)  # counts the lost run as an attempt
        # Counted once the retry is ours (another worker may have recovered the job first).
        await units.write(self._engine, functools.partial(_count_lost_run, job.id))
        logger.warning("job %s was stalled (its worker died); queued again", job.id)

    async def dead_letters(self, limit: int = 100, company_id: str | None = None) -> list[DeadJob]:
        """List the jobs that failed for good, newest first; one company's when it is named."""
        params = {"queue": QUEUE_NAME, "limit": limit, "company_id": company_id}
        async with self._engine.connect() as conn:
            result = await conn.execute(_DEAD_LETTERS, params)
            rows = result.all()
        return [
            DeadJob(
                id=str(row.id),
                task=row.args["task"],
                payload=row.args["payload"],
                attempts=row.attempts,
                error=row.error or "",
                failed_at=row.failed_at,
            )
            for row in rows
        ]

    async def replay(self, job_id: str, company_id: str | None = None) -> bool:
        """Put a dead job back in the queue with a fresh attempt count; False if unknown."""
        try:
            key = int(job_id)
        except ValueError:
            return False
        message = json.dumps({"type": "job_inserted", "job_id": key})
        params = {"job_id": key, "queue": QUEUE_NAME, "company_id": company_id}
        async with self._engine.begin() as conn:
            result = await conn.execute(_REPLAY, params)
            if result.rowcount != 1:
                return False
            await conn.execute(_REPLAY_COUNTS, {"job_id": key})
            # Only inserts notify the workers by themselves; delivered at commit.
            await conn.execute(_WAKE_WORKERS, {"channel": _NOTIFY_CHANNEL, "message": message})
        return True

    async def wake(self, lock_prefix: str) -> int:
        """Make the waiting jobs whose lock starts with ``lock_prefix`` due now, and say so."""
        escaped = lock_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        message = json.dumps({"type": "job_inserted"})
        async with self._engine.begin() as conn:
            result = await conn.execute(_WAKE, {"queue": QUEUE_NAME, "pattern": escaped + "%"})
            if result.rowcount:
                await conn.execute(_WAKE_WORKERS, {"channel": _NOTIFY_CHANNEL, "message": message})
        return int(result.rowcount or 0)

    async def pending_count(self) -> int:
        """Count the jobs waiting or running (for readiness and the metrics)."""
        async with self._engine.connect() as conn:
            return int((await conn.execute(_PENDING, {"queue": QUEUE_NAME})).scalar_one())

    async def job_counts(self) -> JobCounts:
        """Count the jobs by task and state, in the database, for the metrics."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_JOB_COUNTS, {"queue": QUEUE_NAME})).all()
        return {(row.task, row.state): int(row.jobs) for row in rows}

    async def _run_worker(self, concurrency: int) -> None:
        """Run procrastinate's worker on our queue, deleting jobs that succeed."""
        await self._app.run_worker_async(
            queues=[QUEUE_NAME],
            name="callbridge",
            concurrency=concurrency,
            install_signal_handlers=False,
            listen_notify=True,
            delete_jobs="successful",
            fetch_job_polling_interval=self._poll_seconds,
            # Three heartbeats per stall threshold, so a live worker is never taken for dead.
            update_heartbeat_interval=self._stall_seconds / 3,
            stalled_worker_timeout=self._stall_seconds,
        )

    async def _recover_periodically(self) -> None:
        """Recover stalled jobs now (a restart after a crash) and every check interval."""
        while True:
            try:
                await self.recover_stalled_jobs()
            except Exception:
                logger.exception("looking for stalled jobs failed")
            await asyncio.sleep(self._stall_check_seconds)

    async def _run(self, context: procrastinate.JobContext, task: str, payload: Payload) -> None:
        """Dispatch one job to its handler, recording the error and decision if it fails.

        Workers waiting on the job's lock are woken when it finishes by a trigger (migration
        0006), in Procrastinate's own finish statement.
        """
        job = context.job
        assert job.id is not None, "a fetched job has an id"
        try:
            handler = self._handlers.get(task)
            if handler is None:
                raise Permanent(f"no handler for task {task!r}")
            await handler(payload)
        except Exception as error:
            failed = functools.partial(_failed, job.id, error, job.attempts + 1, self._policy)
            self._decisions[job.id] = await units.write(self._engine, failed)
            raise
        except asyncio.CancelledError:  # a shutdown: Procrastinate puts the job back
            if job.queueing_lock is not None:
                await asyncio.shield(self._release_queueing_lock(job.id))
            raise

    async def _release_queueing_lock(self, job_id: int) -> None:
        """Drop a job's queueing lock before it goes back to the queue (see the statement)."""
        params = {"job_id": job_id}
        await units.write(self._engine, lambda conn: conn.execute(_RELEASE_QUEUEING_LOCK, params))
