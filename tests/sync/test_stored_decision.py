"""A sync's later runs replay the scenario its first run decided, by the same matrix version."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from callbridge.storage import call_history, sql
from tests.sync.sync_world import SyncWorld, sync_world

__all__ = ["sync_world"]


async def test_a_later_run_reads_the_stored_scenario_and_its_matrix_version(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    call_id, _, _ = await world.call("incoming", True)
    await world.sync(call_id)
    row = await world.sync_row(call_id)
    assert row is not None and row["scenario"] is not None
    loaded, _ = await world.loaded(call_id)
    assert loaded.decided == (row["scenario"], row["matrix_version"])
    assert loaded.matrix_version == row["matrix_version"]


async def test_a_stored_scenario_without_its_matrix_version_fails_the_run_saying_so(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    call_id, _, _ = await world.call("incoming", True)
    await world.sync(call_id)
    ids = (world.company.company_id, call_id, world.company.integration_id)

    def damage(db: Connection) -> None:
        now = world.runtime.clock()
        call_history.save_sync(db, *ids, now, new_run=False, matrix_version=None)

    async with world.runtime.sessions.begin() as session:
        await sql.run(session, damage)
    with pytest.raises(ValueError, match="but no matrix version"):
        await world.loaded(call_id)
