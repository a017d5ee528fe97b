"""Throughput and latency of calls synced to HubSpot: webhook → engagement stored in the CRM.

``python -m bench throughput`` (or ``python -m bench.throughput``, which only prints). Each call is
one signed ``call.ended`` webhook (generic provider) of an answered incoming call from a number
nobody knows, so every call searches, creates a contact (creation policy ``all``) and logs the
call. The CRM is the HubSpot fake in its own process (``bench.fakehub``), answering every request
after LATENCY_MS, with no rate limit, restarted empty for each cell. Loads: closed-loop with 1,
10 and 50 calls in flight (a sender sends its next call once the last one is in the CRM), and an
open-loop burst of BURST webhooks from 50 senders. Latency = when the fake stored the engagement
minus when the webhook was sent; calls/s = calls / (last engagement - first webhook); CPU = user
+ system seconds of the Callbridge processes over the cell, per call (the API process and the
workers apart); RSS = their peak sum. On PostgreSQL, the database's side of each cell
(``bench.throughput_pg``): transactions, rows written and backend CPU per call, what its
backends waited on, and each lock wait's waiting and holding statements (printed under the row).

Set-ups (``BENCH_THROUGHPUT_SETUPS``, default ``sqlite,postgres-1,postgres-2``): ``sqlite`` is
``callbridge serve`` with its embedded worker; ``postgres-N`` is ``serve`` without a worker and N
``callbridge worker`` processes. Matrices (``BENCH_THROUGHPUT_MATRICES``): ``contact+log`` (the
new caller's rule creates the contact, nothing else) and ``default``. Loads
(``BENCH_THROUGHPUT_LOADS``): ``1,10,50,burst,rate50`` (``rateN``: CALLS calls offered at N
a second, open loop, each sent on time whatever the earlier ones are doing).
``BENCH_PROFILE=FILE`` runs the server under cProfile and writes its statistics there.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import markdown_table, met, percentile
from bench.throughput_pg import PgFigures
from bench.throughput_setup import CONTACT_LOG, Stack, running
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.testing.webhooks import generic_event, signed

LATENCY_MS = 20.0
CALLS = int(os.environ.get("BENCH_THROUGHPUT_CALLS", "500"))
SINGLE_CALLS = int(os.environ.get("BENCH_THROUGHPUT_SINGLE_CALLS", "150"))
BURST = int(os.environ.get("BENCH_THROUGHPUT_BURST", "500"))
BURST_SENDERS = 50
WARMUP = 5
WAIT_LIMIT = 180.0
MATRICES = {"contact+log": CONTACT_LOG, "default": DEFAULT_MATRIX_JSON}
_AREAS = ("212", "312", "415", "646", "718", "617", "213", "305", "404", "503")


def _listed(name: str, default: str) -> list[str]:
    return [item for item in os.environ.get(name, default).split(",") if item]


@dataclass(frozen=True)
class Cell:
    """What one load measured on one set-up and matrix."""

    setup: str
    matrix: str
    load: str
    calls: int
    logged: int
    duplicates: int
    seconds: float
    latencies_ms: list[float]
    cpu_seconds: float
    rss_peak: int
    load_average: float
    requests: int
    local_crm: str
    server_cpu: float = 0.0
    pg: PgFigures | None = None
    crm_cpu: float = 0.0  # the HubSpot fake's, on the same cores

    @property
    def rate(self) -> float:
        """Return the calls synced per second."""
        return self.logged / self.seconds if self.seconds else 0.0


class Numbers:
    """Caller numbers nobody has called from yet in this run."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        """Return a new E.164 number."""
        self.count += 1
        area, line = _AREAS[self.count // 10_000 % len(_AREAS)], self.count % 10_000
        return f"+1{area}555{line:04d}"


def webhook(secret: str, number: str) -> tuple[bytes, dict[str, str]]:
    """Return one signed ``call.ended`` of an answered incoming call from ``number``."""
    now = time.time()
    call: dict[str, Any] = {"direction": "incoming", "from": number, "to": "+14155550100"}
    call["duration"] = 42
    call |= {"started_at": now - 50, "answered_at": now - 45, "ended_at": now}
    event = generic_event("call.ended", f"tp-{number[1:]}", **call)
    return signed(secret, event)


async def drive(stack: Stack, numbers: Numbers, load: str) -> tuple[dict[str, float], float]:
    """Send one load's calls; return each caller's send time and when the first was sent."""
    sent: dict[str, float] = {}

    async def one(number: str) -> None:
        body, headers = webhook(stack.secret, number)
        sent[number[1:]] = time.time()
        answer = await stack.http.post(stack.path, body, headers)
        if answer.status != 200:
            raise RuntimeError(f"webhook answered {answer.status}: {answer.body[:300]!r}")

    async def closed(todo: list[str]) -> None:
        while todo:
            number = todo.pop()
            await one(number)
            await stack.logged_by(number[1:], WAIT_LIMIT)

    first = time.time()
    if load.startswith("rate"):
        await offered(one, [numbers.next() for _ in range(CALLS)], float(load[4:]))
    elif load == "burst":
        todo = [numbers.next() for _ in range(BURST)]

        async def sender() -> None:
            while todo:
                await one(todo.pop())

        await asyncio.gather(*(sender() for _ in range(BURST_SENDERS)))
    else:
        todo = [numbers.next() for _ in range(SINGLE_CALLS if load == "1" else CALLS)]
        await asyncio.gather(*(closed(todo) for _ in range(int(load))))
    return sent, first


Send = Callable[[str], Coroutine[Any, Any, None]]


async def offered(send: Send, todo: list[str], rate: float) -> None:
    """Send one call every ``1 / rate`` seconds (open loop: no send waits for another)."""
    start, sending = time.perf_counter(), []
    for index, number in enumerate(todo):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sending.append(asyncio.create_task(send(number)))
    await asyncio.gather(*sending)


async def measure(stack: Stack, numbers: Numbers, setup: str, matrix: str, load: str) -> Cell:
    """Restart the fake empty, warm up, then run one load and return its figures."""
    await stack.restart_fake()
    for _ in range(WARMUP):  # defines the custom properties in the new fake
        number = numbers.next()
        body, headers = webhook(stack.secret, number)
        await stack.http.post(stack.path, body, headers)
        await stack.logged_by(number[1:], WAIT_LIMIT)
    base_requests = await stack.request_count()
    average = os.getloadavg()[0]
    if stack.pg is not None:
        await stack.pg.start()
    server_before, workers_before = stack.cpu_seconds()
    crm_before = stack.crm_cpu_seconds()
    stack.rss_peak = 0
    sent, first = await drive(stack, numbers, load)
    await stack.all_logged(set(sent), WAIT_LIMIT)
    server_after, workers_after = stack.cpu_seconds()
    crm_cpu = stack.crm_cpu_seconds() - crm_before
    pg = await stack.pg.stop() if stack.pg is not None else None
    server_cpu = server_after - server_before
    cpu = server_cpu + workers_after - workers_before
    logged = {key: stack.logged[key] for key in sent if key in stack.logged}
    last = max(logged.values(), default=first)
    return Cell(
        setup,
        matrix,
        load,
        len(sent),
        len(logged),
        stack.duplicates,
        last - first,
        sorted((logged[key] - sent[key]) * 1000 for key in logged),
        cpu,
        stack.rss_peak,
        average,
        await stack.request_count() - base_requests,
        stack.local_crm,
        server_cpu,
        pg,
        crm_cpu,
    )


async def run_setup(setup: str, profile: Path | None = None) -> list[Cell]:
    """Run every matrix and load on one set-up."""
    cells: list[Cell] = []
    numbers = Numbers()
    async with running(setup, LATENCY_MS, profile) as stack:
        for matrix in _listed("BENCH_THROUGHPUT_MATRICES", ",".join(MATRICES)):
            await stack.use_matrix(MATRICES[matrix])
            for load in _listed("BENCH_THROUGHPUT_LOADS", "1,10,50,burst,rate50"):
                cells.append(await measure(stack, numbers, setup, matrix, load))
                print(row(cells[-1]), flush=True)
                for (waiting, holder), seen in (cells[-1].pg or PgFigures()).blocked.items():
                    print(f"  lock wait x{seen}: {waiting!r} behind {holder!r}", flush=True)
    return cells


async def run() -> str:
    """Run the set-ups and return the Markdown section."""
    profile = os.environ.get("BENCH_PROFILE")
    cells: list[Cell] = []
    for setup in _listed("BENCH_THROUGHPUT_SETUPS", "sqlite,postgres-1,postgres-2"):
        cells += await run_setup(setup, Path(profile) if profile else None)
    return section(cells)


HEADERS = [
    "set-up", "matrix", "load", "calls (in CRM, dup)", "calls/s", "p50 / p95 / max ms",
    "CPU ms/call (server + workers)", "RSS peak MiB", "HubSpot req/call",
    "fake CPU ms/call", "load avg at start",
    "PG xacts/call", "PG rows written/call", "PG backend CPU ms/call", "PG waits (share)",
    "target",
]  # fmt: skip


def load_name(c: Cell) -> str:
    """Say what a cell's load was: closed loop, burst, or calls offered at a fixed rate."""
    if c.load == "burst":
        return f"burst of {c.calls}"
    if c.load.startswith("rate"):
        return f"{c.load[4:]} calls/s offered"
    return f"{c.load} in flight"


