"""Run the queue contract on SQLite (SQLiteJobQueue) and PostgreSQL (ProcrastinateJobQueue)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from queue_contract import Harness, QueueContract

from callbridge.queue.base import JobQueue
from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue, apply_schema
from callbridge.queue.retry import RetryPolicy
from callbridge.queue.sqlite import SQLiteJobQueue
from callbridge.queue.sqlite_table import jobs
from callbridge.storage.engine import create_engine
from callbridge.storage.metadata import metadata


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    """Install the queue's schema on the fresh database and build queues with short timings."""
    engine = create_engine(database_url)
    postgres = database_url.startswith("postgresql")
    async with engine.begin() as conn:
        if postgres:
            await apply_schema(conn)
        else:
            await conn.run_sync(lambda sync: metadata.create_all(sync, tables=[jobs]))

    def make(policy: RetryPolicy) -> JobQueue:
        if postgres:
            return ProcrastinateJobQueue(
                database_url,
                engine,
                policy,
                stall_seconds=1.0,
                stall_check_seconds=0.25,
                poll_seconds=0.1,
            )
        return SQLiteJobQueue(engine, policy, lease_seconds=1.0, poll_seconds=0.02)

    yield Harness(database_url=database_url, engine=engine, make=make)
    await engine.dispose()


class TestJobQueueContract(QueueContract):
    """Both implementations, same tests."""
