"""Fixtures: a running Callbridge server on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.e2e_server import Server, make_server


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """A running server on a fresh database (SQLite and PostgreSQL)."""
    running = await make_server(database_url, tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.kill(signal.SIGTERM)
