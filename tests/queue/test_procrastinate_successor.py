"""A job's successor run in its slot at once (the Procrastinate queue): no fetch, nothing lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from procrastinate import exceptions, manager
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.queue import procrastinate_sql as sql
from callbridge.queue.base import NewJob, Payload
from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue
from callbridge.queue.procrastinate_successor import LockSafeJobManager, ProcrastinateSuccessor
from callbridge.runtime.schema import upgrade
from callbridge.storage import units
from callbridge.storage.engine import create_engine
from tests.queue.contract import eventually, settled

Rows = list[tuple[str, str, bool]]


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """Return an engine on a fresh PostgreSQL database with the queue's schema."""
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    yield engine
    units.dispose(engine)
    await engine.dispose()


def _asking(*new: NewJob) -> units.WithJobs[None, NewJob]:
    def work(conn: Connection) -> tuple[None, list[NewJob]]:
        return None, list(new)

    return work


async def _rows(engine: AsyncEngine) -> Rows:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT args->>'task', status, worker_id FROM procrastinate_jobs ORDER BY id")
        )
    return [(task, str(status), worker is not None) for task, status, worker in found]


async def _run(queue: ProcrastinateJobQueue, handlers: dict, until: str) -> None:  # type: ignore[type-arg]
    stop = asyncio.Event()
    worker = asyncio.create_task(queue.work(handlers, stop=stop, concurrency=1))
    await eventually(lambda: settled(queue), until)
    stop.set()
    await worker


def _counting_fetches(queue: ProcrastinateJobQueue) -> list[str]:
    """Record the task of every job the worker fetches."""
    fetched: list[str] = []
    jobs = queue._app.job_manager
    fetch = jobs.fetch_job

    async def counted(queues: object, worker_id: int) -> object:
        job = await fetch(queues=queues, worker_id=worker_id)  # type: ignore[arg-type]
        if job is not None:
            fetched.append(str(job.task_kwargs["task"]))
        return job

    jobs.fetch_job = counted  # type: ignore[method-assign,assignment]
    return fetched


async def test_a_sync_asked_for_by_a_running_fold_runs_next_without_a_fetch(
    postgres_url: str, engine: AsyncEngine
) -> None:
    """The successor is written running: the fold's row is gone, no worker fetched the sync."""
    queue = ProcrastinateJobQueue(postgres_url, engine, poll_seconds=0.05)
    fetched = _counting_fetches(queue)
    seen: list[Rows] = []

    async def fold(payload: Payload) -> None:
        sync = NewJob("sync", {"n": 1}, lock_key="number:1", queueing_lock="sync:1")
        await units.write_with_jobs(engine, queue, _asking(sync))
        seen.append(await _rows(engine))

    async def sync(payload: Payload) -> None:
        seen.append(await _rows(engine))

    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {}, lock_key="call:1", queueing_lock="fold:1")
    await _run(queue, {"fold": fold, "sync": sync}, "the fold and its sync to run")
    assert seen == [[("sync", "doing", True)], [("sync", "doing", True)]]
    assert fetched == ["fold"]
    assert await _rows(engine) == []


async def test_a_successor_whose_lock_is_busy_waits_its_turn(
    postgres_url: str, engine: AsyncEngine
) -> None:
    """A waiting job of the same lock runs first: per-lock order is kept."""
    queue = ProcrastinateJobQueue(postgres_url, engine, poll_seconds=0.05)
    order: list[int] = []

    async def fold(payload: Payload) -> None:
        sync = NewJob("sync", {"n": 2}, lock_key="number:1", queueing_lock="sync:2")
        await units.write_with_jobs(engine, queue, _asking(sync))

    async def sync(payload: Payload) -> None:
        order.append(int(payload["n"]))

    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {}, lock_key="call:2")
        await queue.enqueue(conn, "sync", {"n": 1}, lock_key="number:1", delay_seconds=0.3)
    await _run(queue, {"fold": fold, "sync": sync}, "three jobs to run")
    assert order == [1, 2]


@pytest.mark.parametrize("fail_after", [False, True])
async def test_a_successor_of_a_job_that_fails_after_adopting_it_still_runs_once(
    postgres_url: str, engine: AsyncEngine, fail_after: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """If the asking job fails after its unit committed, its successor goes back to the queue.

    Procrastinate does not finish the asking job again: its row is gone, and finishing it would
    fail (an error in the worker's log).
    """
    queue = ProcrastinateJobQueue(postgres_url, engine, poll_seconds=0.05)
    ran: list[int] = []

    async def fold(payload: Payload) -> None:
        sync = NewJob("sync", {"n": 7}, lock_key="number:7", queueing_lock="sync:7")
        await units.write_with_jobs(engine, queue, _asking(sync))
        if fail_after:
            raise RuntimeError("after the commit")

    async def sync(payload: Payload) -> None:
        ran.append(int(payload["n"]))

    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {}, lock_key="call:7")
    await _run(queue, {"fold": fold, "sync": sync}, "the fold and its sync to run")
    assert ran == [7]
    assert await _rows(engine) == []  # the fold that failed was settled with the adoption
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert [e.endswith("failed after its successor was adopted") for e in errors] == (
        [True] if fail_after else []
    )


