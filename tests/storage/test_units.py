"""Units of work: one transaction of Core work with the jobs it asks for, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.queue import build_queue
from callbridge.queue.base import JobQueue, NewJob
from callbridge.storage import connections, units
from callbridge.storage.engine import create_engine
from callbridge.storage.tables import companies

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture
async def database(migrated_url: str) -> AsyncIterator[tuple[AsyncEngine, JobQueue]]:
    """Yield an engine on a migrated database and the queue of that database."""
    engine = create_engine(migrated_url)
    yield engine, build_queue(migrated_url, engine)
    units.dispose(engine)
    await engine.dispose()


def _company(name: str) -> dict[str, object]:
    return {"id": name, "name": name, "own_numbers": [], "created_at": NOW}


def _inserting(row: dict[str, object]) -> Callable[[Connection], object]:
    """Return the work of inserting one company row."""
    return lambda db: db.execute(insert(companies), row)


def _size(path: Path) -> int:
    return path.stat().st_size


def _count(db: Connection) -> int:
    return int(db.execute(select(func.count()).select_from(companies)).scalar_one())


async def test_rows_and_jobs_commit_together(database: tuple[AsyncEngine, JobQueue]) -> None:
    """A unit's rows and the jobs it returns are committed in one transaction."""
    engine, queue = database

    def work(db: Connection) -> tuple[str, list[NewJob]]:
        db.execute(insert(companies), _company("acme"))
        return "stored", [NewJob("fold", {"n": 1}, lock_key="k")]

    assert await units.write_with_jobs(engine, queue, work) == "stored"
    assert await units.read(engine, _count) == 1
    assert await queue.pending_count() == 1


async def test_a_failing_unit_leaves_neither_rows_nor_jobs(
    database: tuple[AsyncEngine, JobQueue],
) -> None:
    """An error inside the unit rolls back its rows, and its jobs are never enqueued."""
    engine, queue = database

    def work(db: Connection) -> tuple[None, list[NewJob]]:
        db.execute(insert(companies), _company("acme"))
        db.execute(insert(companies), _company("acme"))  # duplicate primary key
        return None, [NewJob("fold", {"n": 1})]

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await units.write_with_jobs(engine, queue, work)
    assert await units.read(engine, _count) == 0
    assert await queue.pending_count() == 0


async def test_a_read_unit_sees_committed_writes_only(
    database: tuple[AsyncEngine, JobQueue],
) -> None:
    """Reads run in their own transaction and see what writes committed before them."""
    engine, _queue = database
    await units.write(engine, lambda db: db.execute(insert(companies), _company("one")))
    assert await units.read(engine, _count) == 1


async def test_grouped_units_share_a_commit_and_keep_their_own_errors(
    database: tuple[AsyncEngine, JobQueue],
) -> None:
    """Concurrent grouped units all commit; a failing one fails alone, leaving no row."""
    engine, queue = database

    def store(name: str, db: Connection) -> tuple[str, list[NewJob]]:
        db.execute(insert(companies), _company(name))
        return name, [NewJob("fold", {"company": name})]

    names = [f"c{i}" for i in range(20)] + ["c3"]  # the last one collides with c3

    async def submit(name: str) -> str:
        return await units.write_with_jobs(engine, queue, lambda db: store(name, db))

    outcomes = await asyncio.gather(*(submit(n) for n in names), return_exceptions=True)
    # The two c3 units race (on PostgreSQL in transactions of their own): either may win.
    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, Exception)]
    assert failed in ([3], [20]), outcomes
    stored = sorted(o for o in outcomes if isinstance(o, str))
    assert stored == sorted(names[:20])
    assert await units.read(engine, _count) == 20
    assert await queue.pending_count() == 20


