"""The API in-process (ASGI transport) on a migrated database, with two companies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callbridge.runtime import Runtime
from tests.api.api_tenant import Tenant
from tests.in_process import company_client


@pytest.fixture
def api_runtime(migrated_runtime: Runtime) -> Runtime:
    """A runtime on a migrated database (SQLite and PostgreSQL)."""
    return migrated_runtime


@pytest.fixture
async def acme(api_runtime: Runtime) -> AsyncIterator[Tenant]:
    """The first company."""
    async with company_client(api_runtime, "ACME") as (company, client):
        yield Tenant(company, client)


@pytest.fixture
async def globex(api_runtime: Runtime) -> AsyncIterator[Tenant]:
    """A second company that must never see the first one's data."""
    async with company_client(api_runtime, "Globex") as (company, client):
        yield Tenant(company, client)
