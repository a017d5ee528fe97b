"""Each matrix action's executor against the local CRM, in-process, on SQLite and PostgreSQL.

A call is ingested and folded, its decision made as the sync makes it; then one executor is
run on one of its steps and the CRM (and the call's page, through the run's journal) checked.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.domain.capability import Capability
from callbridge.domain.deal import DealDraft
from callbridge.domain.record import ObjectType
from callbridge.domain.said import without_owner
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.rules.matrix import Action, ActionType
from callbridge.rules.plan import NEEDS, Step, contact_step
from callbridge.rules.policy import CreationPolicy
from callbridge.storage.agent_choices import Chosen
from callbridge.sync import inputs
from callbridge.sync.decide import decide
from callbridge.sync.executors import EXECUTORS, Run, Stage, deal_to_link, execute, open_deal
from callbridge.sync.executors.recording import WAITING
from tests.sync.sync_world import SyncWorld, sync_world

__all__ = ["sync_world"]
RECORDING = "https://rec.example.com/call.mp3"


def test_every_action_type_has_one_executor_and_needs_one_capability() -> None:
    assert set(EXECUTORS) == set(ActionType)
    assert set(NEEDS) == set(ActionType)
    assert all(isinstance(needed, Capability) for needed in NEEDS.values())
    record_stage = {kind for kind, executor in EXECUTORS.items() if executor.stage is Stage.RECORD}
    assert record_stage == {ActionType.CREATE_CONTACT, ActionType.CREATE_DEAL}


async def _no_choice() -> Chosen | None:
    return None


async def prepared(world: SyncWorld, call_id: str) -> Run:
    """Decide the call as its sync would, and return the run that carries the decision out."""
    loaded, number = await world.loaded(call_id)
    connector = await world.connector()
    found = await inputs.find(world.runtime, loaded, connector, number, _no_choice, refresh=False)
    decision = decide(loaded, number, found)
    targets = list(decision.targets.records)
    return Run(world.runtime, loaded.ctx, connector, number, decision, found.people, targets)


def step_of(run: Run, kind: ActionType) -> Step:
    """Return the run's planned step of one action type."""
    [step] = [s for s in run.decision.steps if s.action.type is kind]
    return step


def reported(run: Run, action: str) -> list[dict[str, Any]]:
    """Return what the run noted of an action for the call's page."""
    return [row for (name, _), row in run.ctx.journal.actions.items() if name == action]


@settings(max_examples=12)
@given(
    policy=st.sampled_from(CreationPolicy),
    direction=st.sampled_from(["incoming", "outgoing"]),
    answered=st.booleans(),
)
async def test_create_contact_makes_the_target_or_ends_without_one(
    sync_world: SyncWorld, policy: CreationPolicy, direction: str, answered: bool
) -> None:
    world = sync_world
    await world.settle(policy.value)
    call_id, number, _ = await world.call(direction, answered)
    run = await prepared(world, call_id)
    creation = run.decision.creation
    assert creation is not None and run.targets == []
    await execute(run, contact_step(creation))
    in_crm = await run.connector.find_by_phone(run.number)
    if creation.create:
        [noted] = reported(run, "create_contact")
        assert [r.id for r in in_crm] == [r.id for r in run.targets] == [noted["result_id"]]
        owned_by = run.decision.contact_owner
        owner = run.person(owned_by)
        assert [r.owner for r in in_crm] == [owner]
        unowned = owned_by is not None and owner is None
        why = without_owner(creation.reason, str(owned_by)) if unowned else creation.reason
        assert (noted["status"], noted["reason"]) == ("done", why)
    else:  # the sync ends here: what it noted is written at once
        assert in_crm == [] and run.targets == []
        [noted] = await world.actions(call_id)
        assert (noted["action"], noted["target"]) == ("create_contact", number)
        assert (noted["status"], noted["reason"]) == ("skipped", creation.reason)
        synced = await world.sync_row(call_id)
        assert synced is not None
        assert (synced["status"], synced["reason"]) == ("no_match", creation.reason)


async def test_create_deal_makes_one_deal_owned_as_the_matrix_says(sync_world: SyncWorld) -> None:
    world = sync_world
    await world.settle("all")
    call_id, _, _ = await world.call(
        "incoming", True, agent_email="ann@acme.test", utm={"source": "google"}
    )
    for attempt in range(2):  # a retry finds the contact it made, and the deal by its id
        run = await prepared(world, call_id)
        if attempt == 0:
            assert run.decision.creation is not None
            await execute(run, contact_step(run.decision.creation))
        else:
            assert run.decision.created is not None and run.decision.creation is None
            run.targets = [run.decision.created]
        await execute(run, step_of(run, ActionType.CREATE_DEAL))
        assert run.deal is not None
    [deal] = await world.rows("deals")
    assert run.deal is not None
    assert (deal["id"], deal["owner"], deal["record_id"]) == (
        run.deal.id,
        world.users["Ann"],
        run.record.id,
    )
    assert deal["utm"] == {"source": "google"}
    assert deal["external_id"] == f"callbridge:{call_id}:deal"
    [noted] = reported(run, "create_deal")
    assert (noted["status"], noted["result_id"]) == ("done", deal["id"])


