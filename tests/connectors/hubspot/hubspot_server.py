"""A ``callbridge serve`` subprocess whose company syncs to the HubSpot fake, set up by the API."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import select

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.storage.tables import call_syncs, calls
from callbridge.testing.servers import LOOPBACK, eventually, free_port, running_serve
from callbridge.testing.webhooks import call_sequence, signed
from tests.connectors.hubspot.hubspot_setup import ROOMY, TOKEN

PG_ADMIN_DSN = os.environ.get("CALLBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SETTLED = frozenset({"done", "no_match"})


@dataclass
class HubSpotServer:
    """A running server, its company, its HubSpot integration and the fake it writes to."""

    url: str
    company: CreatedCompany
    runtime: Runtime
    integration_id: str
    fake: FakeHubSpot

    @property
    def integration_path(self) -> str:
        """Return the API path of the HubSpot integration."""
        return f"/integrations/{self.integration_id}"

    def client(self) -> httpx.AsyncClient:
        """Return a client with the company's admin key."""
        headers = {"Authorization": f"Bearer {self.company.api_key}"}
        return httpx.AsyncClient(base_url=self.url, timeout=60, headers=headers)

    def fake_client(self) -> httpx.AsyncClient:
        """Return a client of the HubSpot fake, with its private app token."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.AsyncClient(base_url=self.fake.url, timeout=30, headers=headers)

    async def send(self, client: httpx.AsyncClient, events: Iterable[dict[str, Any]]) -> None:
        """Deliver signed events one by one, as a telephony platform does."""
        path = f"/webhooks/generic/{self.company.source_id}"
        for event in events:
            body, headers = signed(self.company.source_secret, event)
            answer = await client.post(path, content=body, headers=headers)
            assert answer.status_code == 200, answer.text

    async def send_call(
        self, client: httpx.AsyncClient, call_id: str, direction: str, number: str, answered: bool
    ) -> None:
        """Deliver every event of one whole call: answered then ended, or missed."""
        await self.send(client, call_sequence(call_id, direction, number, answered=answered))

    async def syncs(self, call_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the HubSpot sync row of each call that has one, by provider call id."""
        query = (
            select(calls.c.provider_call_id, call_syncs)
            .join(call_syncs, call_syncs.c.call_id == calls.c.id)
            .where(
                calls.c.company_id == self.company.company_id,
                calls.c.provider_call_id.in_(list(call_ids)),
                call_syncs.c.integration_id == self.integration_id,
            )
        )
        async with self.runtime.reads() as session:  # a snapshot: never the writers' lock
            rows = (await session.execute(query)).mappings().all()
        return {row["provider_call_id"]: dict(row) for row in rows}

    async def wait_settled(
        self, call_ids: Iterable[str], statuses: frozenset[str] = SETTLED, within: float = 60
    ) -> dict[str, dict[str, Any]]:
        """Wait until every call's HubSpot sync has one of ``statuses``; return the rows."""
        wanted = list(call_ids)
        found: dict[str, dict[str, Any]] = {}

        async def settled() -> bool:
            found.clear()
            found.update(await self.syncs(wanted))
            return all(found.get(c, {}).get("status") in statuses for c in wanted)

        try:
            await eventually(
                settled, f"{len(wanted)} HubSpot syncs in {set(statuses)}", within=within
            )
        except AssertionError as err:  # say where the calls were left
            left = {
                c: (found.get(c, {}).get("status"), found.get(c, {}).get("reason")) for c in wanted
            }
            raise AssertionError(f"{err}; syncs: {left}") from None
        return found

    async def wait_idle(self, client: httpx.AsyncClient, within: float = 30) -> None:
        """Wait until no job is waiting or running (redundant sync jobs included)."""

        async def idle() -> bool:
            return bool((await client.get("/readyz")).json()["pending_jobs"] == 0)

        await eventually(idle, "the queue to drain", within=within)

    def contacts(self, phone: str) -> list[dict[str, Any]]:
        """Return the fake's contacts with this exact phone."""
        found = self.fake.state.objects.get("contacts", {}).values()
        return [c for c in found if c["properties"].get("phone") == phone]

    def calls_on(self, contact_id: str) -> list[dict[str, Any]]:
        """Return the calls engagements associated with a contact."""
        ids = self.fake.state.associated("contacts", contact_id, "calls")
        return [self.fake.state.objects["calls"][i] for i in ids]

    def engagements(self, call_uuid: str) -> list[dict[str, Any]]:
        """Return the calls engagements Callbridge wrote for one call (by its external id)."""
        external_id = f"callbridge:{call_uuid}"
        written = self.fake.state.objects.get("calls", {}).values()
        return [e for e in written if e["properties"].get("callbridge_external_id") == external_id]


@contextlib.contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """Yield the URL of an empty SQLite file or PostgreSQL database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'callbridge.db'}"
        return
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0]
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """Return the server's environment: it may reach the fake on loopback."""
    return {
        **os.environ,
        "CALLBRIDGE_DATA_DIR": str(data_dir),
        "CALLBRIDGE_LOG_LEVEL": "warning",
        "CALLBRIDGE_DATABASE_URL": database_url,
        "CALLBRIDGE_ALLOWED_PRIVATE_HOSTS": LOOPBACK,
    }


@contextlib.asynccontextmanager
async def serving(
    database_url: str, data_dir: Path, fake: FakeHubSpot
) -> AsyncIterator[HubSpotServer]:
    """Run a server whose company syncs to HubSpot through an integration made by the API.

    The company's local CRM creates nothing, so every contact created is HubSpot's.
    """
    await upgrade(database_url)
    runtime = Runtime.create(Settings(data_dir=data_dir, database_url=database_url))
    try:
        company = await create_company(runtime, "HubSpot e2e")
        environment = _environment(data_dir, database_url)
        with running_serve(free_port(), environment, data_dir / "server.log") as url:
            headers = {"Authorization": f"Bearer {company.api_key}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
                integration_id = await _integrate(client, company, fake)
            yield HubSpotServer(url, company, runtime, integration_id, fake)
    finally:
        await runtime.close()


async def _integrate(client: httpx.AsyncClient, company: CreatedCompany, fake: FakeHubSpot) -> str:
    """Stop the local CRM creating contacts, integrate HubSpot on the fake; return its id."""
    local = f"/integrations/{company.integration_id}"
    assert (await client.patch(local, json={"creation_policy": "none"})).status_code == 200
    config = {**ROOMY, "base_url": fake.url}
    credentials = {"access_token": TOKEN}  # checked against the fake before saving
    body = {"connector": "hubspot", "name": "HubSpot", "config": config}
    created = await client.post("/integrations", json={**body, "credentials": credentials})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])
