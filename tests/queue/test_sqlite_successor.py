"""A job's successor run in its slot at once (the SQLite queue): no claim, nothing lost.

A successor whose asking job fails after adopting it, on both queues: the queue contract
(``successor_contract.py``, generated).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.queue.base import NewJob, Payload
from callbridge.queue.sqlite import SQLiteJobQueue
from callbridge.queue.sqlite_table import jobs
from callbridge.storage import units
from tests.queue.contract import eventually, settled


def _asking(*new: NewJob) -> units.WithJobs[None, NewJob]:
    def work(conn: Connection) -> tuple[None, list[NewJob]]:
        return None, list(new)

    return work


async def _run(queue: SQLiteJobQueue, handlers: dict, until: int) -> None:  # type: ignore[type-arg]
    stop = asyncio.Event()
    worker = asyncio.create_task(queue.work(handlers, stop=stop, concurrency=1))
    await eventually(lambda: settled(queue), f"{until} jobs to run")
    stop.set()
    await worker


async def test_a_job_due_now_asked_for_by_a_running_job_runs_next_in_its_slot(
    engine: AsyncEngine,
) -> None:
    """The successor runs without a claim: its row was leased to the slot as it was written."""
    queue = SQLiteJobQueue(engine, poll_seconds=0.02)
    seen: list[list[tuple[str, str, bool]]] = []

    async def rows() -> list[tuple[str, str, bool]]:
        async with engine.connect() as conn:
            found = await conn.execute(select(jobs.c.task, jobs.c.status, jobs.c.worker_id))
        return [(row.task, row.status, row.worker_id is not None) for row in found]

    async def fold(payload: Payload) -> None:
        sync = NewJob("sync", {"n": 1}, lock_key="number:1", queueing_lock="sync:1")
        await units.write_with_jobs(engine, queue, _asking(sync))
        seen.append(await rows())

    async def sync(payload: Payload) -> None:
        seen.append(await rows())

    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {}, lock_key="call:1")
    await _run(queue, {"fold": fold, "sync": sync}, 2)
    # As soon as the fold's unit committed, the fold was settled and its sync leased to the
    # slot (queued, it would wait as "todo" beside its running fold).
    assert seen == [[("sync", "doing", True)], [("sync", "doing", True)]]
    async with engine.connect() as conn:
        assert (await conn.execute(select(jobs.c.id))).all() == []


async def test_a_successor_whose_key_is_busy_waits_its_turn(engine: AsyncEngine) -> None:
    """A waiting job of the same lock key runs first: per-key order is kept."""
    queue = SQLiteJobQueue(engine, poll_seconds=0.02)
    order: list[int] = []

    async def fold(payload: Payload) -> None:
        sync = NewJob("sync", {"n": 2}, lock_key="number:1", queueing_lock="sync:2")
        await units.write_with_jobs(engine, queue, _asking(sync))

    async def sync(payload: Payload) -> None:
        order.append(payload["n"])

    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {}, lock_key="call:2")
        await queue.enqueue(conn, "sync", {"n": 1}, lock_key="number:1")
    await _run(queue, {"fold": fold, "sync": sync}, 3)
    assert order == [1, 2]
