"""Issue 14's gaps, in-process on SQLite and PostgreSQL: whole syncs of calls into the local CRM.

A new client's contact is owned as its deal is; the "not answered by the responsible manager"
note names the manager; a call waits out the selection grace window only when there is a choice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from callbridge.domain.record import ObjectType
from callbridge.pipeline import process
from callbridge.queue import jobs
from callbridge.queue.base import NewJob
from callbridge.rules.agent_choice import Choice
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.storage import accounts, agent_choices, integrations, sql
from callbridge.storage.tables import users
from callbridge.storage.users import create_team, create_user
from callbridge.sync.executors.note import UNNAMED
from tests.sync.sync_world import SyncWorld, sync_world

__all__ = ["sync_world"]
EXAMPLES = settings(max_examples=8)


@EXAMPLES
@given(
    owner=st.sampled_from([None, "agent", "top_manager", "responsible"]),
    direction=st.sampled_from(["incoming", "outgoing"]),
    answered=st.booleans(),
    with_agent=st.booleans(),
)
async def test_a_new_clients_contact_is_owned_as_its_deal(
    sync_world: SyncWorld, owner: str | None, direction: str, answered: bool, with_agent: bool
) -> None:
    world = sync_world
    deal: dict[str, Any] = {"type": "create_deal"} | ({"owner": owner} if owner else {})
    rule = {"name": "new", "when": {"client": "new"}, "actions": [deal]}
    await world.settle("all", {**DEFAULT_MATRIX_JSON, "rules": [rule]})
    agent = {"agent_email": "ann@acme.test"} if with_agent else {}
    call_id, _, _ = await world.call(direction, answered, **agent)
    await world.sync(call_id)
    local = await world.connector()
    [contact] = await local.find_by_phone(await _number(world, call_id))
    [made] = [d for d in await world.rows("deals") if d["record_id"] == contact.id]
    expected = {
        "agent": world.users["Ann"] if with_agent else None,
        "top_manager": world.users["Tom"],
    }.get(owner or "")
    assert contact.owner == made["owner"] == expected


async def _number(world: SyncWorld, call_id: str) -> Any:
    _, number = await world.loaded(call_id)
    return number


async def test_the_default_matrix_gives_new_clients_to_the_agent_or_the_top_manager(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    await world.settle("all")
    for answered, agent, owner in ((True, "ann@acme.test", "Ann"), (False, None, "Tom")):
        call_id, _, _ = await world.call("incoming", answered, agent_email=agent)
        await world.sync(call_id)
        [contact] = await (await world.connector()).find_by_phone(await _number(world, call_id))
        [deal] = [d for d in await world.rows("deals") if d["record_id"] == contact.id]
        tasks = [t["assignee"] for t in await world.rows("tasks") if t["record_id"] == contact.id]
        assert contact.owner == deal["owner"] == world.users[owner]
        assert tasks == ([] if answered else [world.users["Tom"]])


async def test_the_note_names_the_responsible_manager_else_says_only_the_id_is_known(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    for owner, named in ((world.users["Bob"], "Bob"), ("crm-ghost", UNNAMED.format("crm-ghost"))):
        number = world.new_number()
        record = await world.record(number, owner=owner)
        call_id, _, _ = await world.call("incoming", True, number, agent_email="ann@acme.test")
        await world.sync(call_id)
        [note] = [n for n in await world.rows("notes") if n["record_id"] == record.id]
        assert note["body"].startswith("Answered by Ann")
        assert note["body"].endswith(f"; the responsible manager is {named}")


# The grace window: Cid's team may choose records, and the integration asks agents to.


async def _choosing_desk(world: SyncWorld, grace: int, option: bool = True) -> str:
    """Put Cid in a team allowed to choose, turn the option on; return Cid's user id."""
    company, integration = world.company.company_id, world.company.integration_id
    config = {"select_contact_manually": option, "selection_grace_seconds": grace}
    async with world.runtime.sessions.begin() as session:
        team = await sql.run(session, create_team, company, "Sales", ["is_multicrm_sync"])
        cid = await sql.run(
            session,
            create_user,
            company,
            name="Cid",
            email="cid@acme.test",
            role="agent",
            team_id=team,
        )
        await sql.run(
            session,
            integrations.update_integration,
            company,
            integration,
            world.runtime.clock(),
            config=config,
        )
    return cid


def _recorded(world: SyncWorld) -> list[NewJob]:
    """Record every job enqueued from now on (the queue still gets them)."""
    queue = world.runtime.queue
    seen: list[NewJob] = []
    enqueue: Callable[[Connection, NewJob], bool] = queue.enqueue_blocking

    def recording(conn: Connection, job: NewJob) -> bool:
        seen.append(job)
        return enqueue(conn, job)

    queue.enqueue_blocking = recording  # type: ignore[method-assign]
    return seen


async def _records(world: SyncWorld, number: str, kinds: list[ObjectType]) -> list[str]:
    local = await world.connector()
    made = [
        await local.client.create_record(kind, f"Jane {i}", [number])
        for i, kind in enumerate(kinds)
    ]
    return [record.id for record in made]


