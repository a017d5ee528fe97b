"""Calls synced per second to a real BottleCRM holding 10k contacts, and its requests per call.

Run alone with ``python -m bench.bottlecrm``. A BottleCRM 1.35.0 server (gunicorn, 2 workers x 4
threads, SQLite, DRF throttles off) is seeded with SEEDED contacts by ORM ``bulk_create``; a
``callbridge serve`` process on SQLite (embedded worker) has one integration, BottleCRM, with the
default matrix. CALLS answered incoming calls (ringing, answered, ended, with a recording link) are
POSTed by CLIENTS concurrent clients, half from seeded numbers, half from new ones; the rate is
calls whose sync is finished per second, from the first POST to the last sync. Requests are
counted in BottleCRM's access log, so they include every retry and look-up Callbridge made.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import environment, markdown_table, new_company, scratch_dir, serve, settings_for
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.storage import sql
from callbridge.storage.integrations import update_integration
from callbridge.testing.bottlecrm_server import (
    BottleCrm,
    BottleCrmOrg,
    ensure_venv,
    find_python312,
    running_bottlecrm,
)
from callbridge.testing.webhooks import call_sequence, signed

SEEDED = 10_000
CALLS = 200
CLIENTS = 8
SETTLE_LIMIT = 300.0
_REQUEST = re.compile(r'"(?P<method>[A-Z]+) (?P<path>/[^ ?"]*)')
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class SyncFigures:
    """What one run measured."""

    calls: int
    synced: int
    failed: int
    seconds: float
    requests: Counter[str]

    @property
    def rate(self) -> float:
        """Return calls synced per second."""
        return self.synced / self.seconds

    @property
    def per_call(self) -> float:
        """Return BottleCRM requests per synced call."""
        return sum(self.requests.values()) / max(self.synced, 1)


async def connect(
    data_dir: Path, company: CreatedCompany, crm: BottleCrm, org: BottleCrmOrg
) -> None:
    """Turn the company's integration into a BottleCRM one, with the org's token sealed."""
    runtime = Runtime.create(settings_for(data_dir, None))
    try:
        async with runtime.sessions.begin() as session:
            await sql.run(
                session,
                update_integration,
                company.company_id,
                company.integration_id,
                runtime.clock(),
                connector="bottlecrm",
                name="BottleCRM",
                config={"base_url": crm.url},
                credentials_encrypted=runtime.box.seal({"token": org.token}),
            )
    finally:
        await runtime.close()


def deliveries(secret: str) -> list[list[tuple[bytes, dict[str, str]]]]:
    """Sign every call's deliveries ahead of time: half known numbers, half new ones."""
    picked = random.Random(7).sample(range(SEEDED), CALLS // 2)
    numbers = [f"+1212{2_000_000 + index:07d}" for index in picked]
    numbers += [f"+1646{2_000_000 + i:07d}" for i in range(CALLS - len(numbers))]
    calls = []
    for number in numbers:
        call_id = f"bench-{uuid.uuid4().hex[:12]}"
        events = call_sequence(
            call_id, "incoming", number, answered=True, recording_url=f"https://rec.test/{call_id}"
        )
        calls.append([signed(secret, event) for event in events])
    return calls


async def post_calls(url: str, path: str, calls: list[list[tuple[bytes, dict[str, str]]]]) -> None:
    """POST every call's events in order, CLIENTS calls at a time."""
    pending = iter(calls)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def client() -> None:
            for call in pending:
                for body, headers in call:
                    answer = await http.post(path, content=body, headers=headers)
                    answer.raise_for_status()

        await asyncio.gather(*(client() for _ in range(CLIENTS)))


def sync_counts(database: Path) -> tuple[int, int]:
    """Return how many syncs are finished, and how many of them failed."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = dict(conn.execute("SELECT status, COUNT(*) FROM call_syncs GROUP BY status"))
    finished = sum(n for status, n in rows.items() if status in {"done", "no_match", "skipped"})
    return finished + rows.get("failed", 0), rows.get("failed", 0)


def requests_by_endpoint(lines: list[str]) -> Counter[str]:
    """Count access-log lines by method and path, ids replaced by ``{id}``."""
    counted: Counter[str] = Counter()
    for line in lines:
        found = _REQUEST.search(line)
        if found and not found["path"].startswith("/healthz"):
            counted[f"{found['method']} {_UUID.sub('{id}', found['path'])}"] += 1
    return counted


async def measure(crm: BottleCrm, org: BottleCrmOrg) -> SyncFigures:
    """Run CALLS calls through a Callbridge server into BottleCRM and count what it took."""
    with scratch_dir("bottlecrm") as data_dir:
        company = await new_company(settings_for(data_dir, None))
        await connect(data_dir, company, crm, org)
        calls = deliveries(company.source_secret)
        log = crm.servers[0].access_log
        before = len(log.read_text().splitlines())
        # BottleCRM listens on loopback, which connectors reach only when the operator allows it.
        env = environment(data_dir, None, allowed_private_hosts="127.0.0.1")
        with serve(env, data_dir / "server.log") as server:
            started = time.perf_counter()
            await post_calls(server.url, f"/webhooks/generic/{company.source_id}", calls)
            deadline = time.monotonic() + SETTLE_LIMIT
            while (counts := sync_counts(data_dir / "callbridge.db"))[0] < CALLS:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - started
        lines = log.read_text().splitlines()[before:]
    done, failed = counts
    return SyncFigures(CALLS, done - failed, failed, seconds, requests_by_endpoint(lines))


async def run() -> str:
    """Seed BottleCRM, sync the calls, and return the Markdown section."""
    venv = ensure_venv(find_python312())
    with scratch_dir("bottlecrm_peer") as peer_dir, running_bottlecrm(venv, peer_dir) as crm:
        org = crm.new_org("Bench")
        seeding = time.perf_counter()
        crm.seed(org, SEEDED)
        seeded_in = time.perf_counter() - seeding
        figures = await measure(crm, org)
    return section(figures, seeded_in)


def section(figures: SyncFigures, seeded_in: float) -> str:
    """Return the Markdown section of the results."""
    summary = markdown_table(
        ["contacts", "calls", "synced (failed)", "calls synced/s", "BottleCRM requests/call"],
        [
            [
                f"{SEEDED:,} (seeded in {seeded_in:.1f} s)",
                figures.calls,
                f"{figures.synced} ({figures.failed})",
                f"{figures.rate:.1f}",
                f"{figures.per_call:.1f}",
            ]
        ],
    )
    endpoints = markdown_table(
        ["request", "count", "per call"],
        [
            [name, count, f"{count / max(figures.synced, 1):.2f}"]
            for name, count in figures.requests.most_common()
        ],
    )
    return (
        "### BottleCRM: calls synced per second, requests per call\n\n"
        f"{CALLS} answered incoming calls (half from the {SEEDED:,} seeded numbers, half new), "
        f"{CLIENTS} concurrent senders, Callbridge on SQLite with the default matrix, BottleCRM "
        "1.35.0 on SQLite (gunicorn 2x4, throttles off) on the same machine.\n\n"
        f"{summary}\n\nBottleCRM requests by endpoint:\n\n{endpoints}"
    )


if __name__ == "__main__":
    print(asyncio.run(run()))