async def test_a_skipped_step_writes_nothing_and_says_why(sync_world: SyncWorld) -> None:
    world = sync_world
    number = world.new_number()
    await world.record(number, owner=world.users["Bob"])
    call_id, _, _ = await world.call("incoming", False, number, agent_email="ann@acme.test")
    run = await prepared(world, call_id)
    followed = [kind for kind in ActionType if kind is not ActionType.CREATE_CONTACT]
    for index, kind in enumerate(followed):
        step = Step("test", index, Action(kind), skip="the CRM cannot do this")
        await execute(run, step)
        assert run.ctx.journal.actions[(kind, step.key)]["status"] == "skipped"
        assert run.ctx.journal.actions[(kind, step.key)]["reason"] == "the CRM cannot do this"
    assert run.deal is None
    assert [await world.rows(kind) for kind in ("deals", "tasks", "notes")] == [[], [], []]


async def _client_with_deal(world: SyncWorld, owner: str) -> tuple[str, str, str]:
    """Store a client owned by ``owner`` with an open deal; return number, record and deal."""
    number = world.new_number()
    record = await world.record(number, owner=owner)
    connector = await world.connector()
    deal = await connector.create_deal(
        DealDraft(f"seed:{record.id}", "Renewal", record.id, owner=owner)
    )
    return number, record.id, deal.id


async def test_open_deal_and_set_deal_owner(sync_world: SyncWorld) -> None:
    world = sync_world
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
    matrix["rules"].append(
        {
            "name": "existing clients' deals go to the TOP manager",
            "when": {"client": "existing"},
            "actions": [{"type": "set_deal_owner", "owner": "top_manager"}],
        }
    )
    await world.settle("all", matrix)
    number, record_id, deal_id = await _client_with_deal(world, world.users["Bob"])
    call_id, _, _ = await world.call("incoming", True, number, agent_email="ann@acme.test")
    run = await prepared(world, call_id)
    run.deal = await open_deal(run)
    assert run.deal is not None and run.deal.id == deal_id
    await execute(run, step_of(run, ActionType.SET_DEAL_OWNER))
    [deal] = await world.rows("deals")
    assert (deal["id"], deal["owner"], deal["record_id"]) == (
        deal_id,
        world.users["Tom"],
        record_id,
    )
    [noted] = reported(run, ActionType.SET_DEAL_OWNER)
    assert (noted["status"], noted["result_id"]) == ("done", deal_id)


async def test_attach_recording_waits_for_the_recording_and_links_the_deal(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    for recording in (None, RECORDING):
        number, _, deal_id = await _client_with_deal(world, world.users["Bob"])
        extra = {"recording_url": recording} if recording else {}
        call_id, _, _ = await world.call("outgoing", True, number, **extra)
        run = await prepared(world, call_id)
        assert deal_to_link(run) is None  # no deal yet
        run.deal = await open_deal(run)
        assert deal_to_link(run) == deal_id
        await execute(run, step_of(run, ActionType.ATTACH_RECORDING))
        [noted] = reported(run, ActionType.ATTACH_RECORDING)
        expected = ("done", None) if recording else ("waiting", WAITING)
        assert (noted["status"], noted["reason"]) == expected


async def test_create_task_for_the_responsible_manager_else_the_top_manager(
    sync_world: SyncWorld,
) -> None:
    world = sync_world
    number, record_id, deal_id = await _client_with_deal(world, world.users["Bob"])
    orphan = world.new_number()
    await world.record(orphan)  # nobody owns this client
    for phone, assignee, why in (
        (number, world.users["Bob"], None),
        (orphan, world.users["Tom"], "no responsible manager: TOP manager"),
    ):
        call_id, _, _ = await world.call("incoming", False, phone)
        run = await prepared(world, call_id)
        run.deal = await open_deal(run)
        await execute(run, step_of(run, ActionType.CREATE_TASK))
        task = (await world.rows("tasks"))[-1]
        assert (task["assignee"], task["record_id"]) == (assignee, run.record.id)
        assert task["deal_id"] == (deal_id if phone == number else None)
        assert task["due_at"] == run.moment + timedelta(hours=4)
        [noted] = reported(run, ActionType.CREATE_TASK)
        assert (noted["status"], noted["reason"], noted["result_id"]) == ("done", why, task["id"])
    assert record_id != run.record.id


async def test_note_who_answered_only_when_someone_else_answered(sync_world: SyncWorld) -> None:
    world = sync_world
    number, record_id, deal_id = await _client_with_deal(world, world.users["Bob"])
    for agent in ("bob@acme.test", "ann@acme.test"):
        call_id, _, _ = await world.call("incoming", True, number, agent_email=agent)
        run = await prepared(world, call_id)
        run.deal = await open_deal(run)
        await execute(run, step_of(run, ActionType.NOTE_WHO_ANSWERED))
        [noted] = reported(run, ActionType.NOTE_WHO_ANSWERED)
        if agent.startswith("bob"):
            assert (noted["status"], noted["reason"]) == (
                "skipped",
                "the responsible manager answered",
            )
    [note] = await world.rows("notes")
    assert (note["record_id"], note["deal_id"]) == (record_id, deal_id)
    assert note["body"].startswith("Answered by Ann") and note["body"].endswith("manager is Bob")
    assert noted["result_id"] == note["id"]
    assert run.record.object_type == ObjectType.CONTACT
