"""End to end over HTTP: a Callbridge server subprocess syncing calls to the HubSpot fake."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from callbridge.bootstrap import CreatedCompany, create_company
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.storage.integrations import update_integration
from callbridge.storage.migrate import upgrade
from callbridge.storage.tables import call_syncs
from callbridge.testing.fakes.hubspot import FakeHubSpot, free_port
from callbridge.testing.webhooks import call_sequence, signed
from conftest import ROOMY, TOKEN

pytestmark = pytest.mark.slow


@dataclass
class HubSpotServer:
    """A ``callbridge serve`` subprocess whose company has a HubSpot integration on the fake."""

    url: str
    company: CreatedCompany
    runtime: Runtime
    integration_id: str
    fake: FakeHubSpot

    def client(self) -> httpx.AsyncClient:
        """Return a client with the company's admin key."""
        headers = {"Authorization": f"Bearer {self.company.api_key}"}
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers=headers)

    async def send(self, client: httpx.AsyncClient, event: dict[str, Any]) -> None:
        """Deliver one signed event (a new delivery id each time, as a retrying platform does)."""
        body, headers = signed(self.company.source_secret, event)
        path = f"/webhooks/generic/{self.company.source_id}"
        assert (await client.post(path, content=body, headers=headers)).status_code == 200

    async def wait_synced(self, count: int, within: float = 60) -> None:
        """Wait until ``count`` calls are synced to HubSpot."""
        query = select(func.count()).where(
            call_syncs.c.integration_id == self.integration_id,
            call_syncs.c.status.in_(["done", "no_match"]),
        )
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with self.runtime.sessions() as session:
                if (await session.execute(query)).scalar_one() >= count:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {count} calls synced to HubSpot in {within} s")

    def contacts(self, phone: str) -> list[dict[str, Any]]:
        """Return the fake's contacts with this exact phone."""
        found = self.fake.state.objects.get("contacts", {}).values()
        return [c for c in found if c["properties"].get("phone") == phone]

    def calls_on(self, contact_id: str) -> list[dict[str, Any]]:
        """Return the calls engagements associated with a contact."""
        ids = self.fake.state.associated("contacts", contact_id, "calls")
        return [self.fake.state.objects["calls"][i] for i in ids]


def start(url: str, data_dir: Path, database_url: str) -> subprocess.Popen[bytes]:
    """Start ``callbridge serve`` and wait for /readyz."""
    port = int(url.rsplit(":", 1)[1])
    env = {"CALLBRIDGE_DATA_DIR": str(data_dir), "CALLBRIDGE_LOG_LEVEL": "warning"}
    env["CALLBRIDGE_DATABASE_URL"] = database_url
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "callbridge", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError((data_dir / "server.log").read_text()[-3000:])


@contextlib.asynccontextmanager
async def serving(
    database_url: str, tmp_path: Path, fake: FakeHubSpot
) -> AsyncIterator[HubSpotServer]:
    """Run a server whose company syncs to HubSpot (its local CRM creates nothing)."""
    await upgrade(database_url)
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=database_url))
    company = await create_company(runtime, "HubSpot e2e")
    url = f"http://127.0.0.1:{free_port()}"
    process = start(url, tmp_path, database_url)
    try:
        headers = {"Authorization": f"Bearer {company.api_key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            local = f"/integrations/{company.integration_id}"
            await client.patch(local, json={"creation_policy": "none"})
            config = {**ROOMY, "base_url": fake.url}
            body = {"connector": "hubspot", "name": "HubSpot", "config": config}
            created = await client.post("/integrations", json=body)
            assert created.status_code == 201, created.text
        integration_id = created.json()["id"]
        sealed = runtime.box.seal({"access_token": TOKEN})  # the API takes no credentials yet
        async with runtime.sessions.begin() as session:
            await update_integration(
                session, company.company_id, integration_id, runtime.clock(),
                credentials_encrypted=sealed,
            )  # fmt: skip
        yield HubSpotServer(url, company, runtime, integration_id, fake)
    finally:
        process.terminate()
        process.wait(timeout=20)
        await runtime.close()


@pytest.fixture
async def hubspot_server(
    database_url: str, tmp_path: Path, fake: FakeHubSpot
) -> AsyncIterator[HubSpotServer]:
    """A server syncing to the fake, on SQLite and on PostgreSQL."""
    async with serving(database_url, tmp_path, fake) as server:
        yield server


@pytest.fixture
async def sqlite_server(
    sqlite_url: str, tmp_path: Path, fake: FakeHubSpot
) -> AsyncIterator[HubSpotServer]:
    """A server syncing to the fake, on SQLite only (to keep the suite's time down)."""
    async with serving(sqlite_url, tmp_path, fake) as server:
        yield server


async def test_a_number_stored_in_a_national_format_gets_the_call(
    sqlite_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    hubspot_server = sqlite_server
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "(415) 555-0199"})
    async with hubspot_server.client() as client:
        for event in call_sequence("nat-1", "incoming", "+1 415 555 0199", answered=True):
            await hubspot_server.send(client, event)
        await hubspot_server.wait_synced(1)
    assert len(fake.state.objects["contacts"]) == 1, "no contact for a number HubSpot has"
    [logged] = hubspot_server.calls_on(jane["id"])
    assert logged["properties"]["hs_call_direction"] == "INBOUND"


async def test_fifty_concurrent_calls_from_one_unknown_number_make_one_contact(
    hubspot_server: HubSpotServer,
) -> None:
    number = "+14155550177"
    async with hubspot_server.client() as client:

        async def deliver(index: int) -> None:
            sequence = call_sequence(f"burst-{index}", "incoming", number, answered=index % 2 == 0)
            for event in sequence:
                await hubspot_server.send(client, event)

        await asyncio.gather(*(deliver(i) for i in range(50)))
        await hubspot_server.wait_synced(50)
    [contact] = hubspot_server.contacts(number)
    assert contact["properties"]["firstname"] == "New Callbridge Contact"
    logged = hubspot_server.calls_on(contact["id"])
    assert len({c["properties"]["callbridge_external_id"] for c in logged}) == len(logged) == 50


async def test_each_event_delivered_three_times_gives_one_engagement(
    sqlite_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    hubspot_server = sqlite_server
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    async with hubspot_server.client() as client:
        for index in range(5):
            for event in call_sequence(f"dup-{index}", "incoming", "+14155550134", answered=True):
                for _ in range(3):
                    await hubspot_server.send(client, event)
        await hubspot_server.wait_synced(5)
        await asyncio.sleep(1)  # room for a stray duplicate job to show itself
    assert len(hubspot_server.calls_on(jane["id"])) == 5
    assert len(fake.state.objects["calls"]) == 5


async def test_a_429_burst_loses_nothing_and_duplicates_nothing(
    hubspot_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    known = [fake.state.add("contacts", {"phone": f"+1415555020{i}"}) for i in range(5)]
    fake.state.force(429, times=25)
    async with hubspot_server.client() as client:
        for index in range(10):
            for event in call_sequence(
                f"rl-{index}", "incoming", f"+1415555020{index}", answered=True
            ):
                await hubspot_server.send(client, event)
        await hubspot_server.wait_synced(10, within=80)
    assert fake.state.rejected_429 == 25
    assert all(len(hubspot_server.calls_on(c["id"])) == 1 for c in known)
    for index in range(5, 10):
        [created] = hubspot_server.contacts(f"+1415555020{index}")
        assert len(hubspot_server.calls_on(created["id"])) == 1
    assert len(fake.state.objects["calls"]) == 10
