"""Local CRM phone lookup (``LocalCrmClient.find_by_e164``) at 10k, 100k and 1M records on SQLite.

Run alone with ``python -m bench.lookup``. Records and their phones are bulk-inserted straight
into the migrated tables (``executemany``, BATCH rows per transaction); the sizes are reached
one after the other in the same file. At each size LOOKUPS random existing numbers and MISSES
absent ones are looked up, after WARM_UP lookups, in five ways:

- ``find_by_e164``: the connector's call (session, SQLAlchemy, aiosqlite's thread hop);
- async Core: the very SQL ``find_by_e164`` ran, captured from the engine, on an AsyncConnection;
- sqlite3: that SQL on a plain stdlib connection, no transaction (what SQLite itself costs);
- sqlite3 + BEGIN IMMEDIATE: the same, inside the write-locking transaction the engine opens;
- sqlite3 in one to_thread hop: the same SQL, the whole lookup in one ``asyncio.to_thread`` call
  (what an async lookup costs with a single hand-off to a thread, as a possible fix).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.harness import markdown_table, met, new_company, percentile, scratch_dir, settings_for
from callbridge.connectors.base import utc_now
from callbridge.connectors.local.client import LocalCrmClient
from callbridge.storage.engine import create_engine, create_sessionmaker

SIZES = (10_000, 100_000, 1_000_000)
LOOKUPS = 2000
MISSES = 500
WARM_UP = 200
BATCH = 100_000
TARGET_P99_US = 1000.0
_STAMP = "2026-11-22 08:00:00.000000"


@dataclass(frozen=True)
class LookupFigures:
    """The lookup times at one size, in microseconds, by way of looking up."""

    records: int
    phones: int
    insert_seconds: float
    times: dict[str, tuple[float, float]]  # way → (p50, p99)


def e164(index: int) -> str:
    """Return the mobile number of record ``index`` (+33 6 …)."""
    return f"+336{index:08d}"


def _national(number: str) -> str:
    digits = "0" + number[3:]
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _rows(start: int, stop: int, company: str, integration: str) -> Iterator[tuple[Any, ...]]:
    for index in range(start, stop):
        kind = "lead" if index % 7 == 0 else "contact"
        record = str(uuid.UUID(int=index + 1))
        yield (record, company, integration, kind, f"Person {index}", None, None, _STAMP, _STAMP)


def _phones(start: int, stop: int, integration: str) -> Iterator[tuple[str, str, str, str]]:
    for index in range(start, stop):
        record = str(uuid.UUID(int=index + 1))
        yield (record, integration, _national(e164(index)), e164(index))
        if index % 10 == 0:  # every tenth record also has a landline
            landline = f"+331{index:08d}"
            yield (record, integration, _national(landline), landline)


def bulk_insert(path: Path, start: int, stop: int, company: str, integration: str) -> int:
    """Insert records ``start``..``stop`` with their phones; return how many phones."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    phones = 0
    try:
        for low in range(start, stop, BATCH):
            high = min(stop, low + BATCH)
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT INTO crm_records (id, company_id, integration_id, object_type, name, "
                "email, owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _rows(low, high, company, integration),
            )
            cursor = connection.executemany(
                "INSERT INTO crm_record_phones (record_id, integration_id, raw, e164) "
                "VALUES (?, ?, ?, ?)",
                _phones(low, high, integration),
            )
            phones += cursor.rowcount
            connection.execute("COMMIT")
    finally:
        connection.close()
    return phones


async def timed(lookup: Callable[[str], Awaitable[object]], numbers: list[str]) -> list[float]:
    """Return the duration of each lookup, in microseconds."""
    durations = []
    for number in numbers:
        started = time.perf_counter()
        await lookup(number)
        durations.append((time.perf_counter() - started) * 1e6)
    return durations


