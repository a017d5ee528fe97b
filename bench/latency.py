"""Latency from a call's final event being accepted to its activity written in the local CRM.

Run alone with ``python -m bench.latency``. RATE calls per second for DURATION seconds are sent
open-loop (a call starts on schedule whether or not earlier ones are done) to a
``callbridge serve`` process; each call POSTs ringing, answered and ended one after the other,
half from numbers the CRM knows, half from new numbers (a contact is created). The latency of a
call is ``crm_activities.created_at`` minus the moment its ``call.ended`` POST returned 200.
The database is read directly with read-only SELECTs (not through the API, which would add load):
during the run a poller also notes when each activity first becomes visible (committed), which
bounds the latency from above, within its polling interval.

SQLite runs the embedded worker; PostgreSQL runs the server without a worker plus one
``callbridge worker`` process, as deployed. Each is also run at LIGHT_RATE calls per second, a
load the machine sustains, to separate the processing time from queueing behind an overload.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import (
    child,
    environment,
    markdown_table,
    met,
    new_company,
    percentile,
    postgres_database,
    scratch_dir,
    serve,
    settings_for,
)
from bench.load import LoadClient
from callbridge.connectors.base import utc_now
from callbridge.connectors.local.client import LocalCrmClient
from callbridge.domain.record import ObjectType
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.settings import Settings
from callbridge.testing.webhooks import call_sequence, signed

RATE = 50
DURATION = 20.0
# A rate this machine sustains, to tell processing time from queueing behind an overload.
LIGHT_RATE = 10
KNOWN = 200
POLL_SECONDS = 0.02
SETTLE_LIMIT = 120.0
TARGET_P95_MS = 250.0

# Kept to plain scans of two small tables: a join on 'callbridge:' || calls.id cannot use an index.
_ACTIVITIES = "SELECT external_id, created_at FROM crm_activities"
_CALLS = "SELECT 'callbridge:' || id, provider_call_id FROM calls"


@dataclass(frozen=True)
class LatencyFigures:
    """What one database measured."""

    database: str
    calls: int
    achieved_rate: float
    logged: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    seen_p50_ms: float
    seen_p95_ms: float
    post_p95_ms: float


Query = Callable[[str], Awaitable[list[tuple[str, Any]]]]


def sqlite_reader(path: Path) -> Query:
    """Return a read-only query of the run's activities in an SQLite file."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def select(sql: str) -> list[tuple[str, Any]]:
        rows = connection.execute(sql).fetchall()
        return [(key, _sqlite_time(value) if sql == _ACTIVITIES else value) for key, value in rows]

    async def query(sql: str) -> list[tuple[str, Any]]:
        return await asyncio.to_thread(select, sql)

    return query


async def postgres_reader(url: str) -> tuple[Query, psycopg.AsyncConnection]:
    """Return a read-only query of the run's activities in a PostgreSQL database."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    await connection.execute("SET default_transaction_read_only = on")

    async def query(sql: str) -> list[tuple[str, Any]]:
        cursor = await connection.execute(sql)
        return [(key, value) for key, value in await cursor.fetchall()]

    return query, connection


async def seed_known(settings: Settings, company: CreatedCompany) -> list[str]:
    """Create KNOWN contacts in the local CRM and return their E.164 numbers."""
    runtime = Runtime.create(settings)
    client = LocalCrmClient(
        runtime.sessions, company.company_id, company.integration_id, "US", utc_now
    )
    numbers = [f"+1312555{i:04d}" for i in range(KNOWN)]
    try:
        for i, number in enumerate(numbers):
            await client.create_record(ObjectType.CONTACT, f"Known {i}", [number])
    finally:
        await runtime.close()
    return numbers


async def drive(
    url: str,
    path: str,
    secret: str,
    known: list[str],
    seen: dict[str, float],
    query: Query,
    rate: float,
) -> tuple[dict[str, float], list[float], float]:
    """Send the calls on schedule; return when each final POST returned, POST times, rate."""
    ended: dict[str, float] = {}
    posts: list[float] = []
    async with LoadClient(url, 200) as http:

        async def one_call(index: int) -> None:
            number = known[index % len(known)] if index % 2 else f"+1415555{index % 10_000:04d}"
            call_id = f"lat-{uuid.uuid4().hex[:12]}"
            for event in call_sequence(call_id, "incoming", number, answered=True):
                body, headers = signed(secret, event)
                sent = time.perf_counter()
                answer = await http.post(path, body, headers)
                posts.append(time.perf_counter() - sent)
                if answer.status != 200:
                    raise RuntimeError(f"POST answered {answer.status}: {answer.body[:300]!r}")
            ended[call_id] = time.time()

        stop = asyncio.Event()
        poller = asyncio.create_task(poll(query, seen, stop))
        tasks, started = [], time.perf_counter()
        for index in range(int(rate * DURATION)):
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one_call(index)))
        await asyncio.gather(*tasks)
        completed = len(tasks) / (time.perf_counter() - started)
        await wait_logged(query, set(ended))
        stop.set()
        await poller
    return ended, posts, completed


async def wait_for_worker(query: Query) -> None:
    """Wait until the worker process has registered with Procrastinate (it takes ~1 s to start).

    Calls sent before would measure the worker's start-up, not its processing.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        [(_, workers)] = await query("SELECT 'workers', count(*) FROM procrastinate_workers")
        if workers:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the worker did not start within 60 s: see worker.log")


