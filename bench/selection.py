"""Latency from a ringing event accepted to its candidates received on the agent's SSE stream.

Run alone with ``python -m bench.selection``. The local CRM holds RECORDS records (10,000); each
of the CALLS numbers called matches a contact and a lead among them. One agent (team with
``is_multicrm_sync``, integration option on) keeps ``GET /dialer/events`` open; ringing events of
incoming calls assigned to that agent are POSTed one after the other (a new one GAP seconds after
the previous one's candidates arrived). The latency of a call is the moment its ``call`` event
(with the candidates) is read from the stream minus the moment the ringing POST returned 200.

SQLite runs the embedded worker in the server. PostgreSQL runs the server without a worker plus
one ``callbridge worker`` process, as deployed: the event crosses processes through NOTIFY.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import insert

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
from callbridge.connectors.local.tables import crm_record_phones, crm_records
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.settings import Settings
from callbridge.testing.webhooks import generic_event, signed

RECORDS = 10_000
CALLS = 200
GAP = 0.05
TARGET_P95_MS = 200.0
AGENT = "ann@bench.test"


@dataclass(frozen=True)
class SelectionFigures:
    """What one run measured."""

    database: str
    calls: int
    received: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    post_p95_ms: float


async def seed(settings: Settings, company: CreatedCompany) -> list[str]:
    """Insert RECORDS records in one transaction; return the CALLS numbers matching two each."""
    runtime = Runtime.create(settings)
    now = datetime.now(UTC)
    scope = {"company_id": company.company_id, "integration_id": company.integration_id}
    records: list[dict[str, Any]] = []
    phones: list[dict[str, Any]] = []
    for i in range(RECORDS):
        kind = "lead" if i % 2 else "contact"
        number = f"+1312555{i // 2:04d}" if i < 2 * CALLS else f"+1646555{i:04d}"
        record_id = str(uuid.uuid4())
        records.append({"id": record_id, "object_type": kind, "name": f"R{i}", **scope})
        records[-1] |= {"created_at": now, "updated_at": now}
        phones.append({"record_id": record_id, "integration_id": company.integration_id})
        phones[-1] |= {"raw": number, "e164": number}
    try:
        async with runtime.sessions.begin() as session:
            await session.execute(insert(crm_records), records)
            await session.execute(insert(crm_record_phones), phones)
    finally:
        await runtime.close()
    return [f"+1312555{i:04d}" for i in range(CALLS)]


async def set_up_agent(client: httpx.AsyncClient, company: CreatedCompany) -> str:
    """Create the agent with its token, and turn manual selection on; return the token."""
    team = await client.post("/teams", json={"name": "Sales", "permissions": ["is_multicrm_sync"]})
    body = {"name": "Ann", "email": AGENT, "team_id": team.json()["id"]}
    user = (await client.post("/users", json=body)).json()
    config = {"select_contact_manually": True}
    await client.patch(f"/integrations/{company.integration_id}", json={"config": config})
    token: str = (await client.post(f"/users/{user['id']}/tokens")).json()["token"]
    return token


async def drive(url: str, company: CreatedCompany, numbers: list[str]) -> tuple[list[float], ...]:
    """Send the ringing events and time each until its candidates are on the stream."""
    admin = {"Authorization": f"Bearer {company.api_key}"}
    async with httpx.AsyncClient(base_url=url, headers=admin, timeout=30) as client:
        token = await set_up_agent(client, company)
        agent = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=url, headers=agent, timeout=None) as sse,
            sse.stream("GET", "/dialer/events") as stream,
        ):
            lines = stream.aiter_lines()
            await _next_event(lines, "ready")
            return await _calls(client, company, numbers, lines)


async def _calls(
    client: httpx.AsyncClient, company: CreatedCompany, numbers: list[str], lines: Any
) -> tuple[list[float], list[float]]:
    latencies, posts = [], []
    for i, number in enumerate(numbers):
        call: dict[str, Any] = {"direction": "incoming", "from": number, "to": "+14155550100"}
        event = generic_event("call.ringing", f"bench-{i}", **call, agent={"email": AGENT})
        body, headers = signed(company.source_secret, event)
        started = time.perf_counter()
        answer = await client.post(
            f"/webhooks/generic/{company.source_id}", content=body, headers=headers
        )
        accepted = time.perf_counter()
        assert answer.status_code == 200, answer.text
        data = await asyncio.wait_for(_next_event(lines, "call"), 30)
        assert data["count"] == 2, data
        latencies.append(time.perf_counter() - accepted)
        posts.append(accepted - started)
        await asyncio.sleep(GAP)
    return latencies, posts


async def _next_event(lines: Any, kind: str) -> dict[str, Any]:
    current = None
    async for line in lines:
        if line.startswith("event: "):
            current = line[7:]
        elif line.startswith("data: ") and current == kind:
            found: dict[str, Any] = json.loads(line[6:])
            return found
    raise RuntimeError("the stream ended")


async def measure(database: str, database_url: str | None) -> SelectionFigures:
    """Run the benchmark on one database."""
    with scratch_dir("selection") as data_dir:
        settings = settings_for(data_dir, database_url)
        company = await new_company(settings)
        numbers = await seed(settings, company)
        if database_url is None:
            env = environment(data_dir, None, log_level="warning")
            with serve(env, data_dir / "server.log") as server:
                latencies, posts = await drive(server.url, company, numbers)
        else:
            env = environment(data_dir, database_url, log_level="warning", embedded_worker="false")
            with (
                serve(env, data_dir / "server.log") as server,
                child(["worker"], env, data_dir / "worker.log"),
            ):
                latencies, posts = await drive(server.url, company, numbers)
    return _figures(database, latencies, posts)


def _figures(database: str, latencies: list[float], posts: list[float]) -> SelectionFigures:
    ms = [value * 1000 for value in latencies]
    return SelectionFigures(
        database=database,
        calls=CALLS,
        received=len(ms),
        p50_ms=percentile(ms, 0.5),
        p95_ms=percentile(ms, 0.95),
        max_ms=max(ms),
        post_p95_ms=percentile(posts, 0.95) * 1000,
    )


async def run() -> str:
    """Run on SQLite and PostgreSQL and return the Markdown section."""
    results = [await measure("SQLite (embedded worker)", None)]
    with postgres_database("selection") as url:
        results.append(await measure("PostgreSQL (server + 1 worker, NOTIFY)", url))
    return section(results)


def section(results: list[SelectionFigures]) -> str:
    """Format the figures as a Markdown section."""
    headers = ["database", "calls (candidates received)", "p50 / p95 / max ms", "POST p95 ms"]
    headers.append(f"target p95 < {TARGET_P95_MS:.0f} ms")
    rows = [
        [
            f.database,
            f"{f.calls} ({f.received})",
            f"{f.p50_ms:.0f} / {f.p95_ms:.0f} / {f.max_ms:.0f}",
            f"{f.post_p95_ms:.0f}",
            met(f.p95_ms < TARGET_P95_MS and f.received == f.calls),
        ]
        for f in results
    ]
    intro = (
        f"{RECORDS:,} local CRM records; {CALLS} ringing events sent one at a time, each number "
        "matching a contact and a lead; latency = the `call` event with its candidates read from "
        "the agent's `GET /dialer/events` minus the return of the ringing POST."
    )
    title = "### Multi CRM selection: ringing accepted → candidates on the agent's stream"
    return f"{title}\n\n{intro}\n\n" + markdown_table(headers, rows)


if __name__ == "__main__":
    print(asyncio.run(run()))
