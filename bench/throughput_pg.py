"""What PostgreSQL did during a throughput cell: transactions, backend CPU, what backends waited on.

The database server's side of a ``postgres-N`` cell: committed and rolled-back transactions and
rows written in the cell's database (``pg_stat_database``), the CPU seconds of the backends
serving it (``/proc`` of the processes titled with its name, on this host), and what its active
backends were waiting on, sampled every SAMPLE_SECONDS from ``pg_stat_activity`` (a lock, a
lightweight lock, the client, the disk...), with the most connections seen at once.
"""

from __future__ import annotations

import asyncio
import collections
import os
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.harness import PG_ADMIN

SAMPLE_SECONDS = 0.05
_STATS = """
SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted
  FROM pg_stat_database WHERE datname = %s
"""
_ACTIVITY = r"""
SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU'),
       CASE WHEN wait_event_type = 'Lock' THEN left(regexp_replace(query, '\s+', ' ', 'g'), 90)
       END,
       CASE WHEN wait_event_type = 'Lock' THEN (
         SELECT left(regexp_replace(blocker.query, '\s+', ' ', 'g'), 90) FROM pg_stat_activity
           AS blocker WHERE blocker.pid = (pg_blocking_pids(activity.pid))[1] LIMIT 1) END
  FROM pg_stat_activity AS activity
 WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def backend_cpu_seconds(database: str) -> float:
    """Return the CPU seconds used so far by the live backends serving ``database``."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if f" {database} " not in title or not title.startswith("postgres:"):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class PgFigures:
    """The database's side of one cell."""

    transactions: int = 0
    rows_written: int = 0
    backend_cpu: float = 0.0
    samples: int = 0
    waits: collections.Counter[str] = field(default_factory=collections.Counter)
    connections_max: int = 0
    # (statement waiting for a lock, the last statement of the backend holding it) → samples
    blocked: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)

    def top_waits(self, n: int = 3) -> str:
        """Return the commonest states of active backends, as shares of the samples."""
        if not self.samples:
            return "-"
        return ", ".join(
            f"{name} {count / self.samples:.2f}" for name, count in self.waits.most_common(n)
        )


class PgProbe:
    """Read and sample one database's statistics through an admin connection."""

    def __init__(self, url: str) -> None:
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.database = self.dsn.rsplit("/", 1)[1]
        self.conn: psycopg.AsyncConnection | None = None  # to the admin database, not this one
        self.sampler: psycopg.AsyncConnection | None = None
        self._figures = PgFigures()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def _counters(self) -> tuple[int, int]:
        assert self.conn is not None
        cursor = await self.conn.execute(_STATS, (self.database,))
        row = await cursor.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def start(self) -> None:
        """Note the counters and start sampling the backends' waits."""
        if self.conn is None:
            self.conn = await psycopg.AsyncConnection.connect(PG_ADMIN, autocommit=True)
            self.sampler = await psycopg.AsyncConnection.connect(PG_ADMIN, autocommit=True)
        await asyncio.sleep(1.0)  # let the backends flush their statistics
        self._figures = PgFigures()
        xacts, rows = await self._counters()
        self._figures.transactions, self._figures.rows_written = -xacts, -rows
        self._figures.backend_cpu = -backend_cpu_seconds(self.database)
        self._stopping.clear()
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        assert self.sampler is not None
        while not self._stopping.is_set():
            cursor = await self.sampler.execute(_ACTIVITY, (self.database,))
            rows = await cursor.fetchall()
            self._figures.samples += 1
            self._figures.connections_max = max(self._figures.connections_max, len(rows))
            for state, wait, waiting, holder in rows:
                if waiting is not None:
                    self._figures.blocked[waiting, holder or "?"] += 1
                if state == "active":
                    self._figures.waits[wait] += 1
                elif state == "idle in transaction":
                    self._figures.waits["idle in transaction"] += 1
            await asyncio.sleep(SAMPLE_SECONDS)

    async def stop(self) -> PgFigures:
        """Stop sampling and return the cell's figures."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        self._figures.backend_cpu += backend_cpu_seconds(self.database)
        await asyncio.sleep(1.5)  # backends report their statistics at most once a second
        xacts, rows = await self._counters()
        self._figures.transactions += xacts
        self._figures.rows_written += rows
        return self._figures

    async def close(self) -> None:
        """Close the admin connection."""
        for conn in (self.conn, self.sampler):
            if conn is not None:
                await conn.close()