async def poll(query: Query, seen: dict[str, float], stop: asyncio.Event) -> None:
    """Note when each activity is first visible to a reader, until ``stop`` is set."""
    while not stop.is_set():
        now = time.time()
        for activity, _ in await query(_ACTIVITIES):
            seen.setdefault(activity, now)
        await asyncio.sleep(POLL_SECONDS)


async def wait_logged(query: Query, calls: set[str]) -> None:
    """Wait until every call has its activity, or SETTLE_LIMIT seconds."""
    deadline = time.monotonic() + SETTLE_LIMIT
    while time.monotonic() < deadline:
        written, _ = await written_by_call(query)
        if calls <= set(written):
            return
        await asyncio.sleep(0.2)


async def written_by_call(query: Query) -> tuple[dict[str, datetime], dict[str, str]]:
    """Return each call's activity time by provider call id, and external id → provider id."""
    calls = {external: str(provider) for external, provider in await query(_CALLS)}
    written = {calls[a]: at for a, at in await query(_ACTIVITIES) if a in calls}
    return written, calls


def _sqlite_time(value: object) -> datetime:
    return datetime.fromisoformat(f"{value}+00:00")


async def measure(database: str, database_url: str | None, rate: float) -> LatencyFigures:
    """Run ``rate`` calls/s against one database and compute the latencies."""
    with scratch_dir(f"latency_{database.lower()}") as data_dir:
        settings = settings_for(data_dir, database_url)
        company = await new_company(settings)
        known = await seed_known(settings, company)
        path = f"/webhooks/generic/{company.source_id}"
        seen: dict[str, float] = {}
        if database_url is None:
            query = sqlite_reader(data_dir / "callbridge.db")
            with serve(environment(data_dir, None), data_dir / "server.log") as server:
                ended, posts, completed = await drive(
                    server.url, path, company.source_secret, known, seen, query, rate
                )
                written, ids = await written_by_call(query)
        else:
            query, connection = await postgres_reader(database_url)
            env = environment(data_dir, database_url, embedded_worker="false")
            with (
                serve(env, data_dir / "server.log") as server,
                child(["worker"], env, data_dir / "worker.log"),
            ):
                await wait_for_worker(query)
                ended, posts, completed = await drive(
                    server.url, path, company.source_secret, known, seen, query, rate
                )
                written, ids = await written_by_call(query)
            await connection.close()
    seen_by_call = {ids[a]: moment for a, moment in seen.items() if a in ids}
    return figures(
        f"{database} at {rate:g} calls/s", ended, posts, completed, written, seen_by_call
    )


def figures(
    database: str,
    ended: dict[str, float],
    posts: list[float],
    rate: float,
    written: dict[str, datetime],
    seen: dict[str, float],
) -> LatencyFigures:
    """Compute the percentiles of the calls whose activity was written."""
    lags = sorted((written[c].timestamp() - ended[c]) * 1000 for c in ended if c in written)
    visible = sorted((seen[c] - ended[c]) * 1000 for c in ended if c in seen)
    return LatencyFigures(
        database=database,
        calls=len(ended),
        achieved_rate=rate,
        logged=len(lags),
        p50_ms=percentile(lags, 0.5),
        p95_ms=percentile(lags, 0.95),
        max_ms=lags[-1],
        seen_p50_ms=percentile(visible, 0.5),
        seen_p95_ms=percentile(visible, 0.95),
        post_p95_ms=percentile(posts, 0.95) * 1000,
    )


async def run() -> str:
    """Run the benchmark on SQLite and PostgreSQL and return its Markdown section."""
    results = [await measure("SQLite", None, rate) for rate in (RATE, LIGHT_RATE)]
    for rate in (RATE, LIGHT_RATE):
        with postgres_database("latency") as url:
            results.append(await measure("PostgreSQL", url, rate))
    return section(results)


def section(results: list[LatencyFigures]) -> str:
    """Format the figures as a Markdown section."""
    headers = [
        "database and offered load",
        "calls (completed per s)",
        "activities written",
        "p50 / p95 / max ms",
        "first visible p50 / p95 ms",
        "POST p95 ms",
        f"target p95 < {TARGET_P95_MS:.0f} ms",
    ]
    rows = [
        [
            f.database,
            f"{f.calls} ({f.achieved_rate:.1f}/s)",
            f.logged,
            f"{f.p50_ms:.0f} / {f.p95_ms:.0f} / {f.max_ms:.0f}",
            f"{f.seen_p50_ms:.0f} / {f.seen_p95_ms:.0f}",
            f"{f.post_p95_ms:.0f}",
            met(f.p95_ms < TARGET_P95_MS and f.logged == f.calls),
        ]
        for f in results
    ]
    intro = (
        f"{RATE} calls/s (and {LIGHT_RATE}/s) for {DURATION:.0f} s (3 deliveries each, half "
        "known numbers, half new "
        "ones); latency = activity `created_at` minus the return of the call's final POST; "
        f"'first visible' = seen by a read-only poller every {POLL_SECONDS * 1000:.0f} ms."
    )
    return f"### Latency: final event → CRM activity\n\n{intro}\n\n" + markdown_table(headers, rows)


if __name__ == "__main__":
    print(asyncio.run(run()))