def row(c: Cell) -> list[object]:
    """Return a cell's table row."""
    lat = c.latencies_ms or [0.0]
    if c.load == "1":
        target, ok = "p95 ≤ 110 ms", percentile(lat, 0.95) <= 110
    elif c.load.startswith("rate"):
        target, ok = "p95 < 250 ms", percentile(lat, 0.95) < 250
    else:
        target, ok = "≥ 150 calls/s", c.rate >= 150
    load = load_name(c)
    per_call = 1000 / max(c.logged, 1)
    workers_cpu = c.cpu_seconds - c.server_cpu
    return [
        f"{c.setup} (local CRM {c.local_crm})", c.matrix, load,
        f"{c.calls} ({c.logged}, {c.duplicates})", f"{c.rate:.1f}",
        f"{percentile(lat, 0.5):.0f} / {percentile(lat, 0.95):.0f} / {lat[-1]:.0f}",
        f"{c.cpu_seconds * per_call:.1f} ({c.server_cpu * per_call:.1f}"
        f" + {workers_cpu * per_call:.1f})", f"{c.rss_peak / 2**20:.0f}",
        f"{c.requests / max(c.logged, 1):.2f}", f"{c.crm_cpu * per_call:.1f}",
        f"{c.load_average:.2f}",
        *pg_columns(c.pg, c.logged),
        f"{target}: {met(ok and c.logged == c.calls and not c.duplicates)}",
    ]  # fmt: skip


