"""HubSpot connector fixtures: the fake on loopback, a migrated SQLite database, connectors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callbridge.connectors.base import IntegrationContext, utc_now
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.connectors.registry import factory
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.integrations import create_integration
from tests.connectors.hubspot.hubspot_server import HubSpotServer, serving
from tests.connectors.hubspot.hubspot_setup import LOOPBACK, ROOMY, TOKEN, MakeConnector


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    """A HubSpot fake on a loopback port, fresh for each test."""
    with FakeHubSpot() as running:
        yield running


@pytest.fixture
async def hs_runtime(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated SQLite database, allowed to reach the fake on loopback."""
    await upgrade(sqlite_url)
    settings = Settings(data_dir=tmp_path, database_url=sqlite_url, allowed_private_hosts=LOOPBACK)
    runtime = Runtime.create(settings)
    yield runtime
    await runtime.close()


@pytest.fixture
async def integration_id(hs_runtime: Runtime) -> str:
    """The id of a HubSpot integration row (the tables reference it)."""
    company = await create_company(hs_runtime, "HubSpot tests")
    async with hs_runtime.sessions.begin() as session:
        return await sql.run(
            session,
            create_integration,
            company.company_id,
            hs_runtime.clock(),
            connector="hubspot",
            name="HubSpot",
            default_region="US",
            language="en",
            creation_policy="all",
            config={},
            status="active",
        )


@pytest.fixture
async def integration_on(migrated_url: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, str]]:
    """A runtime on SQLite or PostgreSQL (migrated) and a HubSpot integration row in it."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    company = await create_company(runtime, "HubSpot limits")
    async with runtime.sessions.begin() as session:
        integration_id = await sql.run(
            session, create_integration, company.company_id, runtime.clock(),
            connector="hubspot", name="HubSpot",
            default_region="US", language="en", creation_policy="all", config={},
            status="active",
        )  # fmt: skip
    yield runtime, integration_id
    await runtime.close()


@pytest.fixture
def make_connector(hs_runtime: Runtime, integration_id: str, fake: FakeHubSpot) -> MakeConnector:
    """Build HubSpot connectors through the registry, as the pipeline does."""

    def make(
        credentials: dict[str, Any] | None = None,
        clock: Callable[[], datetime] = utc_now,
        region: str = "US",
        **config: Any,
    ) -> HubSpotConnector:
        context = IntegrationContext(
            integration_id=integration_id,
            company_id="unused",
            default_region=region,
            config={**ROOMY, "base_url": fake.url, **config},
            credentials=credentials if credentials is not None else {"access_token": TOKEN},
            http=hs_runtime.http,
            sessions=hs_runtime.sessions,
            clock=clock,
        )
        connector = factory("hubspot")(context)
        assert isinstance(connector, HubSpotConnector)
        return connector

    return make


@pytest.fixture
async def hubspot_server(
    database_url: str, tmp_path: Path, fake: FakeHubSpot
) -> AsyncIterator[HubSpotServer]:
    """A ``callbridge serve`` syncing to the fake, on SQLite and on PostgreSQL."""
    async with serving(database_url, tmp_path, fake) as server:
        yield server


@pytest.fixture
async def sqlite_server(
    sqlite_url: str, tmp_path: Path, fake: FakeHubSpot
) -> AsyncIterator[HubSpotServer]:
    """A ``callbridge serve`` syncing to the fake, on SQLite only (keeps the suite short)."""
    async with serving(sqlite_url, tmp_path, fake) as server:
        yield server
