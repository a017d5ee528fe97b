"""Deferred writes (``units.later`` inside ``units.deferring``) ride with the task's next unit."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.storage import units
from callbridge.storage.deferred import Write
from callbridge.storage.engine import create_engine
from callbridge.storage.tables import companies

NOW = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Yield an engine on a migrated database."""
    engine = create_engine(migrated_url)
    yield engine
    units.dispose(engine)
    await engine.dispose()


def _inserting(name: str) -> Write:
    row = {"id": name, "name": name, "own_numbers": [], "created_at": NOW}
    return lambda db: db.execute(insert(companies), row)


def _names(db: Connection) -> set[str]:
    return set(db.execute(select(companies.c.id)).scalars())


async def test_outside_a_block_a_later_write_is_written_at_once(engine: AsyncEngine) -> None:
    """Without ``deferring`` (an API request, a test) ``later`` is an ordinary write."""
    await units.later(engine, _inserting("now"))
    assert await units.read(engine, _names) == {"now"}


async def test_a_later_write_waits_for_the_next_unit_and_commits_with_it(
    engine: AsyncEngine,
) -> None:
    """Deferred rows are invisible until the task writes again, then stored in that unit."""
    async with units.deferring(engine):
        await units.later(engine, _inserting("deferred"))
        assert await units.read(engine, _names) == set()
        await units.write(engine, _inserting("next"))
        assert await units.read(engine, _names) == {"deferred", "next"}
    assert await units.read(engine, _names) == {"deferred", "next"}


async def test_what_is_left_is_written_when_the_block_ends(engine: AsyncEngine) -> None:
    """A deferred write no unit carried is written at the block's end, even on an error."""
    with pytest.raises(RuntimeError):
        async with units.deferring(engine):
            await units.later(engine, _inserting("left"))
            raise RuntimeError("the sync failed")
    assert await units.read(engine, _names) == {"left"}


async def test_a_failing_unit_takes_its_riders_with_it(engine: AsyncEngine) -> None:
    """Rows carried by a unit that fails are not stored (a retry recovers them), nor kept."""

    def failing(db: Connection) -> None:
        raise ValueError("refused")

    async with units.deferring(engine):
        await units.later(engine, _inserting("carried"))
        with pytest.raises(ValueError):
            await units.write(engine, failing)
        await units.write(engine, _inserting("after"))
    assert await units.read(engine, _names) == {"after"}


async def test_another_task_does_not_carry_a_sync_s_deferred_rows(engine: AsyncEngine) -> None:
    """Deferred rows belong to their task: a concurrent task's write leaves them waiting."""
    waiting, written = asyncio.Event(), asyncio.Event()

    async def sync() -> None:
        async with units.deferring(engine):
            await units.later(engine, _inserting("mine"))
            waiting.set()
            await written.wait()
            assert await units.read(engine, _names) == {"other"}

    async def other() -> None:
        await waiting.wait()
        await units.write(engine, _inserting("other"))
        written.set()

    await asyncio.gather(sync(), other())
    assert await units.read(engine, _names) == {"mine", "other"}


async def test_a_task_started_in_the_block_writes_at_once_once_the_block_ended(
    engine: AsyncEngine,
) -> None:
    """A task the sync started (a HubSpot batch's flush) may outlive it: nothing waits forever."""
    ended = asyncio.Event()

    async def outliving() -> None:
        await ended.wait()
        await units.later(engine, _inserting("late"))

    async with units.deferring(engine):
        task = asyncio.create_task(outliving())
    ended.set()
    await task
    assert await units.read(engine, _names) == {"late"}


def test_every_row_of_a_sync_is_stored_once_however_it_mixes_deferred_and_direct_writes(
    tmp_path: Path,
) -> None:
    """Whatever mix of deferred and direct writes a sync makes, each row is stored exactly once."""
    from callbridge.runtime.schema import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/db.sqlite"
    asyncio.run(upgrade(url))
    examples = itertools.count()

    async def run(plan: list[bool], prefix: str) -> set[str]:
        engine = create_engine(url)
        try:
            async with units.deferring(engine):
                for index, deferred in enumerate(plan):
                    write = units.later if deferred else units.write
                    await write(engine, _inserting(f"{prefix}-{index}"))
            ours = select(companies.c.id).where(companies.c.id.startswith(prefix + "-"))
            return set(await units.read(engine, lambda db: db.execute(ours).scalars().all()))
        finally:
            units.dispose(engine)
            await engine.dispose()

    @settings(max_examples=25)
    @given(plan=st.lists(st.booleans(), min_size=1, max_size=8))
    def stored_once(plan: list[bool]) -> None:
        prefix = f"e{next(examples)}"
        names = asyncio.run(run(plan, prefix))
        assert names == {f"{prefix}-{index}" for index in range(len(plan))}

    stored_once()
