"""What the Procrastinate queue adds to the contract: its schema, installed by the migrations, and
stall recovery."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue
from callbridge.runtime.schema import upgrade
from callbridge.storage.engine import create_engine


async def _claimed_by_a_silent_worker(conn: AsyncConnection) -> None:
    """Make every job claimed by a worker that then went silent for a minute."""
    await conn.execute(
        text(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '1 minute')"
        )
    )
    await conn.execute(
        text(
            "UPDATE procrastinate_jobs SET status = 'doing', "
            "worker_id = (SELECT max(id) FROM procrastinate_workers)"
        )
    )


async def test_migrations_install_the_queue_once_and_are_idempotent(postgres_url: str) -> None:
    for _ in range(2):
        await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.execute(
                text(
                    "SELECT to_regclass('procrastinate_jobs') IS NOT NULL, "
                    "to_regclass('callbridge_job_errors') IS NOT NULL"
                )
            )
            assert tables.one() == (True, True)
    finally:
        await engine.dispose()


async def test_recover_stalled_jobs_requeues_jobs_of_silent_workers(postgres_url: str) -> None:
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    queue = ProcrastinateJobQueue(postgres_url, engine, stall_seconds=1.0)
    try:
        async with engine.begin() as conn:
            await queue.enqueue(conn, "fold", {"n": 1}, lock_key="k")
            await _claimed_by_a_silent_worker(conn)
        async with queue._app.open_async():
            assert await queue.recover_stalled_jobs() == 1
            assert await queue.recover_stalled_jobs() == 0
        async with engine.connect() as conn:
            row = (
                await conn.execute(text("SELECT status, attempts FROM procrastinate_jobs"))
            ).one()
        assert tuple(row) == ("todo", 1)
    finally:
        await engine.dispose()


async def test_a_stalled_job_is_recovered_while_a_job_with_its_queueing_lock_waits(
    postgres_url: str,
) -> None:
    """A running job keeps its queueing lock; recovery drops it so the two can both wait."""
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    queue = ProcrastinateJobQueue(postgres_url, engine, stall_seconds=1.0)
    try:
        async with engine.begin() as conn:
            await queue.enqueue(conn, "fold", {"n": 1}, lock_key="k", queueing_lock="q")
            await _claimed_by_a_silent_worker(conn)
        async with engine.begin() as conn:  # queued while the first one "ran"
            assert await queue.enqueue(conn, "fold", {"n": 2}, lock_key="k", queueing_lock="q")
        async with queue._app.open_async():
            assert await queue.recover_stalled_jobs() == 1
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT status, queueing_lock FROM procrastinate_jobs ORDER BY id")
            )
            assert [tuple(row) for row in rows] == [("todo", None), ("todo", "q")]
    finally:
        await engine.dispose()


async def test_a_job_enqueued_behind_a_running_one_starts_when_it_ends(postgres_url: str) -> None:
    """No polling: the job that waited on the lock is woken as soon as the lock's job ends.

    The second job is enqueued while the first runs: the workers refuse it (its lock is held),
    and nothing but the wake-up after the first one ends would start it before the 30 s poll.
    """
    import asyncio

    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    queue = ProcrastinateJobQueue(postgres_url, engine, poll_seconds=30.0)
    second_ran = asyncio.Event()
    stop = asyncio.Event()

    async def first(payload: dict[str, object]) -> None:
        async with engine.begin() as conn:
            await queue.enqueue(conn, "second", {}, lock_key="k")
        await asyncio.sleep(0.2)  # the insert's notification comes and goes while this runs

    async def second(payload: dict[str, object]) -> None:
        second_ran.set()

    try:
        async with engine.begin() as conn:
            await queue.enqueue(conn, "first", {}, lock_key="k")
        worker = asyncio.create_task(queue.work({"first": first, "second": second}, stop=stop))
        await asyncio.wait_for(second_ran.wait(), 10)
        stop.set()
        await worker
    finally:
        await engine.dispose()


async def test_a_job_held_by_an_enqueue_starts_when_the_enqueue_commits(
    postgres_url: str,
) -> None:
    """No polling: a waiting job an enqueue merged into is woken when that enqueue commits.

    While the enqueuing transaction holds the job (so it reads the new event), workers skip it;
    nothing is inserted, so only the notification sent with the hold tells them it is free.
    """
    import asyncio

    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    queue = ProcrastinateJobQueue(postgres_url, engine, poll_seconds=30.0)
    ran, stop = asyncio.Event(), asyncio.Event()

    async def fold(payload: dict[str, object]) -> None:
        ran.set()

    try:
        async with engine.begin() as conn:
            assert await queue.enqueue(conn, "fold", {}, queueing_lock="fold:1")
        async with engine.begin() as conn:
            assert not await queue.enqueue(conn, "fold", {}, queueing_lock="fold:1")
            worker = asyncio.create_task(queue.work({"fold": fold}, stop=stop))
            await asyncio.sleep(1.5)  # the worker starts, fetches, skips the held job, waits
            assert not ran.is_set()
        await asyncio.wait_for(ran.wait(), 10)
        stop.set()
        await worker
    finally:
        await engine.dispose()


async def test_jobs_are_found_by_lock_without_walking_the_backlog(postgres_url: str) -> None:
    """Procrastinate's fetch (and the wake-up trigger) look jobs up by lock through an index."""
    await upgrade(postgres_url)
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args) "
                    "SELECT 'callbridge', 'callbridge.run', 'sync:' || g, '{}' "
                    "FROM generate_series(1, 3000) AS g"
                )
            )
            await conn.execute(text("ANALYZE procrastinate_jobs"))
            # The fetch's question for each candidate: does a job with its lock run or wait ahead?
            plan = await conn.execute(
                text(
                    "EXPLAIN SELECT 1 FROM procrastinate_jobs AS other_jobs "
                    "WHERE other_jobs.lock = 'sync:2999' AND (other_jobs.status = 'doing' "
                    "OR (other_jobs.status = 'todo' AND other_jobs.id < 2999))"
                )
            )
            lines = [row[0] for row in plan]
        assert "callbridge_procrastinate_jobs_by_lock" in lines[0], lines
        assert not any("Seq Scan" in line for line in lines), lines
    finally:
        await engine.dispose()