async def test_a_unit_failing_after_its_writes_leaves_none_of_them_in_its_group(
    database: tuple[AsyncEngine, JobQueue],
) -> None:
    """A grouped unit that raises after inserting keeps none of its rows; the others keep theirs."""
    engine, queue = database

    def store(index: int, db: Connection) -> tuple[int, list[NewJob]]:
        db.execute(insert(companies), _company(f"c{index}"))
        db.execute(insert(companies), _company(f"d{index}"))
        if index % 3 == 0:
            raise RuntimeError(f"unit {index} fails after its inserts")
        return index, [NewJob("fold", {"company": f"c{index}"})]

    async def submit(index: int) -> int:
        return await units.write_with_jobs(engine, queue, lambda db: store(index, db))

    outcomes = await asyncio.gather(*(submit(i) for i in range(30)), return_exceptions=True)
    kept = [i for i in range(30) if i % 3]
    assert [o for o in outcomes if not isinstance(o, Exception)] == kept
    assert await units.read(engine, _count) == 2 * len(kept)
    assert await queue.pending_count() == len(kept)


async def test_a_worker_write_waits_in_a_thread_while_another_process_holds_the_lock(
    sqlite_url: str,
) -> None:
    """The worker's writes run in the loop, but never stop it waiting for SQLite's lock."""
    from callbridge.runtime.schema import upgrade

    await upgrade(sqlite_url)
    engine = create_engine(sqlite_url, durable=False)
    assert units.writes_in_loop(engine)
    other = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # as another process's writer would
        write = asyncio.create_task(
            units.write(engine, lambda db: db.execute(insert(companies), _company("late")))
        )
        ticks = 0
        for _ in range(10):  # the loop keeps running while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10 and not write.done()
        other.execute("COMMIT")
        await asyncio.wait_for(write, 10)
        assert await units.read(engine, _count) == 1
    finally:
        other.close()
        units.dispose(engine)
        await engine.dispose()


async def test_the_worker_engine_keeps_the_wal_from_growing_without_bound(
    sqlite_url: str,
) -> None:
    """Writes in the loop never checkpoint themselves, yet a thread's checkpoints bound the WAL."""
    from callbridge.runtime.schema import upgrade

    await upgrade(sqlite_url)
    engine = create_engine(sqlite_url, durable=False)
    wal = Path(sqlite_url.split("///", 1)[1] + "-wal")
    sizes = []
    try:
        for rounds in range(4):
            for index in range(units.CHECKPOINT_EVERY):
                await units.write(engine, _inserting(_company(f"c{rounds}-{index}")))
            await asyncio.sleep(0.2)  # the round's checkpoint runs in a thread
            sizes.append(_size(wal))
        # Without checkpoints the WAL would hold every round's pages: four times the first.
        assert sizes[-1] < 2 * sizes[0], sizes
    finally:
        units.dispose(engine)
        await engine.dispose()


def _connection_id(db: Connection) -> int:
    return id(db.connection.dbapi_connection)


async def test_the_loops_units_keep_one_connection_each_for_reads_and_writes(
    sqlite_url: str,
) -> None:
    """Reads and in-loop writes reuse their kept connection, after errors too; dispose closes."""
    from callbridge.runtime.schema import upgrade

    await upgrade(sqlite_url)
    engine = create_engine(sqlite_url, durable=False)
    try:
        reads = {await units.read(engine, _connection_id) for _ in range(3)}
        writes = {await units.write(engine, _connection_id) for _ in range(3)}
        assert len(reads) == 1 and len(writes) == 1 and reads != writes

        def failing(db: Connection) -> None:
            db.execute(insert(companies), _company("undone"))
            raise RuntimeError("the unit's own error")

        for unit in (units.read, units.write):
            with pytest.raises(RuntimeError):
                await unit(engine, failing)
        assert await units.read(engine, _connection_id) in reads
        assert await units.write(engine, _connection_id) in writes
        await units.write(engine, _inserting(_company("kept")))
        assert await units.read(engine, _count) == 1  # the failed write left nothing
    finally:
        units.dispose(engine)
        await engine.dispose()
    assert not connections._KEPT.get(engine.sync_engine)
