"""The UI in-process (ASGI transport) on a migrated database, with two companies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.ui.mount import mount
from tests.ui.ui_client import UiTenant


@pytest.fixture
async def ui_runtime(migrated_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated database (SQLite and PostgreSQL)."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    yield runtime
    await runtime.close()


async def _tenant(runtime: Runtime, name: str) -> AsyncIterator[UiTenant]:
    company = await create_company(runtime, name)
    transport = httpx.ASGITransport(app=mount(create_app(runtime)))
    async with httpx.AsyncClient(transport=transport, base_url="http://callbridge.test") as client:
        yield UiTenant(company, client)


@pytest.fixture
async def acme(ui_runtime: Runtime) -> AsyncIterator[UiTenant]:
    """The first company, signed out."""
    async for tenant in _tenant(ui_runtime, "ACME"):
        yield tenant


@pytest.fixture
async def globex(ui_runtime: Runtime) -> AsyncIterator[UiTenant]:
    """A second company, whose ids the first must never reach."""
    async for tenant in _tenant(ui_runtime, "Globex"):
        yield tenant
