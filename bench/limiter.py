"""HubSpot's rolling-window limits, kept: a backlog at the default budgets gets no 429.

Run alone with ``python -m bench.limiter``. On SQLite (``callbridge serve`` with its embedded
worker) and on PostgreSQL (``serve`` without a worker plus one ``callbridge worker``), a HubSpot
integration at its default budgets (90 requests / 10 s, 4 searches / s) syncs a backlog of
BACKLOG answered incoming calls, half of them from numbers HubSpot does not know (two searches
and a contact creation each), to the HubSpot fake enforcing HubSpot's own limits: 100 requests
in any rolling 10 s, 5 searches in any rolling second, each answered 429 past that.

Measured: the drain time (first delivery to last synced call), the 429s, and the most requests
the fake let through in any rolling second and any rolling 10 s, and the most searches in any
rolling second (from the time of every request it let through).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.harness import (
    child,
    environment,
    markdown_table,
    met,
    new_company,
    postgres_database,
    scratch_dir,
    serve,
    settings_for,
)
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.connectors.hubspot.fake import gate as fake_module
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.storage import sql
from callbridge.storage.integrations import update_integration
from callbridge.storage.tables import call_syncs
from callbridge.testing.webhooks import call_sequence, signed

BACKLOG = int(os.environ.get("BENCH_LIMITER_BACKLOG", "200"))
SENDERS = 8
# HubSpot's Free/Starter limits (docs/connectors/hubspot.md, limits).
HUBSPOT_PER_10S, HUBSPOT_SEARCHES = 100, 5


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    database: str
    calls: int
    synced: int
    seconds: float
    refused: int
    per_second: int
    per_10s: int
    searches_per_second: int


def most_in_window(times: Sequence[float], window: float) -> int:
    """Return the most times in any rolling ``window`` (windows starting at a time suffice)."""
    ordered, most, first = sorted(times), 0, 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - window:
            first += 1
        most = max(most, last - first + 1)
    return most


@contextmanager
def recorded(accepted: list[tuple[float, bool]]) -> Iterator[None]:
    """Note the time of every request the fake lets through, and whether it is a search."""
    original = fake_module.Gate.check

    def check(gate: Any, request: Any) -> Any:
        refused = original(gate, request)
        if refused is None:
            accepted.append((time.monotonic(), request.url.path.endswith("/search")))
        return refused

    fake_module.Gate.check = check  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        fake_module.Gate.check = original  # type: ignore[method-assign]


async def connect(url: str, company: CreatedCompany, runtime: Runtime, fake: FakeHubSpot) -> str:
    """Add a HubSpot integration at the default budgets (the local CRM creates nothing)."""
    headers = {"Authorization": f"Bearer {company.api_key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        path = f"/integrations/{company.integration_id}"
        (await client.patch(path, json={"creation_policy": "none"})).raise_for_status()
        config = {"base_url": fake.url, "create_custom_properties": True}
        body = {"connector": "hubspot", "name": "HubSpot", "config": config}
        created = await client.post("/integrations", json=body)
        created.raise_for_status()
        integration_id = str(created.json()["id"])
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            update_integration,
            company.company_id, integration_id, runtime.clock(),
            credentials_encrypted=runtime.box.seal({"access_token": "pat-na1-test"}),
        )  # fmt: skip
    return integration_id


async def synced(runtime: Runtime, integration_id: str) -> int:
    """Return how many calls are synced to HubSpot."""
    query = select(func.count()).where(
        call_syncs.c.integration_id == integration_id, call_syncs.c.status == "done"
    )
    async with runtime.sessions() as session:
        return int((await session.execute(query)).scalar_one())


async def drain(url: str, company: CreatedCompany, runtime: Runtime, integration_id: str) -> float:
    """Deliver the backlog, half from unknown numbers; return the seconds until all are synced."""
    headers = {"Authorization": f"Bearer {company.api_key}"}
    queue = [
        (f"limiter-{i}", f"+1212555{i:04d}" if i % 2 else f"+1646555{i:04d}")
        for i in range(BACKLOG)
    ]
    started = time.monotonic()

    async def sender(client: httpx.AsyncClient) -> None:
        while queue:
            call_id, number = queue.pop()
            for event in call_sequence(call_id, "incoming", number, answered=True):
                body, signed_headers = signed(company.source_secret, event)
                path = f"/webhooks/generic/{company.source_id}"
                (await client.post(path, content=body, headers=signed_headers)).raise_for_status()

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        if await synced(runtime, integration_id) >= BACKLOG:
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def measure(database: str, database_url: str | None) -> Figures:
    """Run the backlog against one database."""
    accepted: list[tuple[float, bool]] = []
    with (
        scratch_dir(f"limiter_{database.lower()}") as data_dir,
        recorded(accepted),
        FakeHubSpot() as fake,
    ):
        for i in range(1, BACKLOG, 2):  # the odd calls' numbers are known contacts
            fake.state.add("contacts", {"firstname": "Known", "phone": f"+1212555{i:04d}"})
        fake.state.budget_per_10s = HUBSPOT_PER_10S
        fake.state.searches_per_second = HUBSPOT_SEARCHES
        settings = settings_for(data_dir, database_url)
        company = await new_company(settings)
        runtime = Runtime.create(settings)
        try:
            seconds, done = await _run(data_dir, database_url, company, runtime, fake)
        finally:
            await runtime.close()
        refused = fake.state.rejected_429
    every = [moment for moment, _ in accepted]
    searches = [moment for moment, search in accepted if search]
    return Figures(
        database, BACKLOG, done, seconds, refused, most_in_window(every, 1.0),
        most_in_window(every, 10.0), most_in_window(searches, 1.0),
    )  # fmt: skip


async def _run(
    data_dir: Path,
    database_url: str | None,
    company: CreatedCompany,
    runtime: Runtime,
    fake: FakeHubSpot,
) -> tuple[float, int]:
    """Start the processes for the database, drain the backlog; return (seconds, synced)."""
    extra = {"log_level": "warning", "allowed_private_hosts": "127.0.0.1"}
    if database_url is None:
        with serve(environment(data_dir, None, **extra), data_dir / "server.log") as server:
            integration_id = await connect(server.url, company, runtime, fake)
            seconds = await drain(server.url, company, runtime, integration_id)
    else:
        env = environment(data_dir, database_url, embedded_worker="false", **extra)
        with (
            serve(env, data_dir / "server.log") as server,
            child(["worker"], env, data_dir / "worker.log"),
        ):
            integration_id = await connect(server.url, company, runtime, fake)
            seconds = await drain(server.url, company, runtime, integration_id)
    return seconds, await synced(runtime, integration_id)


async def run() -> str:
    """Run the backlog on SQLite and on PostgreSQL and return the Markdown section."""
    results = [await measure("SQLite", None)]
    with postgres_database("limiter") as url:
        results.append(await measure("PostgreSQL", url))
    return section(results)


def section(results: list[Figures]) -> str:
    """Format the figures as a Markdown section."""
    table = markdown_table(
        ["database", "calls synced", "drain s", "429s", "most requests in 1 s / in 10 s",
         "most searches in 1 s", "targets: all synced, no 429, ≤ 5 searches/s, ≤ 100/10 s"],
        [[f.database, f"{f.synced} / {f.calls}", f"{f.seconds:.0f}", f.refused,
          f"{f.per_second} / {f.per_10s}", f.searches_per_second,
          met(f.synced == f.calls and f.refused == 0 and f.searches_per_second <= HUBSPOT_SEARCHES
              and f.per_10s <= HUBSPOT_PER_10S)]
         for f in results],
    )  # fmt: skip
    return (
        "### HubSpot limits kept: a backlog at the default budgets\n\n"
        f"{BACKLOG} answered incoming calls delivered at once, half from numbers HubSpot does "
        "not know; the integration at its defaults (90 requests / 10 s, 4 searches / s); the "
        f"fake enforcing HubSpot's {HUBSPOT_PER_10S} / 10 s and {HUBSPOT_SEARCHES} searches / s "
        "in rolling windows. SQLite: `serve` with its embedded worker; PostgreSQL: `serve` and "
        "one `callbridge worker`. Drain: first delivery to last synced call.\n\n"
        f"{table}"
    )


if __name__ == "__main__":
    print(asyncio.run(run()))
