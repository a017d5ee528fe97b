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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callbridge.errors import Permanent
from callbridge.queue import procrastinate_sql as sql
from callbridge.queue import procrastinate_successor as successor_rows
from callbridge.queue import slots, successor
from callbridge.queue.base import DeadJob, Handler, JobCounts, NewJob, Payload
from callbridge.queue.procrastinate_pool import libpq_url, pool_checking_idle_connections
from callbridge.queue.procrastinate_worker import LendingWorker
from callbridge.queue.retry import (
    DEFAULT_POLICY,
    Dead,
    Decision,
    RetryPolicy,
    lost_runs_error,
)
from callbridge.storage import units

logger = logging.getLogger(__name__)


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
        return retry_decision(job.id, decision, exception)


def retry_decision(
    job_id: int, decision: Decision, exception: BaseException
) -> procrastinate.RetryDecision | None:
    """Turn a policy's decision into Procrastinate's: when to retry, or None to bury the job."""
    if isinstance(decision, Dead):
        logger.warning("job %s is dead: %s (%s)", job_id, decision.reason, exception)
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
        self._worker: LendingWorker | None = None  # set while work() runs
        self._decisions: dict[int, Decision] = {}
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(database_url),
            min_size=1,
            max_size=10,
            pool_factory=pool_checking_idle_connections,
        )
        self._app = procrastinate.App(connector=connector)
        self._app.job_manager = successor_rows.LockSafeJobManager(connector=connector)
        self._app.task(
            name=sql.TASK_NAME,
            queue=sql.QUEUE_NAME,
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
        return await conn.run_sync(self._defer, job)

    def enqueue_blocking(self, conn: Connection, job: NewJob) -> bool:
        """Like :meth:`enqueue`, on a synchronous connection (a unit of work in a thread).

        A job due now asked for by a running job's unit may become that job's successor, run
        next in its slot (``queue.successor``).
        """
        return successor.adopt(conn, job, datetime.now(UTC)) or self._defer(conn, job)

    def _defer(self, conn: Connection, job: NewJob) -> bool:
        """Insert ``job`` waiting, in ``conn``'s transaction; False if its queueing lock is held."""
        params = sql.defer_params(job)
        for _ in range(10):
            if conn.execute(sql.DEFER, params).first() is not None:
                return True
            # A job with this queueing lock waits: hold it until the caller commits, so it reads
            # the caller's rows. If it started in between, it may not: defer a new job instead.
            if conn.execute(sql.HOLD_WAITING, params).first() is not None:
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
            queue=sql.QUEUE_NAME, seconds_since_heartbeat=self._stall_seconds
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
        lost = await units.read(self._engine, functools.partial(sql.lost_runs, job.id)) + 1
        if lost >= self._policy.max_lost_runs:  # it may be what kills its workers
            error = lost_runs_error(lost)
            await units.write(self._engine, functools.partial(sql.note_error, job.id, error))
            failed = procrastinate.jobs.Status.FAILED
            await self._app.job_manager.finish_job(job, status=failed, delete_job=False)
            logger.error("job %s is dead: %s", job.id, error)
            return
        await self._release_queueing_lock(job.id)
        await self._app.job_manager.retry_job(job)  # counts the lost run as an attempt
        # Counted once the retry is ours (another worker may have recovered the job first).
        await units.write(self._engine, functools.partial(sql.count_lost_run, job.id))
        logger.warning("job %s was stalled (its worker died); queued again", job.id)

    async def dead_letters(self, limit: int = 100, company_id: str | None = None) -> list[DeadJob]:
        """List the jobs that failed for good, newest first; one company's when it is named."""
        params = {"queue": sql.QUEUE_NAME, "limit": limit, "company_id": company_id}
        async with self._engine.connect() as conn:
            result = await conn.execute(sql.DEAD_LETTERS, params)
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
        params = {"job_id": key, "queue": sql.QUEUE_NAME, "company_id": company_id}
        async with self._engine.begin() as conn:
            result = await conn.execute(sql.REPLAY, params)
            if result.rowcount != 1:
                return False
            await conn.execute(sql.REPLAY_COUNTS, {"job_id": key})
            # Only inserts notify the workers by themselves; delivered at commit.
            await conn.execute(
                sql.WAKE_WORKERS, {"channel": sql.NOTIFY_CHANNEL, "message": message}
            )
        return True

    async def wake(self, lock_prefix: str) -> int:
        """Make the waiting jobs whose lock starts with ``lock_prefix`` due now, and say so."""
        escaped = lock_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        message = json.dumps({"type": "job_inserted"})
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sql.WAKE, {"queue": sql.QUEUE_NAME, "pattern": escaped + "%"}
            )
            if result.rowcount:
                await conn.execute(
                    sql.WAKE_WORKERS, {"channel": sql.NOTIFY_CHANNEL, "message": message}
                )
        return int(result.rowcount or 0)

    async def pending_count(self) -> int:
        """Count the jobs waiting or running (for readiness and the metrics)."""
        async with self._engine.connect() as conn:
            return int((await conn.execute(sql.PENDING, {"queue": sql.QUEUE_NAME})).scalar_one())

    async def job_counts(self) -> JobCounts:
        """Count the jobs by task and state, in the database, for the metrics."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sql.JOB_COUNTS, {"queue": sql.QUEUE_NAME})).all()
        return {(row.task, row.state): int(row.jobs) for row in rows}

    async def _run_worker(self, concurrency: int) -> None:
        """Run procrastinate's worker on our queue, deleting jobs that succeed."""
        worker = self._worker = LendingWorker(
            self._app,
            queues=[sql.QUEUE_NAME],
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
        await worker.run()  # type: ignore[no-untyped-call]

    async def _recover_periodically(self) -> None:
        """Recover stalled jobs now (a restart after a crash) and every check interval."""
        while True:
            try:
                await self.recover_stalled_jobs()
            except Exception:
                logger.exception("looking for stalled jobs failed")
            await asyncio.sleep(self._stall_check_seconds)

    async def _run(self, context: procrastinate.JobContext, task: str, payload: Payload) -> None:
        """Dispatch one job to its handler, then its successor if its units adopted one.

        A failure is recorded with its error and retry decision. Workers waiting on the job's
        lock are woken when it finishes by a trigger (migration 0006), in Procrastinate's own
        finish statement.
        """
        job, worker = context.job, self._worker
        assert job.id is not None, "a fetched job has an id"
        if worker is None or worker.worker_id is None:  # run outside a worker: no successor
            await self._attempt(job, task, payload)
            return
        slots.bind(worker.slots.park)  # the job lends its slot while it waits for a CRM
        offer = successor_rows.ProcrastinateSuccessor(job.id, worker_id=worker.worker_id)
        offered = successor.offer(offer)
        try:
            succeeded = await self._attempt(job, task, payload, offer)
        finally:
            successor.withdraw(offered)
            if offer.adopted is not None:  # its unit settled the job: Procrastinate must not
                worker.settled.add(job.id)
        if succeeded and offer.adopted is not None:
            await self._run_successor(*offer.adopted, worker.worker_id)

    async def _attempt(
        self,
        job: procrastinate.jobs.Job,
        task: str,
        payload: Payload,
        offer: successor.Successor | None = None,
    ) -> bool:
        """Run the handler; False: it failed after adopting a successor (the job is done).

        Any other failure is recorded with its retry decision, and raised for Procrastinate.
        """
        assert job.id is not None, "a fetched job has an id"
        try:
            await self._dispatch(task, payload)
        except Exception as error:
            if offer is not None and offer.adopted is not None:
                # Done with the unit that adopted its successor: not retried; the successor
                # goes back to the queue for any worker.
                logger.exception("job %s failed after its successor was adopted", job.id)
                await self._release_successor(offer.adopted[0])
                return False
            failed = functools.partial(sql.failed, job.id, error, job.attempts + 1, self._policy)
            self._decisions[job.id] = await units.write(self._engine, failed)
            raise
        except asyncio.CancelledError:  # a shutdown: Procrastinate puts the job back
            if offer is not None and offer.adopted is not None:
                await asyncio.shield(self._release_successor(offer.adopted[0]))
            elif job.queueing_lock is not None:
                await asyncio.shield(self._release_queueing_lock(job.id))
            raise
        return True

    async def _dispatch(self, task: str, payload: Payload) -> None:
        """Run the handler of ``task``."""
        handler = self._handlers.get(task)
        if handler is None:
            raise Permanent(f"no handler for task {task!r}")
        await handler(payload)

    async def _run_successor(self, job_id: int, new: NewJob, worker_id: int) -> None:
        """Run an adopted successor in this slot, and settle it as Procrastinate would."""
        job = successor_rows.job_of(job_id, new, worker_id)
        try:
            await self._dispatch(new.task, new.payload)
        except asyncio.CancelledError:  # a shutdown: back to the queue
            await asyncio.shield(self._release_successor(job_id))
            raise
        except Exception as error:
            failed = functools.partial(sql.failed, job_id, error, 1, self._policy)
            decision = retry_decision(job_id, await units.write(self._engine, failed), error)
            if decision is None:
                failed_status = procrastinate.jobs.Status.FAILED
                await self._app.job_manager.finish_job(job, status=failed_status, delete_job=False)
            else:
                await self._app.job_manager.retry_job(job, retry_at=decision.retry_at)
            return
        done = procrastinate.jobs.Status.SUCCEEDED
        await self._app.job_manager.finish_job(job, status=done, delete_job=True)

    async def _release_successor(self, job_id: int) -> None:
        """Queue again a successor this slot will not run."""
        await units.write(self._engine, functools.partial(successor_rows.release, job_id))

    async def _release_queueing_lock(self, job_id: int) -> None:
        """Drop a job's queueing lock before it goes back to the queue (see the statement)."""
        params = {"job_id": job_id}
        await units.write(
            self._engine, lambda conn: conn.execute(sql.RELEASE_QUEUEING_LOCK, params)
        )
