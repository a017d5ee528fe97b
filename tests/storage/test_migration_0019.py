"""Migration 0019: every company gets the time zone "UTC", what its screens showed until then."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from callbridge.runtime.schema import alembic_config, upgrade
from callbridge.storage.engine import create_engine
from callbridge.storage.types import UTCDateTime

companies = sa.table(
    "companies",
    sa.column("id"),
    sa.column("name"),
    sa.column("own_numbers", sa.JSON),
    sa.column("created_at", UTCDateTime()),
)


async def _zones(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT id, time_zone FROM companies"))
            return {row.id: row.time_zone for row in rows}
    finally:
        await engine.dispose()


async def test_companies_stored_before_get_utc_and_the_column_goes_back(database_url: str) -> None:
    await upgrade(database_url, "0018")
    ids = [str(uuid.uuid4()) for _ in range(3)]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            now = datetime(2026, 1, 1, tzinfo=UTC)
            await conn.execute(
                companies.insert(),
                [{"id": i, "name": i, "own_numbers": [], "created_at": now} for i in ids],
            )
    finally:
        await engine.dispose()
    await upgrade(database_url, "0019")
    assert await _zones(database_url) == dict.fromkeys(ids, "UTC")
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0018")
    await upgrade(database_url, "0019")
    assert await _zones(database_url) == dict.fromkeys(ids, "UTC")
