"""What a sync notes on its integration for the screens: a pause's code, the daily limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from callbridge.connectors.local.connector import LocalConnector
from callbridge.errors import AuthFailed, DailyLimitReached, RateLimited
from callbridge.storage import integrations
from tests.sync.sync_world import SyncWorld, sync_world

__all__ = ["sync_world"]

WAIT = 7200.0


def _raising(error: Exception) -> Any:
    async def find_by_phone(self: LocalConnector, *args: Any, **kwargs: Any) -> Any:
        raise error

    return find_by_phone


@pytest.mark.parametrize("code", integrations.PAUSE_CODES)
async def test_a_refused_credential_pauses_the_integration_with_its_code(
    sync_world: SyncWorld, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    world = sync_world
    refusal = AuthFailed(f"the CRM said no ({code})", code=code)
    monkeypatch.setattr(LocalConnector, "find_by_phone", _raising(refusal))
    call_id, _, _ = await world.call("incoming", True)
    with pytest.raises(RateLimited, match="integration paused"):
        await world.sync(call_id)
    row = await world.integration()
    assert (row["status"], row["status_reason_code"]) == ("paused", code)
    assert row["status_reason"] is not None and f"({code})" in row["status_reason"]


async def test_the_daily_limit_is_noted_until_it_resets_and_never_shortened(
    sync_world: SyncWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = sync_world
    for wait in (WAIT, WAIT / 2):  # a later sync told of an earlier reset leaves it as it was
        limit = DailyLimitReached("the account's daily API limit is used up", wait)
        monkeypatch.setattr(LocalConnector, "find_by_phone", _raising(limit))
        call_id, _, _ = await world.call("incoming", True)
        before = world.runtime.clock()
        with pytest.raises(DailyLimitReached):
            await world.sync(call_id)
        if wait == WAIT:
            after = world.runtime.clock()
            noted = (await world.integration())["limited_until"]
            assert noted is not None
            assert before + timedelta(seconds=WAIT) <= noted <= after + timedelta(seconds=WAIT)
        sync = await world.sync_row(call_id)
        assert sync is not None and sync["status"] == "waiting"
    row = await world.integration()
    assert row["limited_until"] == noted
    assert row["status"] == "active" and row["status_reason_code"] is None
