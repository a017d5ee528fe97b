"""The UI in-process (ASGI transport) on a migrated database, with two companies; for the
browser tests, a real server and Debian's Chromium."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from callbridge.runtime import Runtime
from tests.e2e.e2e_server import Server, make_server
from tests.in_process import company_client
from tests.ui.browser import chromium, in_thread
from tests.ui.ui_client import UiTenant


@pytest.fixture
def ui_runtime(migrated_runtime: Runtime) -> Runtime:
    """A runtime on a migrated database (SQLite and PostgreSQL)."""
    return migrated_runtime


@pytest.fixture
async def acme(ui_runtime: Runtime) -> AsyncIterator[UiTenant]:
    """The first company, signed out."""
    async with company_client(ui_runtime, "ACME", screens=True) as (company, client):
        yield UiTenant(company, client)


@pytest.fixture
async def globex(ui_runtime: Runtime) -> AsyncIterator[UiTenant]:
    """A second company, whose ids the first must never reach."""
    async with company_client(ui_runtime, "Globex", screens=True) as (company, client):
        yield UiTenant(company, client)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A running server with one company (SQLite and PostgreSQL)."""
    running = in_thread(make_server(database_url, tmp_path))
    running.start()
    try:
        yield running
    finally:
        running.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module."""
    with chromium() as launched:
        yield launched