async def test_a_failing_successor_is_retried_by_the_policy(
    postgres_url: str, engine: AsyncEngine
) -> None:
    """A successor's failure is noted and retried like a fetched job's: nothing is lost."""
    queue = ProcrastinateJobQueue(postgres_url, engine, poll_seconds=0.05)
    stop, synced = asyncio.Event(), asyncio.Event()

    async def fold(payload: Payload) -> None:
        sync = NewJob("sync", {}, lock_key="number:9", queueing_lock="sync:9")
        await units.write_with_jobs(engine, queue, _asking(sync))

    async def sync(payload: Payload) -> None:
        synced.set()
        raise RuntimeError("the CRM said no")

    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {}, lock_key="call:9")
    worker = asyncio.create_task(queue.work({"fold": fold, "sync": sync}, stop=stop))
    await asyncio.wait_for(synced.wait(), 10)
    await eventually(
        lambda: _states_are(engine, [("sync", "todo")]), "the sync to wait for its retry"
    )
    stop.set()
    await worker
    async with engine.connect() as conn:
        job = (
            await conn.execute(
                text(
                    "SELECT job.attempts, job.scheduled_at > now(), error.error "
                    "FROM procrastinate_jobs AS job JOIN callbridge_job_errors AS error "
                    "ON error.job_id = job.id"
                )
            )
        ).one()
    assert tuple(job) == (1, True, "RuntimeError: the CRM said no")


async def _states_are(engine: AsyncEngine, expected: list[tuple[str, str]]) -> bool:
    return [(task, status) for task, status, _ in await _rows(engine)] == expected


async def _fetch_meeting_an_adoption(
    queue: ProcrastinateJobQueue, engine: AsyncEngine, lock: str
) -> object:
    """Race a fetch against an adoption of ``lock``; return what the fetch gave, or raised."""
    async with engine.begin() as conn:
        insert = text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")
        worker_id = (await conn.execute(insert)).scalar_one()
    adopting = units._blocking_engine(engine).connect()
    adopting.begin()
    job = NewJob("sync", {"n": 1}, lock_key=lock, queueing_lock=f"sync:{lock}")
    adopter = ProcrastinateSuccessor(0, worker_id=worker_id)
    assert adopter.write(adopting, job, datetime.now(UTC)) is not None
    async with engine.begin() as conn:  # a second call of the number, committed meanwhile
        await queue.enqueue(conn, "sync", {"n": 2}, lock_key=lock)
    try:
        async with queue._app.open_async():
            fetch = asyncio.create_task(
                queue._app.job_manager.fetch_job(queues=[sql.QUEUE_NAME], worker_id=worker_id)
            )
            # It waits on the index entry of the uncommitted successor (on a busy machine the
            # fetch may take a while to get there: committing sooner would be no race at all).
            await eventually(lambda: _fetch_waits_on_a_lock(engine), "the fetch to wait")
            assert not fetch.done()
            await asyncio.to_thread(adopting.commit)
            try:
                return await asyncio.wait_for(fetch, 10)
            except exceptions.UniqueViolation as err:
                return err
    finally:
        adopting.close()


async def _fetch_waits_on_a_lock(engine: AsyncEngine) -> bool:
    """Tell whether a fetch of this database waits for a lock."""
    async with engine.connect() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%procrastinate_fetch_job%'"
            )
        )
        return bool(waiting.scalar_one())


async def test_a_fetch_that_meets_an_adoption_of_its_lock_finds_no_job(
    postgres_url: str, engine: AsyncEngine
) -> None:
    """The one race an adoption adds: a job of its lock committed after it looked, then fetched.

    Procrastinate's fetch would set that job running beside the successor; the unique index of
    running locks makes it wait for the adoption's commit, then fail. The fetch finds no job
    instead; the job waits for the lock, as it should.
    """
    queue = ProcrastinateJobQueue(postgres_url, engine)
    assert await _fetch_meeting_an_adoption(queue, engine, "number:5") is None
    assert await _rows(engine) == [("sync", "doing", True), ("sync", "todo", False)]


async def test_procrastinate_s_own_fetch_fails_on_that_race(
    postgres_url: str, engine: AsyncEngine
) -> None:
    """The guard is needed: without it, the same race makes Procrastinate's fetch raise."""
    queue = ProcrastinateJobQueue(postgres_url, engine)
    assert isinstance(queue._app.job_manager, LockSafeJobManager)
    queue._app.job_manager = manager.JobManager(connector=queue._app.connector)
    found = await _fetch_meeting_an_adoption(queue, engine, "number:6")
    assert isinstance(found, exceptions.UniqueViolation)
