"""The call history at 100k calls on SQLite: ``GET /calls`` and the UI's ``/ui/calls`` page.

Run alone with ``python -m bench.ui``. CALLS calls (each with its sync in the local CRM) are
bulk-inserted straight into the migrated tables of a SQLite file; then a real ``callbridge
serve`` answers REQUESTS requests of each (first page, default limit) after WARM_UP ones: the
API with the company's admin key, the page in a session signed in with that key; then the same
for the filtered and deep pages of ``bench.ui_filters``. Times are
wall-clock seen by the client (httpx on loopback). Targets (issue 16): the page < 300 ms.

Then ``bench.ui_dialer`` times a ringing webhook → "+N" in the agent's dialer in Chromium
(target: p95 < 200 ms).
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    environment,
    markdown_table,
    met,
    new_company,
    percentile,
    scratch_dir,
    serve,
    settings_for,
)
from bench.ui_dialer import measure
from bench.ui_filters import timed_filters

CALLS = 100_000
REQUESTS = 20
WARM_UP = 3
TARGET_PAGE_MS = 300.0
_START = datetime(2026, 1, 1, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _stamp(index: int) -> str:
    return (_START + timedelta(minutes=index)).strftime("%Y-%m-%d %H:%M:%S.%f")


#: The bench's two agents: the first took one call in a hundred, the second all the others.
AGENTS = ("bench-agent-1", "bench-agent-2")


def agent_of(index: int) -> str:
    """Return the id of the agent who took the call ``index``."""
    return AGENTS[0] if index % 100 == 0 else AGENTS[1]


def status_of(index: int) -> str:
    """Return the sync status of the call ``index`` (one in fifty failed)."""
    return "failed" if index % 50 == 0 else "done"


def _calls(company: str, source: str) -> Iterator[tuple[Any, ...]]:
    for index in range(CALLS):
        stamp = _stamp(index)
        direction = "incoming" if index % 3 else "outgoing"
        state = ("ended", "missed", "voicemail")[index % 3]
        yield (
            str(uuid.UUID(int=index + 1)),
            company,
            source,
            f"bench-{index}",
            state,
            direction,
            f"+336{index:08d}",
            "+33100000000",
            agent_of(index),
            stamp,
            60 + index % 600,
            "[]",
            3,
            stamp,
            stamp,
        )


def _syncs(company: str, integration: str) -> Iterator[tuple[Any, ...]]:
    for index in range(CALLS):
        call = str(uuid.UUID(int=index + 1))
        number = f"+336{index:08d}"
        yield (company, call, integration, number, "[]", status_of(index), 1, _stamp(index))


def seed(path: Path, company: str, source: str, integration: str) -> float:
    """Insert CALLS calls and their syncs into the SQLite file; return the seconds it took."""
    started = time.perf_counter()
    db = sqlite3.connect(path)
    try:
        with db:
            db.executemany(
                "INSERT INTO users (id, company_id, name, role) VALUES (?, ?, ?, 'agent')",
                [(agent, company, agent) for agent in AGENTS],
            )
            db.executemany(
                "INSERT INTO calls (id, company_id, source_id, provider_call_id, state, direction,"
                " from_number, to_number, user_id, started_at, duration, tags, event_count,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _calls(company, source),
            )
            db.executemany(
                "INSERT INTO call_syncs (company_id, call_id, integration_id, external_number,"
                " matched, status, attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _syncs(company, integration),
            )
        db.execute("ANALYZE")
    finally:
        db.close()
    return time.perf_counter() - started


def timed(client: httpx.Client, url: str, **headers: str) -> list[float]:
    """GET ``url`` WARM_UP + REQUESTS times; return the REQUESTS times in milliseconds."""
    times = []
    for attempt in range(WARM_UP + REQUESTS):
        started = time.perf_counter()
        answer = client.get(url, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
        if attempt >= WARM_UP:
            times.append(elapsed)
    return times


def sign_in(client: httpx.Client, key: str) -> None:
    """Sign the client's session in to the UI with an admin key."""
    form = client.get("/ui/sign-in")
    found = _CSRF.search(form.text)
    if found is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    answer = client.post("/ui/sign-in", data={"csrf": found.group(1), "key": key})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused: {answer.status_code} {answer.text[:300]}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def run() -> str:
    """Seed 100k calls on SQLite, time ``GET /calls`` and ``/ui/calls``; return the section."""
    with scratch_dir("ui") as data_dir:
        settings = settings_for(data_dir, None)
        company = await new_company(settings)
        url = settings.resolved_database_url()
        path = Path(url.split(":///", 1)[1])
        seconds = seed(path, company.company_id, company.source_id, company.integration_id)
        load_before = _load()
        served = serve(environment(data_dir, None), data_dir / "serve.log")
        with served as server, httpx.Client(base_url=server.url, timeout=30) as client:
            api = timed(client, "/calls", authorization=f"Bearer {company.api_key}")
            sign_in(client, company.api_key)
            page = timed(client, "/ui/calls")
            filtered = timed_filters(client, timed, company.api_key, company.integration_id)
        load_after = _load()
    dialer = {database: await measure(database) for database in ("sqlite", "postgres")}
    load_dialer = _load()
    rows = [
        ("`GET /calls` (API key)", *_figures(api), "—"),
        ("`/ui/calls` (signed in)", *_figures(page), _target(page, TARGET_PAGE_MS)),
        *[
            (label, *_figures(times), _target(times, TARGET_PAGE_MS) if ui else "—")
            for label, ui, times in filtered
        ],
        *[
            (
                f'ringing webhook → "+3" in the dialer ({database})',
                *_figures(times),
                _target(times, 200.0),
            )
            for database, times in dialer.items()
        ],
    ]
    headers = ["measure", "median ms", "p95 ms", "max ms", "p95 target"]
    return (
        f'### Call history at {CALLS:,} calls (SQLite), and the dialer\'s "+N"\n\n'
        f"{CALLS:,} calls and their syncs inserted in {seconds:.1f} s; {REQUESTS} requests of "
        f"each page (first page, default limit) after {WARM_UP} warm-up ones, one at a time, "
        f"through `callbridge serve` on loopback. Then {len(dialer['sqlite'])} ringing calls, each "
        "to an open dialer in Chromium, on a fresh SQLite database and then on a fresh "
        "PostgreSQL one (three records match). Load "
        f"average before: {load_before}; after the pages: {load_after}; after the dialer: "
        f"{load_dialer}.\n\n{markdown_table(headers, rows)}"
    )


def _target(times: list[float], target: float) -> str:
    return f"< {target:.0f} ms: {met(percentile(times, 0.95) < target)}"


def _figures(times: list[float]) -> tuple[str, str, str]:
    return (
        f"{statistics.median(times):.0f}",
        f"{percentile(times, 0.95):.0f}",
        f"{max(times):.0f}",
    )


if __name__ == "__main__":
    import asyncio

    print(asyncio.run(run()))
