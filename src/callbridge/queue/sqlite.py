"""The embedded job queue: jobs in the ``jobs`` table, claimed under short renewable leases.

Written here rather than taken from a library because it must enqueue inside the caller's
SQLAlchemy transaction on the same SQLite file, and SQLite has no LISTEN/NOTIFY nor row locks:
the engine's ``BEGIN IMMEDIATE`` serializes claims, leases stand in for row locks, and
``notify()`` plus polling stand in for LISTEN.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    func,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callbridge.queue import successor
from callbridge.queue.base import DeadJob, Handler, JobCounts, NewJob, Payload
from callbridge.queue.retry import (
    DEFAULT_POLICY,
    RetryPolicy,
)
from callbridge.queue.sqlite_table import jobs
from callbridge.queue.sqlite_worker import SlotWorker, changes_one, utcnow
from callbridge.storage import driver, units

logger = logging.getLogger(__name__)


# A waiting job that ran before keeps its last error: it waits for a retry.
_STATE = case(
    (and_(jobs.c.status == "todo", jobs.c.last_error.is_not(None)), "retry"),
    (jobs.c.status == "todo", "waiting"),
    (jobs.c.status == "doing", "running"),
    else_="dead",
).label("state")
_JOB_COUNTS = select(jobs.c.task, _STATE, func.count().label("jobs")).group_by(jobs.c.task, _STATE)

# A held queueing lock must not abort the caller's transaction, so no error is raised.
_INSERT_JOB = sqlite_insert(jobs).on_conflict_do_nothing()


_JOB_COLUMNS = (
    "task", "payload", "lock_key", "queueing_lock", "status", "scheduled_at", "attempts",
    "created_at",
)  # fmt: skip


def _job_row(job: NewJob) -> dict[str, Any]:
    now = utcnow()
    return {
        "task": job.task,
        "payload": job.payload,
        "lock_key": job.lock_key,
        "queueing_lock": job.queueing_lock,
        "status": "todo",
        "scheduled_at": now + timedelta(seconds=max(0.0, job.delay_seconds)),
        "attempts": 0,
        "created_at": now,
    }


class SQLiteJobQueue:
    """Run jobs from the ``jobs`` table with per-key FIFO, leases, retries and dead letters."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: RetryPolicy = DEFAULT_POLICY,
        lease_seconds: float = 60,
        poll_seconds: float = 0.05,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._lease = timedelta(seconds=lease_seconds)
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()

    def notify(self) -> None:
        """Wake idle workers at once; call it after committing an enqueue, on the same loop."""
        self._wakeup.set()

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
        result = await conn.execute(_INSERT_JOB, _job_row(job))
        return result.rowcount == 1

    def enqueue_blocking(self, conn: Connection, job: NewJob) -> bool:
        """Add ``job`` inside ``conn``'s open transaction; False if its queueing lock is held.

        A job due now asked for by a running job's unit may become that job's successor, run
        next in its slot (``queue.successor``).
        """
        if successor.adopt(conn, job, utcnow()):
            return True
        row = _job_row(job)
        return driver.execute(conn, _INSERT_JOB, row, _JOB_COLUMNS).rowcount == 1

    async def work(
        self, handlers: Mapping[str, Handler], *, stop: Any, concurrency: int = 4
    ) -> None:
        """Run jobs with ``handlers`` until the ``stop`` asyncio.Event is set."""
        worker = SlotWorker(
            self._engine, self._policy, self._lease, self._poll_seconds, self._wakeup
        )
        await worker.run(handlers, stop=stop, concurrency=concurrency)

    async def dead_letters(self, limit: int = 100, company_id: str | None = None) -> list[DeadJob]:
        """List the jobs that failed for good, newest first; one company's when it is named."""
        query = (
            select(jobs)
            .where(jobs.c.status == "dead", *_of_company(company_id))
            .order_by(jobs.c.finished_at.desc(), jobs.c.id.desc())
            .limit(limit)
        )
        rows = await units.read(self._engine, lambda conn: conn.execute(query).all())
        return [
            DeadJob(
                id=str(row.id),
                task=row.task,
                payload=row.payload,
                attempts=row.attempts,
                error=row.last_error or "",
                failed_at=row.finished_at,
            )
            for row in rows
        ]

    async def replay(self, job_id: str, company_id: str | None = None) -> bool:
        """Put a dead job back in the queue with a fresh attempt count; False if unknown."""
        try:
            key = int(job_id)
        except ValueError:
            return False
        # The queueing lock is dropped: an operator's replay must not be merged or refused.
        statement = (
            update(jobs)
            .where(jobs.c.id == key, jobs.c.status == "dead", *_of_company(company_id))
            .values(
                status="todo",
                attempts=0,
                scheduled_at=utcnow(),
                queueing_lock=None,
                finished_at=None,
                lease_until=None,
                worker_id=None,
                first_failed_at=None,
                lost_runs=0,
            )
        )
        replayed = await units.write(self._engine, functools.partial(changes_one, statement))
        if replayed:
            self.notify()
        return replayed

    async def wake(self, lock_prefix: str) -> int:
        """Make the waiting jobs whose lock key starts with ``lock_prefix`` due now."""
        now = utcnow()
        statement = (
            update(jobs)
            .where(
                jobs.c.status == "todo",
                jobs.c.lock_key.startswith(lock_prefix, autoescape=True),
                jobs.c.scheduled_at > now,
            )
            .values(scheduled_at=now)
        )
        woken = await units.write(
            self._engine, lambda conn: int(conn.execute(statement).rowcount or 0)
        )
        if woken:
            self.notify()
        return woken

    async def pending_count(self) -> int:
        """Count the jobs waiting or running (for readiness and the metrics)."""
        query = select(func.count()).select_from(jobs).where(jobs.c.status.in_(("todo", "doing")))
        return int(await units.read(self._engine, lambda conn: conn.execute(query).scalar_one()))

    async def job_counts(self) -> JobCounts:
        """Count the jobs by task and state, in the database, for the metrics."""
        rows = await units.read(self._engine, lambda conn: conn.execute(_JOB_COUNTS).all())
        return {(row.task, row.state): int(row.jobs) for row in rows}


def _of_company(company_id: str | None) -> list[Any]:
    """Name the company in a statement on jobs, when one is given (None: the operator's view)."""
    if company_id is None:
        return []
    return [jobs.c.payload["company_id"].as_string() == company_id]
