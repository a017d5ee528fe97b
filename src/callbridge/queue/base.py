"""The JobQueue protocol: durable jobs, enqueued in the caller's transaction, run by workers.

Contract (both implementations pass ``tests/queue/contract.py``)::

    async with engine.begin() as conn:                # the caller's own transaction
        await queue.enqueue(conn, "fold", {"event": 7}, lock_key="call:42")
    # nothing is enqueued unless that transaction commits

    await queue.work(handlers={"fold": fold_handler}, stop=stop_event)

- A job is committed together with the caller's rows, or not at all.
- Jobs sharing a ``lock_key`` never run at the same time, and run in the order enqueued.
- ``queueing_lock``: at most one *waiting* job per value; a second enqueue returns ``False``.
- A handler that raises ``RateLimited`` is rescheduled after ``retry_after`` (no attempt spent);
  ``Transient`` or an unexpected error is retried with exponential backoff and jitter until the
  retry horizon after the job's first failure; ``Permanent``, ``AuthFailed`` or a job failing
  past the horizon go to the dead letters, where they stay visible until ``replay``-ed.
- A job whose worker died (lease expired / stalled) is run again, up to ``max_lost_runs`` times.
- ``wake(prefix)`` makes the waiting jobs whose lock key starts with ``prefix`` due at once (an
  integration's syncs, when its CRM answers again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

Payload = dict[str, Any]
Handler = Callable[[Payload], Awaitable[None]]
# Jobs by (task, state); the states are "waiting" (for a first run), "retry" (waiting again
# after a failure), "running" and "dead" (in the dead letters).
JobCounts = dict[tuple[str, str], int]


@dataclass(frozen=True)
class DeadJob:
    """A job that will not be retried by itself; visible and replayable."""

    id: str
    task: str
    payload: Payload
    attempts: int
    error: str
    failed_at: datetime | None


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue in the same transaction as the rows of the work that asks for it."""

    task: str
    payload: Payload
    lock_key: str | None = None
    queueing_lock: str | None = None
    delay_seconds: float = 0.0


class JobQueue(Protocol):
    """Durable job queue with per-key ordering, retries and dead letters."""

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
        ...

    def enqueue_blocking(self, conn: Connection, job: NewJob) -> bool:
        """Like ``enqueue``, on a synchronous connection (inside a unit of work)."""
        ...

    async def work(
        self, handlers: Mapping[str, Handler], *, stop: Any, concurrency: int = 4
    ) -> None:
        """Run jobs with ``handlers`` until the ``stop`` asyncio.Event is set."""
        ...

    async def dead_letters(self, limit: int = 100, company_id: str | None = None) -> list[DeadJob]:
        """List the jobs that failed for good, newest first; one company's when it is named."""
        ...

    async def replay(self, job_id: str, company_id: str | None = None) -> bool:
        """Put a dead job back in the queue with a fresh attempt count; False if unknown.

        With ``company_id``, only a job of that company (the statement says so) is replayed.
        """
        ...

    def notify(self) -> None:
        """Wake this process's idle worker after a commit that enqueued jobs (may do nothing)."""
        ...

    async def wake(self, lock_prefix: str) -> int:
        """Make the waiting jobs whose lock key starts with ``lock_prefix`` due now; count them."""
        ...

    async def pending_count(self) -> int:
        """Count the jobs waiting or running (for readiness and the metrics)."""
        ...

    async def job_counts(self) -> JobCounts:
        """Count the jobs by task and state, in the database, for the metrics."""
        ...