async def captured_sql(engine: Any, client: LocalCrmClient, number: str) -> tuple[str, Any]:
    """Return the SQL and parameters ``find_by_e164`` sends to the database."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    # The SQLite fast path bypasses SQLAlchemy; take the portable path once to see its SQL.
    fast, client._fast = client._fast, None
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await client.find_by_e164(number)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        client._fast = fast
    return next((sql, params) for sql, params in seen if "crm_record_phones" in sql)


async def measure_size(
    path: Path, client: LocalCrmClient, engine: Any, size: int
) -> dict[str, Any]:
    """Time the five ways of looking up at the current size; return way → durations."""
    rng = random.Random(size)
    numbers = [e164(rng.randrange(size)) for _ in range(LOOKUPS)]
    numbers += [f"+447{rng.randrange(10**9):09d}" for _ in range(MISSES)]
    rng.shuffle(numbers)
    warm = [e164(rng.randrange(size)) for _ in range(WARM_UP)]
    sql, captured = await captured_sql(engine, client, warm[0])
    params_of = _parameters(captured, warm[0])
    raw = sqlite3.connect(path, isolation_level=None)
    hopper = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def core(number: str) -> object:
        async with engine.connect() as conn:
            return (await conn.exec_driver_sql(sql, params_of(number))).all()

    async def plain(number: str) -> object:
        return raw.execute(sql, params_of(number)).fetchall()

    def fetch(number: str) -> object:
        return hopper.execute(sql, params_of(number)).fetchall()

    async def one_hop(number: str) -> object:
        return await asyncio.to_thread(fetch, number)

    async def immediate(number: str) -> object:
        raw.execute("BEGIN IMMEDIATE")
        rows = raw.execute(sql, params_of(number)).fetchall()
        raw.execute("ROLLBACK")
        return rows

    ways = {
        "find_by_e164": client.find_by_e164,
        "async Core, same SQL": core,
        "sqlite3": plain,
        "sqlite3 + BEGIN IMMEDIATE": immediate,
        "sqlite3 in one to_thread hop": one_hop,
    }
    results = {}
    for name, lookup in ways.items():
        await timed(lookup, warm)
        results[name] = await timed(lookup, numbers)
    plan = raw.execute("EXPLAIN QUERY PLAN " + sql, params_of(numbers[0])).fetchall()
    raw.close()
    hopper.close()
    return {"times": results, "plan": [row[-1] for row in plan], "sql": sql}


def _parameters(captured: Any, number: str) -> Callable[[str], tuple[Any, ...]]:
    """Return a function giving the captured parameters with the number replaced."""
    values = tuple(captured)
    position = values.index(number)
    return lambda other: (*values[:position], other, *values[position + 1 :])


async def run() -> str:
    """Grow one SQLite file through the sizes, timing the lookups at each; return Markdown."""
    with scratch_dir("lookup") as data_dir:
        settings = settings_for(data_dir, None)
        company = await new_company(settings)
        path = data_dir / "callbridge.db"
        engine = create_engine(settings.resolved_database_url())
        client = LocalCrmClient(
            create_sessionmaker(engine), company.company_id, company.integration_id, "FR", utc_now
        )
        figures, details, start, phones = [], {}, 0, 0
        try:
            for size in SIZES:
                began = time.perf_counter()
                phones += bulk_insert(path, start, size, company.company_id, company.integration_id)
                inserted = time.perf_counter() - began
                details = await measure_size(path, client, engine, size)
                times = {
                    way: (percentile(values, 0.5), percentile(values, 0.99))
                    for way, values in details["times"].items()
                }
                figures.append(LookupFigures(size, phones, inserted, times))
                start = size
        finally:
            await engine.dispose()
    return section(figures, details)


def section(figures: list[LookupFigures], details: dict[str, Any]) -> str:
    """Format the figures as a Markdown section."""
    ways = list(figures[0].times)
    headers = ["records (phones)", "bulk insert s", *(f"{w} p50 / p99 µs" for w in ways)]
    headers.append(f"target p99 < {TARGET_P99_US:.0f} µs")
    rows = [
        [
            f"{f.records:,} ({f.phones:,})",
            f"{f.insert_seconds:.1f}",
            *(f"{f.times[w][0]:.0f} / {f.times[w][1]:.0f}" for w in ways),
            met(f.times["find_by_e164"][1] < TARGET_P99_US),
        ]
        for f in figures
    ]
    intro = (
        f"{LOOKUPS} lookups of existing numbers and {MISSES} of absent ones, shuffled, one at a "
        f"time after {WARM_UP} for warm-up; the bulk insert column is the time to grow the file "
        "to that size from the previous one."
    )
    plan = "\n".join(f"    {line}" for line in details["plan"])
    return (
        f"### Local CRM phone lookup (SQLite)\n\n{intro}\n\n"
        + markdown_table(headers, rows)
        + f"\n\nQuery plan of the lookup at {figures[-1].records:,} records:\n\n{plan}\n"
    )


if __name__ == "__main__":
    print(asyncio.run(run()))