def pg_columns(pg: PgFigures | None, logged: int) -> list[str]:
    """Return the database's columns of a row (dashes on SQLite)."""
    if pg is None:
        return ["-"] * 4
    per_call = 1 / max(logged, 1)
    return [
        f"{pg.transactions * per_call:.1f}", f"{pg.rows_written * per_call:.1f}",
        f"{pg.backend_cpu * per_call * 1000:.1f}",
        f"{pg.top_waits()} (max {pg.connections_max} conn.)",
    ]  # fmt: skip


def section(cells: list[Cell]) -> str:
    """Format the cells as a Markdown section."""
    intro = (
        f"One `call.ended` webhook per call, each from a new number (policy `all`: a contact is "
        f"created); HubSpot fake in its own process answering each request after "
        f"{LATENCY_MS:g} ms, no rate limit, restarted empty per cell after {WARMUP} warm-up "
        f"calls; {SINGLE_CALLS} calls at 1 in flight, {CALLS} at 10 and 50 (closed loop), a "
        f"burst of {BURST} from {BURST_SENDERS} senders, and {CALLS} offered at a fixed rate "
        "(open loop). Latency = engagement stored in the "
        "CRM - webhook sent. CPU and RSS: the Callbridge processes (server and workers). PG: "
        "the cell's database (transactions, rows written, CPU of its backends on this host, "
        "states of its active backends sampled every 50 ms: CPU = active and not waiting)."
    )
    table = markdown_table(HEADERS, [row(c) for c in cells])
    return f"### Throughput: webhook → HubSpot engagement\n\n{intro}\n\n{table}"


if __name__ == "__main__":
    print(asyncio.run(run()))
