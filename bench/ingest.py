"""Signed webhook ingest rate, as a ratio to the database's raw durable single-row commit rate.

Run alone with ``python -m bench.ingest``. For each database (SQLite, then PostgreSQL):

1. raw rate: one small row inserted and committed per transaction, through
   ``callbridge.storage.engine.create_engine`` (SQLite: WAL, ``synchronous=FULL``), by one writer
   and by CLIENTS concurrent writers; the better of the two is the reference;
2. ingest rate: DELIVERIES pre-signed generic deliveries (calls of ringing, answered, ended)
   POSTed on CLIENTS concurrent connections of ``bench.load`` over loopback to a
   ``callbridge serve`` process with ``CALLBRIDGE_EMBEDDED_WORKER=false``: the rate at which
   webhooks are made durable (their jobs wait in the queue). SQLite is measured a second time
   with its embedded worker draining the same queue at once, as ``make run`` runs it; that row
   is informative, not the target.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bench.harness import (
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
from callbridge.storage.engine import create_engine
from callbridge.testing.webhooks import call_sequence, signed

DELIVERIES = 2000
WARM_UP = 60
CLIENTS = 16
RAW_COMMITS = 2000
TIME_LIMIT = 120.0
TARGET = 0.5

_raw = Table(
    "bench_raw_commits",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("body", String(200), nullable=False),
)


@dataclass(frozen=True)
class IngestFigures:
    """What one database measured."""

    database: str
    raw_single: float
    raw_concurrent: float
    ingest: float
    accepted: int
    refused: int
    p50_ms: float
    p95_ms: float
    server_cpu_ms: float

    @property
    def ratio(self) -> float:
        """Return the ingest rate over the better raw commit rate."""
        return self.ingest / max(self.raw_single, self.raw_concurrent)


async def raw_commit_rate(url: str, writers: int, count: int) -> float:
    """Return committed single-row transactions per second with ``writers`` concurrent writers."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_raw.create, checkfirst=True)
        remaining = iter(range(count))

        async def writer() -> None:
            for number in remaining:
                async with engine.begin() as conn:
                    await conn.execute(insert(_raw).values(body=f"delivery {number} " + "x" * 60))

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        elapsed = time.perf_counter() - started
        async with engine.begin() as conn:
            await conn.run_sync(_raw.drop)
    finally:
        await engine.dispose()
    return count / elapsed


def prepared_deliveries(secret: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Sign ``count`` deliveries ahead of time, so the client measures the server, not itself."""
    bodies: list[tuple[bytes, dict[str, str]]] = []
    start = datetime.now(UTC) - timedelta(hours=1)
    call = 0
    while len(bodies) < count:
        call += 1
        external = f"+1212555{call % 10_000:04d}"
        for event in call_sequence(
            f"bench-{uuid.uuid4().hex[:12]}", "incoming", external, answered=True, start=start
        ):
            bodies.append(signed(secret, event))
    return bodies[:count]


async def post_all(
    url: str, path: str, deliveries: list[tuple[bytes, dict[str, str]]], clients: int
) -> tuple[float, list[float], int]:
    """POST every delivery with ``clients`` concurrent clients; return rate, latencies, refused."""
    pending = iter(deliveries)
    latencies: list[float] = []
    refused = 0
    deadline = time.monotonic() + TIME_LIMIT

    async def client(http: LoadClient) -> None:
        nonlocal refused
        for body, headers in pending:
            if time.monotonic() > deadline:
                return
            sent = time.perf_counter()
            answer = await http.post(path, body, headers)
            latencies.append(time.perf_counter() - sent)
            refused += answer.status != 200

    async with LoadClient(url, clients) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, refused


async def measure(
    database: str, database_url: str | None, data_dir_name: str, *, embedded: bool = False
) -> IngestFigures:
    """Measure the raw commit rates, then the ingest rate of a server on the same database."""
    with scratch_dir(data_dir_name) as data_dir:
        settings = settings_for(data_dir, database_url)
        url = settings.resolved_database_url()
        raw_url = url if database_url else f"sqlite+aiosqlite:///{data_dir / 'raw.db'}"
        raw_single = await raw_commit_rate(raw_url, 1, RAW_COMMITS)
        raw_concurrent = await raw_commit_rate(raw_url, CLIENTS, RAW_COMMITS)
        company = await new_company(settings)
        env = environment(data_dir, database_url, embedded_worker=str(embedded).lower())
        deliveries = prepared_deliveries(company.source_secret, WARM_UP + DELIVERIES)
        path = f"/webhooks/generic/{company.source_id}"
        with serve(env, data_dir / "server.log") as server:
            await post_all(server.url, path, deliveries[:WARM_UP], CLIENTS)
            cpu_before = server.cpu_seconds()
            rate, latencies, refused = await post_all(
                server.url, path, deliveries[WARM_UP:], CLIENTS
            )
            cpu = server.cpu_seconds() - cpu_before
    return IngestFigures(
        database=database,
        raw_single=raw_single,
        raw_concurrent=raw_concurrent,
        ingest=rate,
        accepted=len(latencies) - refused,
        refused=refused,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        server_cpu_ms=cpu * 1000 / max(1, len(latencies)),
    )


async def run() -> str:
    """Run the benchmark on SQLite and PostgreSQL and return its Markdown section."""
    figures = [
        await measure("SQLite", None, "ingest_sqlite"),
        await measure("SQLite, embedded worker draining", None, "ingest_sqlite", embedded=True),
    ]
    with postgres_database("ingest") as pg_url:
        figures.append(await measure("PostgreSQL", pg_url, "ingest_pg"))
    return section(figures)


def section(figures: list[IngestFigures]) -> str:
    """Format the figures as a Markdown section."""
    headers = [
        "database",
        "raw commits/s (1 writer)",
        f"raw commits/s ({CLIENTS} writers)",
        "ingest deliveries/s",
        "ratio",
        "POST p50 / p95 ms",
        "server CPU ms/delivery",
        f"target ≥ {TARGET}",
    ]
    rows = [
        [
            f.database,
            f"{f.raw_single:.0f}",
            f"{f.raw_concurrent:.0f}",
            f"{f.ingest:.0f} ({f.accepted} ok, {f.refused} refused)",
            f"{f.ratio:.2f}",
            f"{f.p50_ms:.1f} / {f.p95_ms:.1f}",
            f"{f.server_cpu_ms:.2f}",
            "—" if "worker" in f.database else met(f.ratio >= TARGET and f.refused == 0),
        ]
        for f in figures
    ]
    intro = (
        f"{DELIVERIES} signed deliveries (after {WARM_UP} for warm-up), {CLIENTS} concurrent "
        "keep-alive connections of the lean load generator (`bench/load.py`) over loopback; "
        "ratio = ingest rate / the better raw single-row commit "
        "rate of the same database."
    )
    return f"### Ingest\n\n{intro}\n\n" + markdown_table(headers, rows)


if __name__ == "__main__":
    print(asyncio.run(run()))
