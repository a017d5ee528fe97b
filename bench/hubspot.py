"""HubSpot: requests per synced call, and throughput against the fake's 100 requests / 10 s.

Run alone with ``python -m bench.hubspot``. A ``callbridge serve`` process on SQLite syncs a
company's calls to the HubSpot fake (a loopback server in this process) through the hubspot
connector, configured with ``requests_per_10s`` equal to the fake's budget:

1. requests per call: the fake's request log around one call from a known contact (first
   call of the number, then a second one served by the lookup cache) and one from an unknown
   number (searches, contact creation, engagement);
2. throughput: BACKLOG answered calls from known contacts (CALLS_PER_NUMBER per number) are
   delivered at once; the fake refuses anything above 100 requests in a rolling 10 s window.
   Used = requests HubSpot accepted / (100 per 10 s times the drain time); 429 = refusals.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.harness import (
    environment,
    markdown_table,
    met,
    new_company,
    scratch_dir,
    serve,
    settings_for,
)
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.storage import sql
from callbridge.storage.integrations import update_integration
from callbridge.storage.tables import call_syncs
from callbridge.testing.webhooks import call_sequence, signed

BACKLOG = int(os.environ.get("BENCH_HUBSPOT_BACKLOG", "1000"))
CALLS_PER_NUMBER = 5
LIMIT = 100
SENDERS = 16


@dataclass(frozen=True)
class Figures:
    """What the benchmark measured."""

    known_first: list[str]
    known_cached: list[str]
    unknown: list[str]
    calls: int
    seconds: float
    accepted: int
    refused: int

    @property
    def used(self) -> float:
        """Return the share of the allowed rate used while draining."""
        return self.accepted / (LIMIT / 10 * self.seconds)


@dataclass
class Setup:
    """The running server, its company, its HubSpot integration and the fake."""

    url: str
    company: CreatedCompany
    runtime: Runtime
    integration_id: str
    fake: FakeHubSpot

    async def send(self, client: httpx.AsyncClient, call_id: str, number: str) -> None:
        """Deliver one whole answered incoming call."""
        for event in call_sequence(call_id, "incoming", number, answered=True):
            body, headers = signed(self.company.source_secret, event)
            path = f"/webhooks/generic/{self.company.source_id}"
            await client.post(path, content=body, headers=headers)

    async def synced(self) -> int:
        """Return how many calls are synced to HubSpot."""
        query = select(func.count()).where(
            call_syncs.c.integration_id == self.integration_id, call_syncs.c.status == "done"
        )
        async with self.runtime.sessions() as session:
            return int((await session.execute(query)).scalar_one())

    async def wait(self, count: int, within: float = 1800) -> None:
        """Wait until ``count`` calls are synced."""
        deadline = time.monotonic() + within
        while await self.synced() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {await self.synced()} of {count} calls synced")
            await asyncio.sleep(0.2)


async def connect(url: str, company: CreatedCompany, runtime: Runtime, fake: FakeHubSpot) -> str:
    """Add the HubSpot integration (the local CRM creates nothing) and store its token."""
    headers = {"Authorization": f"Bearer {company.api_key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await client.patch(
            f"/integrations/{company.integration_id}", json={"creation_policy": "none"}
        )
        config: dict[str, Any] = {"base_url": fake.url, "requests_per_10s": LIMIT}
        config["create_custom_properties"] = True
        body = {"connector": "hubspot", "name": "HubSpot", "config": config}
        integration_id = str((await client.post("/integrations", json=body)).json()["id"])
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            update_integration,
            company.company_id, integration_id, runtime.clock(),
            credentials_encrypted=runtime.box.seal({"access_token": "pat-na1-test"}),
        )  # fmt: skip
    return integration_id


async def per_call(
    setup: Setup, client: httpx.AsyncClient
) -> tuple[list[str], list[str], list[str]]:
    """Return the requests of a known number's first call, its cached call, an unknown's call."""
    for number in ("(415) 555-0100", "(415) 555-0101"):
        setup.fake.state.add("contacts", {"firstname": "Known", "phone": number})
    logs = []
    numbers = ("+14155550100", "+14155550101", "+14155550101", "+14155550102")
    for index, number in enumerate(numbers):  # the first call defines our custom properties
        before = len(setup.fake.state.requests)
        await setup.send(client, f"per-call-{index}", number)
        await setup.wait(index + 1)
        logs.append([f"{method} {path}" for method, path in setup.fake.state.requests[before:]])
    return logs[1], logs[2], logs[3]


async def drain(setup: Setup, client: httpx.AsyncClient) -> tuple[float, int, int]:
    """Deliver the backlog and return (seconds to sync it, requests accepted, 429s)."""
    numbers = [f"+1212555{i:04d}" for i in range(BACKLOG // CALLS_PER_NUMBER)]
    for number in numbers:
        setup.fake.state.add("contacts", {"firstname": "Busy", "phone": number})
    setup.fake.state.budget_per_10s = LIMIT
    already, sent_before = await setup.synced(), len(setup.fake.state.requests)
    started = time.monotonic()
    queue = [(f"backlog-{i}", numbers[i % len(numbers)]) for i in range(BACKLOG)]

    async def sender() -> None:
        while queue:
            call_id, number = queue.pop()
            await setup.send(client, call_id, number)

    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    await setup.wait(already + BACKLOG)
    seconds = time.monotonic() - started
    refused = setup.fake.state.rejected_429
    return seconds, len(setup.fake.state.requests) - sent_before - refused, refused


async def run() -> str:
    """Run the benchmark and return its Markdown section."""
    with scratch_dir("hubspot") as data_dir, FakeHubSpot() as fake:
        settings = settings_for(data_dir, None)
        company = await new_company(settings)
        runtime = Runtime.create(settings)
        # The fake listens on loopback, which connectors reach only when the operator allows it.
        env = environment(data_dir, None, log_level="warning", allowed_private_hosts="127.0.0.1")
        try:
            with serve(env, data_dir / "server.log") as server:
                integration_id = await connect(server.url, company, runtime, fake)
                setup = Setup(server.url, company, runtime, integration_id, fake)
                headers = {"Authorization": f"Bearer {company.api_key}"}
                async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
                    known_first, known_cached, unknown = await per_call(setup, client)
                    seconds, accepted, refused = await drain(setup, client)
        finally:
            await runtime.close()
    return section(Figures(known_first, known_cached, unknown, BACKLOG, seconds, accepted, refused))


def section(f: Figures) -> str:
    """Format the figures as a Markdown section."""
    requests = markdown_table(
        ["call", "HubSpot requests", "which", "target"],
        [
            ["known contact, first call of the number", len(f.known_first),
             _which(f.known_first), met(len(f.known_first) <= 2)],
            ["known contact, number in the lookup cache", len(f.known_cached),
             _which(f.known_cached), met(len(f.known_cached) <= 2)],
            ["unknown number (contact created)", len(f.unknown), _which(f.unknown), "—"],
        ],
    )  # fmt: skip
    throughput = markdown_table(
        ["backlog", "drain s", "calls/s", "requests accepted", "429s", "share of 100/10 s used",
         "targets: no 429, ≥ 90 %"],
        [[f.calls, f"{f.seconds:.0f}", f"{f.calls / f.seconds:.1f}", f.accepted, f.refused,
          f"{f.used:.0%}", met(f.refused == 0 and f.used >= 0.9)]],
    )  # fmt: skip
    return (
        "### HubSpot: requests per call and throughput under 100 requests / 10 s\n\n"
        "SQLite server, embedded worker, connector budget = the fake's limit (100 / 10 s); "
        "backlog of answered incoming calls from known contacts (default matrix: log the call, "
        f"look for an open deal), {CALLS_PER_NUMBER} per number; the drain "
        "time runs from the first delivery to the last synced call (delivery included).\n\n"
        f"{requests}\n\n{throughput}"
    )


def _which(requests: list[str]) -> str:
    """Return a call's requests as a short list: ``POST …/contacts/search``."""
    return "; ".join(
        f"`{r.replace('/crm/v3/objects/', '…/').replace('/crm/v4/objects/', 'v4 …/')}`"
        for r in requests
    )


if __name__ == "__main__":
    print(asyncio.run(run()))
