"""What the SQLite queue does beyond the contract: wake-up, table hygiene, UTC timestamps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.errors import Permanent
from callbridge.queue import build_queue
from callbridge.queue.base import Payload
from callbridge.queue.slots import parked
from callbridge.queue.sqlite import SQLiteJobQueue
from callbridge.queue.sqlite_table import jobs
from callbridge.storage.engine import create_engine
from tests.queue.contract import eventually, settled


async def test_notify_wakes_an_idle_worker_before_the_next_poll(engine: AsyncEngine) -> None:
    queue = SQLiteJobQueue(engine, poll_seconds=30)
    done = asyncio.Event()

    async def handler(payload: Payload) -> None:
        done.set()

    stop = asyncio.Event()
    worker = asyncio.create_task(queue.work({"ping": handler}, stop=stop))
    await asyncio.sleep(0.1)  # the worker found nothing and is now idle
    async with engine.begin() as conn:
        await queue.enqueue(conn, "ping", {})
    queue.notify()
    await asyncio.wait_for(done.wait(), timeout=2)
    stop.set()
    await asyncio.wait_for(worker, timeout=2)


async def test_succeeded_jobs_are_deleted_and_dead_ones_kept(engine: AsyncEngine) -> None:
    queue = SQLiteJobQueue(engine, poll_seconds=0.02)

    async def handler(payload: Payload) -> None:
        if payload["fail"]:
            raise Permanent("bad field")

    async with engine.begin() as conn:
        await queue.enqueue(conn, "push", {"fail": False})
        await queue.enqueue(conn, "push", {"fail": True})
    stop = asyncio.Event()
    worker = asyncio.create_task(queue.work({"push": handler}, stop=stop))
    await eventually(lambda: settled(queue), "both jobs to run")
    stop.set()
    await worker
    async with engine.connect() as conn:
        rows = (await conn.execute(select(jobs.c.status, jobs.c.payload))).all()
    assert [(row.status, row.payload) for row in rows] == [("dead", {"fail": True})]


async def test_timestamps_come_back_as_aware_utc(engine: AsyncEngine) -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 2, 13, 0, tzinfo=paris)
    async with engine.begin() as conn:
        await conn.execute(
            jobs.insert().values(task="t", payload={}, scheduled_at=moment, created_at=moment)
        )
        stored = (await conn.execute(select(jobs.c.scheduled_at))).scalar_one()
    assert stored == moment and stored.tzinfo == UTC


async def test_naive_timestamps_are_refused(engine: AsyncEngine) -> None:
    naive = datetime(2026, 1, 2, 12, 0)
    async with engine.begin() as conn:
        with pytest.raises(Exception, match="naive datetime"):
            await conn.execute(
                jobs.insert().values(task="t", payload={}, scheduled_at=naive, created_at=naive)
            )


def test_build_queue_picks_the_implementation_from_the_url(sqlite_url: str) -> None:
    from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue

    sqlite_engine = create_engine(sqlite_url)
    assert isinstance(build_queue(sqlite_url, sqlite_engine), SQLiteJobQueue)
    postgres_url = "postgresql+psycopg://postgres@127.0.0.1:5432/unused"
    postgres = build_queue(postgres_url, create_engine(postgres_url))
    assert isinstance(postgres, ProcrastinateJobQueue)


async def test_a_claim_walks_waiting_jobs_in_order_instead_of_sorting_the_backlog(
    engine: AsyncEngine,
) -> None:
    """The claim's plan reads the partial index of waiting jobs in id order, with no sort."""
    from callbridge.queue.sqlite_claims import WAITING

    sql = str(WAITING.compile(dialect=engine.dialect))
    async with engine.connect() as conn:
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("",) * sql.count("?"))
        details = " | ".join(str(row[-1]) for row in plan)
    assert "SCAN jobs USING INDEX ix_jobs_todo_in_order" in details, details
    assert "TEMP B-TREE" not in details, details


async def test_a_slot_that_keeps_finding_work_still_takes_over_abandoned_jobs(
    engine: AsyncEngine,
) -> None:
    """A slot settles each job where it claims the next; abandoned jobs are not starved by it."""
    queue = SQLiteJobQueue(engine, poll_seconds=0.02)
    async with engine.begin() as conn:
        await queue.enqueue(conn, "orphan", {})
        # Its worker, on another host, stopped: the lease runs out once the chain is under way.
        await conn.execute(
            jobs.update().values(
                status="doing",
                worker_id="elsewhere:1:dead",
                lease_until=datetime.now(UTC) + timedelta(seconds=0.5),
            )
        )
        await queue.enqueue(conn, "chain", {"left": 80})
    order: list[str] = []

    async def chain(payload: Payload) -> None:
        order.append("chain")
        await asyncio.sleep(0.02)
        if payload["left"]:
            async with engine.begin() as conn:
                await queue.enqueue(conn, "chain", {"left": payload["left"] - 1})

    async def orphan(payload: Payload) -> None:
        order.append("orphan")

    stop = asyncio.Event()
    worker = asyncio.create_task(
        queue.work({"chain": chain, "orphan": orphan}, stop=stop, concurrency=1)
    )
    await eventually(lambda: settled(queue), "the chain and the orphan to run")
    stop.set()
    await worker
    assert order.count("chain") == 81
    assert "orphan" in order[:-20], "the orphan waited for the chain to end"


async def test_parked_outside_a_worker_changes_nothing() -> None:
    """Run outside a queue's slot (a test, Procrastinate), ``parked()`` just runs its block."""
    async with parked():
        ran = True
    assert ran
