"""What the Procrastinate queue adds to the contract: its schema installer and stall recovery."""

from __future__ import annotations

from sqlalchemy import text

from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue, apply_schema
from callbridge.storage.engine import create_engine


async def test_apply_schema_installs_once_and_is_idempotent(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        for _ in range(2):
            async with engine.begin() as conn:
                await apply_schema(conn)
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
    engine = create_engine(postgres_url)
    queue = ProcrastinateJobQueue(postgres_url, engine, stall_seconds=1.0)
    try:
        async with engine.begin() as conn:
            await apply_schema(conn)
            await queue.enqueue(conn, "fold", {"n": 1}, lock_key="k")
            # A worker that claimed the job and then went silent for a minute.
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
