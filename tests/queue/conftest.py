"""Queue fixtures: an engine on a fresh SQLite file holding only the jobs table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.queue.sqlite_table import jobs
from callbridge.storage import units
from callbridge.storage.engine import create_engine
from callbridge.storage.metadata import metadata


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """Return an engine on a fresh SQLite file holding the jobs table."""
    engine = create_engine(sqlite_url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: metadata.create_all(sync, tables=[jobs]))
    yield engine
    units.dispose(engine)
    await engine.dispose()
