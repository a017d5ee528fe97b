"""A real queue worker in its own process, for the killed-worker test of the contract.

Usage: ``python worker_process.py DATABASE_URL MARKER_FILE``. It runs the ``block`` task, whose
handler appends ``started`` to MARKER_FILE and then never returns; the test SIGKILLs the process.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from callbridge.queue.base import JobQueue, Payload
from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue
from callbridge.queue.sqlite import SQLiteJobQueue
from callbridge.storage.engine import create_engine

# Short enough that the test recovers the job within a second or two of the kill.
LEASE_SECONDS = 1.0


async def main(database_url: str, marker: Path) -> None:
    """Work until killed."""
    engine = create_engine(database_url)
    queue: JobQueue
    if database_url.startswith("postgresql"):
        queue = ProcrastinateJobQueue(database_url, engine, stall_seconds=LEASE_SECONDS)
    else:
        queue = SQLiteJobQueue(engine, lease_seconds=LEASE_SECONDS, poll_seconds=0.02)

    async def block(payload: Payload) -> None:
        with marker.open("a") as file:
            file.write(f"started {payload}\n")
        await asyncio.Event().wait()

    await queue.work({"block": block}, stop=asyncio.Event(), concurrency=1)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
