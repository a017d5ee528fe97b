"""The folded call handed to the sync run next in its fold's slot (``fold.handoff``)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from callbridge.fold import handoff, targets
from callbridge.ingest import ingest
from callbridge.pipeline import handlers
from callbridge.storage import accounts, call_history, sql, users
from callbridge.storage.tables import calls
from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence, signed
from tests.sync.sync_world import T0, SyncWorld, sync_world  # noqa: F401


async def test_the_sync_uses_the_handed_call_only_if_it_is_the_stored_one(
    sync_world: SyncWorld,  # noqa: F811
) -> None:
    """Folded from as many events: used as is; from fewer, or another call's: read again."""
    world = sync_world
    call_id, _, _ = await world.call("incoming", answered=True)
    loaded, _ = await world.loaded(call_id)
    stored = loaded.ctx.call
    marked = dataclasses.replace(stored, notes="handed")
    handoff.give(call_id, marked)
    assert (await world.loaded(call_id))[0].ctx.call is marked
    # Taken once: the next read (a retry) folds the events again.
    assert (await world.loaded(call_id))[0].ctx.call.notes == stored.notes
    fewer = dataclasses.replace(marked, event_ids=frozenset(list(stored.event_ids)[1:]))
    handoff.give(call_id, fewer)
    assert (await world.loaded(call_id))[0].ctx.call.notes == stored.notes
    handoff.give("another call", marked)
    assert (await world.loaded(call_id))[0].ctx.call.notes == stored.notes
    assert handoff.take("another call") is None  # what was handed is gone with the read


async def test_the_sync_reads_the_company_again_only_without_the_handed_call(
    sync_world: SyncWorld,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fold's company and extensions come with its call, and are used only with it."""
    world = sync_world
    call_id, _, _ = await world.call("incoming", answered=True)
    loaded, number = await world.loaded(call_id)
    async with world.runtime.reads() as session:
        company = await sql.run(session, accounts.get_company, world.company.company_id)
    assert company is not None
    reads: list[str] = []
    for module, name in ((accounts, "get_company"), (users, "extensions")):
        monkeypatch.setattr(module, name, _counting(reads, getattr(module, name)))
    stored = loaded.ctx.call
    handoff.give(call_id, stored, company, [])
    assert (await world.loaded(call_id))[1] == number
    assert reads == []
    fewer = dataclasses.replace(stored, event_ids=frozenset(list(stored.event_ids)[1:]))
    handoff.give(call_id, fewer, company, [])
    assert (await world.loaded(call_id))[1] == number
    assert reads == ["company", "extensions"]


def _counting(reads: list[str], read: Any) -> Any:
    """Return ``read`` noting its name in ``reads`` at each call."""

    def counted(*args: Any) -> Any:
        reads.append(read.__name__.replace("get_", ""))
        return read(*args)

    return counted


@settings(max_examples=10)
@given(handed=st.sampled_from(["mine", "other"]), asked=st.sampled_from(["mine", "other"]))
def test_a_handed_call_is_taken_once_and_only_by_its_call(handed: str, asked: str) -> None:
    """Whatever the order, the handed call goes to its own call's sync once, never elsewhere."""

    async def scenario() -> tuple[bool, bool]:
        call = object()
        handoff.give(handed, call)  # type: ignore[arg-type]
        taken = handoff.take(asked)
        first = taken is not None and taken.call is call
        return first, handoff.take(handed) is not None

    first, second = asyncio.run(scenario())
    assert first == (handed == asked)
    assert not second


async def test_a_worker_folds_a_final_call_once_for_its_fold_and_sync(
    sync_world: SyncWorld,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Either queue runs the sync in its fold's slot with the fold's call: one read."""
    world = sync_world
    runtime = world.runtime.for_worker()
    reads: list[str] = []
    load_events, get_company = call_history.load_events, accounts.get_company

    def counted(*args: Any) -> Any:
        reads.append(args[3])
        return load_events(*args)

    def company_read(*args: Any) -> Any:
        reads.append("company")
        return get_company(*args)

    monkeypatch.setattr(call_history, "load_events", counted)
    monkeypatch.setattr(accounts, "get_company", company_read)
    read_targets = targets.read

    def targets_read(*args: Any) -> Any:  # the fold reads its company with its integrations
        reads.append("company")
        return read_targets(*args)

    monkeypatch.setattr(targets, "read", targets_read)
    number = world.new_number()
    events = call_sequence("call-handed", "incoming", number, answered=True, start=T0)
    for event in events:
        body, headers = signed(world.company.source_secret, event)
        await ingest(world.runtime, world.company.source_id, headers, body)
    stop = asyncio.Event()
    work = runtime.queue.work(handlers(runtime), stop=stop, concurrency=1)
    worker = asyncio.create_task(work)
    try:
        await eventually(_synced(world), "the call's sync", within=30)
    finally:
        stop.set()
        await worker
    # The sync ran next in the fold's slot (``queue.successor``): it read neither again.
    assert reads == ["call-handed", "company"]


def _synced(world: SyncWorld) -> Any:
    async def done() -> bool:
        company = world.company.company_id
        async with world.runtime.reads() as session:
            found = await sql.run(session, _call, company)
        if found is None:
            return False
        row = await world.sync_row(found)
        return row is not None and row["status"] == "done"

    return done


def _call(db: Connection, company_id: str) -> str | None:
    query = select(calls.c.id).where(
        calls.c.company_id == company_id, calls.c.provider_call_id == "call-handed"
    )
    found = db.execute(query).scalar()
    return None if found is None else str(found)
