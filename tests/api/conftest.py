"""The API in-process (ASGI transport) on a migrated database, with two companies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from tests.api.api_tenant import Tenant


@pytest.fixture
async def api_runtime(migrated_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated database (SQLite and PostgreSQL)."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    yield runtime
    await runtime.close()


async def _tenant(runtime: Runtime, name: str) -> AsyncIterator[Tenant]:
    company = await create_company(runtime, name)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://callbridge.test",
        headers={"Authorization": f"Bearer {company.api_key}"},
    ) as client:
        yield Tenant(company, client)


@pytest.fixture
async def acme(api_runtime: Runtime) -> AsyncIterator[Tenant]:
    """The first company."""
    async for tenant in _tenant(api_runtime, "ACME"):
        yield tenant


@pytest.fixture
async def globex(api_runtime: Runtime) -> AsyncIterator[Tenant]:
    """A second company that must never see the first one's data."""
    async for tenant in _tenant(api_runtime, "Globex"):
        yield tenant
