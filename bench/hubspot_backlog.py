"""HubSpot at its low-tier limits: how fast a backlog of calls drains, and at what request cost.

Run alone with ``python -m bench.hubspot_backlog`` (or ``python -m bench hubspot-backlog``). A
``callbridge serve`` process on SQLite (embedded worker) syncs to the HubSpot fake (a loopback
server in this process, answering each request after ``BENCH_HUBSPOT_LATENCY_MS``, 20 ms by
default) that enforces HubSpot's low-tier limits, 100 requests / 10 s and 5 searches / s; the
integration's own budget is the same. The backlog is made the way one forms in production: the
integration is paused while BACKLOG answered incoming calls arrive (half from contacts HubSpot
knows, half from numbers it does not: a contact is created, policy ``all``), then resumed. The
drain runs from the resume to the last call synced. Reported: calls/s, the fake's 429s, HubSpot
requests per call, and duplicates (a contact made twice for one number, or a call logged twice:
must be 0). ``CALLBRIDGE_WORKER_CONCURRENCY`` is passed to the server when set;
``BENCH_HUBSPOT_BACKLOG_PG_WORKERS=N`` runs it on PostgreSQL with N worker processes instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select

from bench.harness import (
    Process,
    child,
    environment,
    new_company,
    postgres_database,
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
LATENCY_MS = float(os.environ.get("BENCH_HUBSPOT_LATENCY_MS", "20"))
LIMIT, SEARCHES, SENDERS = 100, 5, 16
# 0: ``callbridge serve`` on SQLite with its embedded worker; N: serve and N ``callbridge worker``
# processes on a fresh PostgreSQL database (Procrastinate).
WORKERS = int(os.environ.get("BENCH_HUBSPOT_BACKLOG_PG_WORKERS", "0"))
OURS = ("callbridge_external_id", "callbridge_record_id", "callbridge_key")


@dataclass(frozen=True)
class Drained:
    """What one drain measured."""

    calls: int
    seconds: float
    requests: int
    refused: int
    duplicates: int
    kinds: Counter[str]
    load: float
    cpu: float  # the CPU seconds of the server (and workers) during the drain
    policies: dict[str, int]  # the fake's 429s by policyName

    @property
    def rate(self) -> float:
        """Return calls synced per second."""
        return self.calls / self.seconds


async def setup(url: str, company: CreatedCompany, runtime: Runtime, fake: FakeHubSpot) -> str:
    """Add the HubSpot integration (policy ``all``), store its token, and pause it."""
    headers = {"Authorization": f"Bearer {company.api_key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await client.patch(
            f"/integrations/{company.integration_id}", json={"creation_policy": "none"}
        )
        config = {"base_url": fake.url, "requests_per_10s": LIMIT, "searches_per_second": SEARCHES}
        body = {"connector": "hubspot", "name": "HubSpot", "config": config}
        answer = await client.post("/integrations", json=body | {"creation_policy": "all"})
        answer.raise_for_status()
        integration_id = str(answer.json()["id"])
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            update_integration,
            company.company_id, integration_id, runtime.clock(),
            credentials_encrypted=runtime.box.seal({"access_token": "pat-na1-test"}),
            status="paused", status_reason="bench: the backlog forms",
        )  # fmt: skip
    return integration_id


async def synced(runtime: Runtime, integration_id: str) -> int:
    """Return how many calls are synced to HubSpot."""
    query = select(func.count()).where(
        call_syncs.c.integration_id == integration_id, call_syncs.c.status == "done"
    )
    async with runtime.sessions() as session:
        return int((await session.execute(query)).scalar_one())


async def deliver(url: str, company: CreatedCompany, numbers: list[str]) -> None:
    """Send one whole answered incoming call per number, SENDERS at a time."""
    queue = list(enumerate(numbers))
    path = f"/webhooks/generic/{company.source_id}"

    async def sender(client: httpx.AsyncClient) -> None:
        while queue:
            index, number = queue.pop()
            for event in call_sequence(f"backlog-{index}", "incoming", number, answered=True):
                body, headers = signed(company.source_secret, event)
                (await client.post(path, content=body, headers=headers)).raise_for_status()

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))


def duplicates(fake: FakeHubSpot) -> int:
    """Return the contacts made twice for one number plus the calls logged twice."""
    objects = fake.state.objects
    phones = Counter(c["properties"].get("phone") for c in objects.get("contacts", {}).values())
    calls = Counter(
        c["properties"].get("callbridge_external_id") for c in objects.get("calls", {}).values()
    )
    return sum(n - 1 for n in phones.values() if n > 1) + sum(
        n - 1 for n in calls.values() if n > 1
    )


async def drain(
    processes: list[Process], company: CreatedCompany, runtime: Runtime, fake: FakeHubSpot
) -> Drained:
    """Form the backlog while paused, resume, and time the drain (``processes``: server first)."""
    url = processes[0].url

    def cpu_seconds() -> float:
        return sum(process.cpu_seconds() for process in processes)

    integration_id = await setup(url, company, runtime, fake)
    known = [f"+1212555{i:04d}" for i in range(BACKLOG // 2)]
    unknown = [f"+1646555{i:04d}" for i in range(BACKLOG - len(known))]
    for number in known:
        fake.state.add("contacts", {"firstname": "Known", "phone": number})
    for kind in ("contacts", "calls", "deals"):  # defined beforehand, as after a first call
        fake.state.properties[kind] |= set(OURS)
        fake.state.unique.setdefault(kind, set()).add("callbridge_key")
    await deliver(url, company, [n for pair in zip(known, unknown, strict=True) for n in pair])
    fake.state.budget_per_10s, fake.state.searches_per_second = LIMIT, SEARCHES
    fake.state.latency = LATENCY_MS / 1000
    await asyncio.sleep(11)  # the limits' windows are empty when the drain starts
    before, load = len(fake.state.requests), os.getloadavg()[0]
    headers = {"Authorization": f"Bearer {company.api_key}"}
    started, cpu = time.monotonic(), cpu_seconds()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        (await client.post(f"/integrations/{integration_id}/resume")).raise_for_status()
    while (done := await synced(runtime, integration_id)) < BACKLOG:
        if time.monotonic() - started > 3600:
            raise RuntimeError(f"only {done} of {BACKLOG} calls synced")
        await asyncio.sleep(0.2)
    seconds, cpu = time.monotonic() - started, cpu_seconds() - cpu
    sent = fake.state.requests[before:]
    kinds = Counter(f"{method} {path.replace('/crm/v3/objects/', '…/')}" for method, path in sent)
    refused = fake.state.rejected_429
    return Drained(
        BACKLOG,
        seconds,
        len(sent),
        refused,
        duplicates(fake),
        kinds,
        load,
        cpu,
        dict(getattr(fake.state, "rejected_by", {})),
    )


async def run() -> str:
    """Run the benchmark and return its Markdown section."""
    with (
        scratch_dir("hubspot-backlog") as data_dir,
        FakeHubSpot() as fake,
        contextlib.ExitStack() as stack,
    ):
        url = stack.enter_context(postgres_database("backlog")) if WORKERS else None
        settings = settings_for(data_dir, url)
        company = await new_company(settings)
        runtime = Runtime.create(settings)
        extra = {"log_level": "warning", "allowed_private_hosts": "127.0.0.1"}
        if WORKERS:
            extra["embedded_worker"] = "false"
        env = environment(data_dir, url, **extra)
        try:
            processes = [stack.enter_context(serve(env, data_dir / "server.log"))]
            for index in range(WORKERS):
                log = data_dir / f"worker{index}.log"
                processes.append(stack.enter_context(child(["worker"], env, log)))
            figures = await drain(processes, company, runtime, fake)
        finally:
            await runtime.close()
    setup = f"PostgreSQL, {WORKERS} worker process(es)" if WORKERS else "SQLite, embedded worker"
    return section(figures, env.get("CALLBRIDGE_WORKER_CONCURRENCY", "default"), setup)


def section(f: Drained, concurrency: str, setup: str) -> str:
    """Format the figures as a Markdown section."""
    which = ", ".join(f"{count} x `{kind}`" for kind, count in f.kinds.most_common())
    policies = ", ".join(f"{n} x {policy}" for policy, n in sorted(f.policies.items()))
    return (
        "### HubSpot backlog at its low-tier limits (100 requests / 10 s, 5 searches / s)\n\n"
        f"On {setup}.\n\n"
        "| backlog | worker concurrency | drain s | calls/s | 429s | requests/call | "
        "duplicates | Callbridge CPU ms/call | load avg at start |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {f.calls} (half unknown) | {concurrency} | {f.seconds:.1f} | {f.rate:.1f} | "
        f"{f.refused} | {f.requests / f.calls:.3f} | {f.duplicates} | "
        f"{1000 * f.cpu / f.calls:.1f} | {f.load:.1f} |\n\n"
        f"Requests: {which}.\n\n429s by policy: {policies or 'none'}.\n"
    )


if __name__ == "__main__":
    print(asyncio.run(run()))
