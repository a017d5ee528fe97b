"""Run the queue contract on SQLite (SQLiteJobQueue) and PostgreSQL (ProcrastinateJobQueue)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callbridge.queue.base import JobQueue
from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue
from callbridge.queue.retry import RetryPolicy
from callbridge.queue.sqlite import SQLiteJobQueue
from callbridge.runtime.schema import upgrade
from callbridge.storage.engine import create_engine
from tests.queue.contract import Harness, QueueContract
from tests.queue.successor_contract import SuccessorContract


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    """Migrate the fresh database as the product does and build queues with short timings."""
    await upgrade(database_url)
    engine = create_engine(database_url)
    postgres = database_url.startswith("postgresql")

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


class TestJobQueueContract(QueueContract, SuccessorContract):
    """Both implementations, same tests."""
