"""The embedded queue's worker side: claim jobs under leases, run them in slots, settle them.

A slot runs its jobs one after another: each job is settled in the transaction that claims the
next (or in the one that hands it its successor: ``queue.successor``), and the slot is given
back once no job is runnable. Abandoned jobs (their lease ran out:
their worker died) are looked for once a second, by new claims and chained ones alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    Row,
    Update,
    and_,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.errors import Permanent
from callbridge.queue import slots as job_slots
from callbridge.queue import successor as successors
from callbridge.queue.base import Handler, Payload
from callbridge.queue.retry import (
    Dead,
    Reschedule,
    Retry,
    RetryPolicy,
    lost_runs_error,
    starts_the_clock,
)
from callbridge.queue.slot_pool import WorkerSlots
from callbridge.queue.sqlite_claims import claimable
from callbridge.queue.sqlite_successor import SqliteSuccessor
from callbridge.queue.sqlite_table import jobs
from callbridge.storage import driver, units

logger = logging.getLogger("callbridge.queue.sqlite")
ABANDONED_CHECK_SECONDS = 1.0


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC (the jobs table's timestamps)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Claimed:
    """A job this worker holds the lease of."""

    id: int
    task: str
    payload: Payload
    attempts: int
    first_failed_at: datetime | None = None


# The claim's and the success's statements, built once: a statement built per job costs its
# cache key and compilation lookup every time (a claim's UPDATE was 3.7 % of the server's CPU).
_LEASE = (
    update(jobs)
    .where(jobs.c.id == bindparam("job"))
    .values(
        status="doing",
        attempts=bindparam("runs"),
        lost_runs=bindparam("lost"),
        lease_until=bindparam("until"),
        worker_id=bindparam("worker"),
        # The queueing lock only dedupes waiting jobs: once this one runs, a new one may wait,
        # and this one must be able to go back to waiting on a retry.
        queueing_lock=None,
    )
)
_MINE = and_(
    jobs.c.id == bindparam("job"), jobs.c.worker_id == bindparam("worker"), jobs.c.status == "doing"
)
_DONE = delete(jobs).where(_MINE)
_RELEASE = update(jobs).where(_MINE).values(status="todo", lease_until=None, worker_id=None)


class SlotWorker:
    """One ``work()`` run of the SQLite queue: its slots, claims, leases and settlements."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: RetryPolicy,
        lease: timedelta,
        poll_seconds: float,
        wakeup: asyncio.Event,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._lease = lease
        self._poll_seconds = poll_seconds
        self._wakeup = wakeup
        self._next_abandoned_check = 0.0
        self._busy = False  # the last claim found a job
        self._slots = WorkerSlots(1)  # set by run()

    async def run(
        self, handlers: Mapping[str, Handler], *, stop: Any, concurrency: int = 4
    ) -> None:
        """Run jobs with ``handlers`` until the ``stop`` asyncio.Event is set."""
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        await self._expire_orphans()
        slots = self._slots = WorkerSlots(concurrency)
        running: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()
            # A freed slot or lock key may make another job claimable right away.
            self._wakeup.set()

        try:
            while not stop.is_set():
                await slots.acquire()
                if stop.is_set():  # stopped while every slot was busy
                    slots.release()
                    break
                self._wakeup.clear()
                job = await self._try_claim(worker_id)
                if job is None:
                    slots.release()
                    await self._idle(stop)
                    continue
                task = asyncio.create_task(self._run(job, handlers, worker_id, stop))
                running.add(task)
                task.add_done_callback(finished)
        finally:
            # Graceful stop: running handlers finish and settle their jobs.
            await asyncio.gather(*running, return_exceptions=True)

    async def _expire_orphans(self) -> None:
        """End at once the leases of jobs whose worker process on this host no longer exists.

        After a crash and restart the jobs the dead process held need not wait for their lease.
        """
        host = socket.gethostname()

        def expire(conn: Connection) -> None:
            held = conn.execute(select(jobs.c.id, jobs.c.worker_id).where(jobs.c.status == "doing"))
            orphans = [row.id for row in held if _dead_local_worker(row.worker_id, host)]
            if orphans:
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id.in_(orphans), jobs.c.status == "doing")
                    .values(lease_until=datetime.now(UTC))
                )

        await units.write(self._engine, expire)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait for a notify, the stop event, or the next poll, whichever comes first."""
        waiters = [asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(
                waiters, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _try_claim(self, worker_id: str) -> _Claimed | None:
        """Claim a job, or return None (also when the database is briefly unavailable)."""
        try:
            return await self._claim(worker_id)
        except Exception:
            logger.exception("claiming a job failed; trying again in a second")
            # A database that keeps failing must not flood the log at the polling rate.
            await asyncio.sleep(1.0)
            return None

    def _abandoned_due(self) -> bool:
        """Tell whether to look for abandoned jobs (their lease ran out): once a second."""
        due = time.monotonic() >= self._next_abandoned_check
        if due:
            self._next_abandoned_check = time.monotonic() + ABANDONED_CHECK_SECONDS
        return due

    async def _claim(self, worker_id: str) -> _Claimed | None:
        """Take the lease of the next runnable job in one short write transaction."""
        abandoned = self._abandoned_due()
        # An idle worker whose writes wait in a thread looks first without the write lock:
        # polling must not make webhooks and other writers queue behind empty claims. A busy
        # one, or one that writes in the event loop (where nobody waits behind it), goes
        # straight for the next job.
        peek = not self._busy and not units.writes_in_loop(self._engine)
        look = functools.partial(claimable, now=utcnow(), abandoned=abandoned)
        if peek and not await units.read(self._engine, look):
            return None
        job = await units.write(self._engine, functools.partial(self._take, worker_id, abandoned))
        self._busy = job is not None
        return job

    def _take(self, worker_id: str, abandoned: bool, conn: Connection) -> _Claimed | None:
        now = utcnow()
        while (row := claimable(conn, now, abandoned)) is not None:
            # A reclaimed job (its worker died mid-run) counts that lost run as an attempt.
            lost = row.status == "doing"
            attempts, lost_runs = row.attempts + lost, row.lost_runs + lost
            if lost_runs >= self._policy.max_lost_runs:
                _bury_lost(conn, row.id, attempts, lost_runs, now)  # it may kill its workers
                continue
            return self._lease_to(worker_id, conn, row, (attempts, lost_runs), now)
        return None

    def _lease_to(
        self,
        worker_id: str,
        conn: Connection,
        row: Row[Any],
        counts: tuple[int, int],
        now: datetime,
    ) -> _Claimed:
        """Mark a job as run by ``worker_id`` under a fresh lease (``counts``: runs, lost runs)."""
        attempts, lost_runs = counts
        lease = {"job": row.id, "runs": attempts, "lost": lost_runs, "worker": worker_id}
        driver.execute(conn, _LEASE, {**lease, "until": now + self._lease})
        return _Claimed(row.id, row.task, row.payload, attempts, row.first_failed_at)

    async def _run(
        self, job: _Claimed, handlers: Mapping[str, Handler], worker_id: str, stop: Any
    ) -> None:
        """Run jobs in one slot, one after another: each settled where the next is claimed.

        Settling a job and claiming the next in one transaction saves a transaction per job;
        once the worker stops, or no job is runnable, the slot is given back.
        """
        job_slots.bind(self._park)
        next_job: _Claimed | None = job
        while next_job is not None:
            successor = SqliteSuccessor(next_job.id, worker_id=worker_id, lease=self._lease)
            offered = successors.offer(successor)
            try:
                error = await self._handle(next_job, handlers, worker_id)
            finally:
                successors.withdraw(offered)
            take = not stop.is_set()
            if successor.adopted is not None and error is None and take:
                # Its unit settled this job and leased the next to this slot: run it now.
                adopted_id, adopted = successor.adopted
                next_job = _Claimed(adopted_id, adopted.task, adopted.payload, 0)
                continue
            release = successor.adopted[0] if successor.adopted is not None else None
            # Jobs waiting to take a slot back go before a new job: this slot is given back.
            take = take and not self._slots.returning
            next_job = await self._settle_and_take(next_job, worker_id, error, take, release)

    @contextlib.asynccontextmanager
    async def _park(self) -> AsyncIterator[None]:
        """Lend the running job's slot to another job while it waits (``queue.slots.parked``).

        Taking it back goes before the new jobs waiting for a slot (``queue.slot_pool``).
        """
        async with self._slots.park():
            self._wakeup.set()  # the freed slot may take a job at once
            yield

    async def _handle(
        self, job: _Claimed, handlers: Mapping[str, Handler], worker_id: str
    ) -> Exception | None:
        """Run one job's handler under a renewed lease; return its error, if any."""
        heartbeat = asyncio.create_task(self._keep_lease(job.id, worker_id))
        try:
            handler = handlers.get(job.task)
            if handler is None:
                raise Permanent(f"no handler for task {job.task!r}")
            await handler(job.payload)
        except Exception as err:
            return err
        finally:
            heartbeat.cancel()
        return None

    async def _settle_and_take(
        self,
        job: _Claimed,
        worker_id: str,
        error: Exception | None,
        take: bool,
        release: int | None = None,
    ) -> _Claimed | None:
        """Record a job's outcome and, when ``take``, claim the next job in the same transaction.

        ``release``: a successor the job adopted but this slot will not run (the job failed
        after adopting it, or the worker stops): it goes back to the queue for any claim.
        """
        settle = self._settlement(job, worker_id, error)
        abandoned = take and self._abandoned_due()

        def work(conn: Connection) -> _Claimed | None:
            settle(conn)
            if release is not None:
                driver.execute(conn, _RELEASE, {"job": release, "worker": worker_id})
            return self._take(worker_id, abandoned, conn) if take else None

        try:
            return await units.write(self._engine, work)
        except Exception:
            # The lease will run out and another claim will run the job again.
            logger.exception("recording the outcome of job %s failed", job.id)
            return None

    async def _keep_lease(self, job_id: int, worker_id: str) -> None:
        """Extend the lease while the handler runs, so no other worker takes the job."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            statement = (
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.worker_id == worker_id, jobs.c.status == "doing")
                .values(lease_until=utcnow() + self._lease)
            )
            try:
                held = await units.write(self._engine, functools.partial(changes_one, statement))
            except Exception:
                logger.exception("extending the lease of job %s failed", job_id)
                continue
            if not held:
                logger.warning("job %s lost its lease to another worker", job_id)
                return

    def _settlement(
        self, job: _Claimed, worker_id: str, error: Exception | None
    ) -> Callable[[Connection], object]:
        """Return the write that deletes a succeeded job, or retries, reschedules or buries it."""
        if error is None:
            return lambda conn: driver.execute(conn, _DONE, {"job": job.id, "worker": worker_id})
        mine = and_(jobs.c.id == job.id, jobs.c.worker_id == worker_id, jobs.c.status == "doing")
        now = utcnow()
        attempts = job.attempts + 1
        first = job.first_failed_at
        failing_for = 0.0 if first is None else (now - first).total_seconds()
        decision = self._policy.decide(error, attempts, failing_for)
        values: dict[str, Any] = {
            "last_error": f"{type(error).__name__}: {error}",
            "lease_until": None,
            "worker_id": None,
        }
        match decision:
            case Retry(delay) | Reschedule(delay):
                counted = attempts if isinstance(decision, Retry) else job.attempts
                values |= {"status": "todo", "attempts": counted}
                values["scheduled_at"] = now + timedelta(seconds=delay)
                if first is None and starts_the_clock(decision):
                    values["first_failed_at"] = now
                logger.warning("job %s failed (%s); again in %.2fs", job.id, error, delay)
            case Dead(reason):
                values |= {"status": "dead", "attempts": attempts, "finished_at": now}
                values["last_error"] = reason
                logger.error("job %s is dead: %s (%s)", job.id, reason, error)
        return _executing(update(jobs).where(mine).values(**values))


def _executing(statement: Executable) -> Callable[[Connection], object]:
    """Return a write that runs ``statement`` on the unit's connection."""
    return lambda conn: conn.execute(statement)


def _bury_lost(conn: Connection, job_id: int, attempts: int, lost: int, now: datetime) -> None:
    """Dead-letter a job whose workers stopped during ``lost`` of its runs."""
    error = lost_runs_error(lost)
    values = {"status": "dead", "attempts": attempts, "lost_runs": lost, "finished_at": now}
    values["last_error"] = error
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
    logger.error("job %s is dead: %s", job_id, error)


def changes_one(statement: Update, conn: Connection) -> bool:
    """Run an UPDATE and tell whether it changed exactly one row."""
    return bool(conn.execute(statement).rowcount == 1)


def _dead_local_worker(worker_id: str | None, host: str) -> bool:
    """Tell whether ``worker_id`` names a process of this host that is no longer running."""
    parts = (worker_id or "").split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