async def _logged_on(world: SyncWorld, record_ids: list[str]) -> list[int]:
    local = await world.connector()
    return [len(await local.client.list_activities(record_id)) for record_id in record_ids]


@EXAMPLES
@given(
    kinds=st.lists(st.sampled_from([ObjectType.CONTACT, ObjectType.LEAD]), max_size=3),
    grace=st.integers(min_value=1, max_value=3600),
)
async def test_a_call_waits_for_the_agent_only_when_there_is_a_choice(
    sync_world: SyncWorld, kinds: list[ObjectType], grace: int
) -> None:
    world = sync_world
    now = datetime.now(UTC)  # frozen: webhooks are signed with the real time
    world.runtime.clock = lambda: now
    await _choosing_desk_once(world, grace)
    number = world.new_number()
    ids = await _records(world, number, kinds)
    seen = _recorded(world)
    call_id, _, _ = await world.call("incoming", True, number, agent_email="cid@acme.test")
    [first] = [job for job in seen if job.task == jobs.SYNC]
    assert first.delay_seconds == 0  # the sync runs at once, whatever the window
    assert first.payload[jobs.CHOICE_UNTIL] == (now + timedelta(seconds=grace)).isoformat()
    await process(world.runtime.for_worker(), jobs.SYNC, first.payload)
    row = await world.sync_row(call_id)
    assert row is not None
    if len(kinds) < 2:  # nothing to choose between: synced now
        assert row["status"] in ("done", "no_match")
        assert [j for j in seen if j.task == jobs.SYNC] == [first]
        return
    assert (row["status"], row["attempts"], row["scenario"]) == ("waiting", 0, None)
    assert row["reason"] is not None and f"{len(kinds)} records match" in row["reason"]
    assert await _logged_on(world, ids) == [0] * len(kinds)
    [_, later] = [job for job in seen if job.task == jobs.SYNC]
    assert (later.payload, later.delay_seconds) == (first.payload, grace)
    world.runtime.clock = lambda: now + timedelta(seconds=grace)  # the window is over
    await process(world.runtime.for_worker(), jobs.SYNC, later.payload)
    row = await world.sync_row(call_id)
    assert row is not None and (row["status"], row["attempts"]) == ("done", 1)
    assert row["match_rule"] is not None and row["match_rule"].startswith("automatic")
    assert sum(await _logged_on(world, ids)) == 1


async def _choosing_desk_once(world: SyncWorld, grace: int) -> None:
    """Set the desk up once per world (Hypothesis reuses the world), with this grace."""
    async with world.runtime.reads() as session:
        known = await sql.run(session, accounts.list_rows, users, world.company.company_id)
    if not any(user["email"] == "cid@acme.test" for user in known):
        await _choosing_desk(world, grace)
        return
    config = {"select_contact_manually": True, "selection_grace_seconds": grace}
    ids = (world.company.company_id, world.company.integration_id)
    async with world.runtime.sessions.begin() as session:
        await sql.run(
            session, integrations.update_integration, *ids, world.runtime.clock(), config=config
        )


async def test_a_choice_in_the_window_is_applied_by_the_sync_that_waited(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    now = datetime.now(UTC)  # frozen: webhooks are signed with the real time
    world.runtime.clock = lambda: now
    cid = await _choosing_desk(world, 60)
    number = world.new_number()
    contact, lead = await _records(world, number, [ObjectType.CONTACT, ObjectType.LEAD])
    seen = _recorded(world)
    call_id, _, _ = await world.call("incoming", True, number, agent_email="cid@acme.test")
    await process(world.runtime.for_worker(), jobs.SYNC, seen[-1].payload)
    row = await world.sync_row(call_id)
    assert row is not None and row["status"] == "waiting"
    world.runtime.clock = lambda: now + timedelta(seconds=30)  # inside the window
    choice = Choice(world.company.integration_id, lead, ObjectType.LEAD, "Jane 1")
    async with world.runtime.sessions.begin() as session:
        await sql.run(
            session, agent_choices.replace_choices, world.company.company_id, call_id, (choice,),
            how="in-call", user_id=cid, now=world.runtime.clock(),
        )  # fmt: skip
    await process(world.runtime.for_worker(), jobs.SYNC, seen[-1].payload)
    row = await world.sync_row(call_id)
    assert row is not None and row["status"] == "done"
    assert row["match_rule"] == "in-call: chosen by Cid during or after the call"
    assert await _logged_on(world, [contact, lead]) == [0, 1]


async def test_without_the_option_a_call_never_waits(sync_world: SyncWorld) -> None:
    world = sync_world
    await _choosing_desk(world, 60, option=False)
    number = world.new_number()
    await _records(world, number, [ObjectType.CONTACT, ObjectType.CONTACT, ObjectType.LEAD])
    seen = _recorded(world)
    call_id, _, _ = await world.call("incoming", True, number, agent_email="cid@acme.test")
    [job] = [j for j in seen if j.task == jobs.SYNC]
    assert jobs.CHOICE_UNTIL not in job.payload
    await process(world.runtime.for_worker(), jobs.SYNC, job.payload)
    row = await world.sync_row(call_id)
    assert row is not None and row["status"] == "done"
