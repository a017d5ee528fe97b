"""Durable jobs: the JobQueue protocol, its SQLite and Procrastinate implementations, retries.

Pick the implementation with :func:`build_queue`; both pass ``tests/queue/contract.py``::

    queue = build_queue(settings.resolved_database_url(), engine)
    async with engine.begin() as conn:
        await queue.enqueue(conn, "fold", {"event": 7}, lock_key="call:42")
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.queue.base import DeadJob, Handler, JobQueue, Payload
from callbridge.queue.retry import DEFAULT_POLICY, RetryPolicy

__all__ = ["DeadJob", "Handler", "JobQueue", "Payload", "RetryPolicy", "build_queue"]


def build_queue(
    database_url: str, engine: AsyncEngine, policy: RetryPolicy = DEFAULT_POLICY
) -> JobQueue:
    """Return Procrastinate for a PostgreSQL URL, the embedded SQLite queue otherwise."""
    if database_url.startswith(("postgresql", "postgres")):
        from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue

        return ProcrastinateJobQueue(database_url, engine, policy)
    from callbridge.queue.sqlite import SQLiteJobQueue

    return SQLiteJobQueue(engine, policy)
