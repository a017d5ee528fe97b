"""``callbridge demo`` against a real server process: the day ends consistent in the local CRM."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.testing.servers import free_port, running_serve
from callbridge.tools.demo import run_demo

pytestmark = pytest.mark.slow
CALLBRIDGE = Path(sys.executable).with_name("callbridge")


@dataclass(frozen=True)
class Server:
    """A running ``callbridge serve`` and the company created before it started."""

    url: str
    company: CreatedCompany


async def _create_company(data_dir: Path) -> CreatedCompany:
    settings = Settings(data_dir=data_dir, database_url=None)
    await upgrade(settings.resolved_database_url())
    runtime = Runtime.create(settings)
    try:
        return await create_company(runtime, "Demo test company")
    finally:
        await runtime.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """Start ``callbridge serve`` on SQLite in ``tmp_path`` and a free port; always stop it."""
    company = asyncio.run(_create_company(tmp_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBRIDGE_")}
    env |= {"CALLBRIDGE_DATA_DIR": str(tmp_path), "CALLBRIDGE_LOG_LEVEL": "warning"}
    log = tmp_path / "server.log"
    with running_serve(free_port(), env, log, program=[str(CALLBRIDGE)]) as url:
        yield Server(url, company)


async def _demo(server: Server, calls: int, seed: int) -> tuple[int, str]:
    output = io.StringIO()
    company = server.company
    code = await run_demo(
        server.url,
        company.api_key,
        company.source_id,
        company.source_secret,
        calls,
        Console(file=output, width=120),
        wait_seconds=90,
        seed=seed,
    )
    return code, output.getvalue()


async def _calls(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = (await api.get("/calls", params={"limit": 500})).json()["calls"]
    return [(await api.get(f"/calls/{call['id']}")).json() for call in listed]


async def _activities(api: httpx.AsyncClient, records: str) -> list[dict[str, Any]]:
    listed = (await api.get(records, params={"limit": 500})).json()["records"]
    shown = [(await api.get(f"{records}/{record['id']}")).json() for record in listed]
    return [activity for record in shown for activity in record["activities"]]


def _api(server: Server) -> httpx.AsyncClient:
    auth = {"authorization": f"Bearer {server.company.api_key}"}
    return httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30)


async def test_demo_day_ends_consistent_in_the_local_crm(server: Server) -> None:
    code, output = await _demo(server, calls=30, seed=7)

    assert code == 0, output
    assert "Result: consistent" in output
    for case in ("deals for new callers", "unknown employee: a task", "new caller missed"):
        assert case in output, output  # the matrix's default scenarios were all exercised
    records = f"/integrations/{server.company.integration_id}/records"
    async with _api(server) as api:
        calls = await _calls(api)
        pair = [c for c in calls if c["provider_call_id"].endswith("-concurrent")]
        assert len(pair) == 2 and pair[0]["from_number"] == pair[1]["from_number"]
        search = await api.get(f"{records}/search", params={"phone": pair[0]["from_number"]})
        assert [r["object_type"] for r in search.json()["records"]] == ["contact"]
        activities = await _activities(api, records)
    assert len(calls) == 30
    synced_external = [
        c for c in calls for s in c["syncs"] if s["status"] == "done" and s["external_number"]
    ]
    assert len(activities) == len(synced_external)
    assert len({a["external_id"] for a in activities}) == len(activities)
    assert {a["external_id"] for a in activities} == {
        f"callbridge:{c['id']}" for c in synced_external
    }


async def test_demo_can_run_twice_on_the_same_company(server: Server) -> None:
    first, _ = await _demo(server, calls=10, seed=1)
    second, output = await _demo(server, calls=10, seed=1)

    assert (first, second) == (0, 0), output
    async with _api(server) as api:
        records = f"/integrations/{server.company.integration_id}/records"
        listed = (await api.get(records, params={"limit": 500})).json()["records"]
        users = (await api.get("/users")).json()
    seeded = [r for r in listed if r["name"] != "New Callbridge Contact"]
    assert len(seeded) == 5  # the known contacts are seeded once, not once per run
    assert len(users) == 4  # three agents and the TOP manager
