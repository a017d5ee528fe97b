"""Explain answers the decision the sync then carries out, before and after the call's sync.

Calls are generated over directions, outcomes, known records, agents, creation policies,
create-contact overrides, click-to-dial and agents' choices; for each, the decision explain
computes (writing nothing) equals the one the sync job uses, on its first run and on a later
one (the first run's scenario, matrix version and records kept).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callbridge.api.explain import explain_call, explain_stored_call, explained_decision, shown
from callbridge.domain.record import ObjectType
from callbridge.rules.agent_choice import Choice, How
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.storage import accounts, agent_choices, user_links
from callbridge.storage.tables import dial_intents
from callbridge.sync import run as sync_run
from callbridge.sync.decide import Decision, Source, decide
from tests.sync.sync_world import T0, SyncWorld, sync_world

__all__ = ["sync_world"]


@dataclass(frozen=True)
class Case:
    """One generated call and the company's settings when it is synced."""

    direction: str
    answered: bool
    known: int  # records already holding the number
    agent: str | None  # the agent's e-mail: a mapped employee, a stranger, or none
    policy: str
    mode: str  # the create-contact cell of every rule: follow the policy, or override it
    clicked: bool  # placed from the first known record's page
    chosen: bool  # an agent chose the last known record
    rechosen: bool  # after the first sync, an agent chose the first known record


cases = st.builds(
    Case,
    direction=st.sampled_from(["incoming", "outgoing"]),
    answered=st.booleans(),
    known=st.integers(0, 2),
    agent=st.sampled_from([None, "ann@acme.test", "zed@elsewhere.test"]),
    policy=st.sampled_from(["all", "incoming", "outgoing", "missed", "answered", "none"]),
    mode=st.sampled_from(["follow", "always", "never"]),
    clicked=st.booleans(),
    chosen=st.booleans(),
    rechosen=st.booleans(),
)


def _matrix(mode: str) -> dict[str, Any]:
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
    for rule in matrix["rules"]:
        for action in rule["actions"]:
            if action["type"] == "create_contact":
                action["mode"] = mode
    return matrix


class Decisions(list[Decision]):
    """The decisions the sync job made, in order (shown short in Hypothesis's reports)."""

    def __repr__(self) -> str:
        """Say how many there are."""
        return f"<{len(self)} decisions>"


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> Decisions:
    """Collect every decision the sync job makes."""
    decisions = Decisions()

    def spy(*args: Any) -> Decision:
        decision = decide(*args)
        decisions.append(decision)
        return decision

    monkeypatch.setattr(sync_run, "decide", spy)
    return decisions


async def _explained(world: SyncWorld, call_id: str) -> Decision:
    loaded, number = await world.loaded(call_id)
    return await explained_decision(world.runtime, loaded, number)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=cases)
async def test_explain_and_sync_make_one_decision(
    sync_world: SyncWorld, used: Decisions, case: Case
) -> None:
    world = sync_world
    await world.settle(case.policy, _matrix(case.mode))
    number = world.new_number()
    records = [await world.record(number) for _ in range(case.known)]
    extra: dict[str, Any] = {"agent_email": case.agent} if case.agent else {}
    if case.clicked and records:
        extra["crm_record_id"] = records[0].id
    call_id, _, events = await world.call(case.direction, case.answered, number, **extra)
    if case.chosen and records and not case.clicked:
        await _choose(world, call_id, records[-1].id)
    before = await _explained(world, call_id)
    stored = await explain_stored_call(world.runtime, await world.integration(), call_id)
    assert stored == shown(before, (await world.loaded(call_id))[1])
    if not case.chosen:  # a call explained from its events has no history: the same decision
        _, e164 = await world.loaded(call_id)
        hypothetical = await explain_call(world.runtime, await world.integration(), events)
        assert hypothetical == shown(before, e164)
    await world.sync(call_id)
    assert used[-1] == before
    await world.settle(case.policy, _matrix("never" if case.mode == "always" else "always"))
    if case.rechosen and records and not case.clicked:
        await _choose(world, call_id, records[0].id)
    after = await _explained(world, call_id)
    await world.sync(call_id)
    assert used[-1] == after
    assert (after.reused, after.scenario, after.matrix_version) == (
        True,
        before.scenario,
        before.matrix_version,
    )
    assert after.targets.source in {Source.KEPT, Source.CHOICE} or not after.targets.records
    if case.rechosen and records and not case.clicked:
        assert [r.id for r in after.targets.records] == [records[0].id]
        logged = {r.id for r in before.targets.records}
        assert set(after.targets.moves) == logged - {records[0].id}


async def _choose(world: SyncWorld, call_id: str, record_id: str) -> None:
    choice = Choice(world.company.integration_id, record_id, ObjectType.CONTACT, "Known Caller")
    async with world.runtime.sessions.begin() as session:
        await agent_choices.replace_choices(
            session,
            world.company.company_id,
            call_id,
            (choice,),
            how=How.IN_CALL.value,
            user_id=world.users["Ann"],
            now=world.runtime.clock(),
        )


async def test_explaining_a_stored_call_writes_nothing(sync_world: SyncWorld) -> None:
    world = sync_world
    company_id, integration_id = world.company.company_id, world.company.integration_id
    async with world.runtime.sessions.begin() as session:  # an employee not mapped yet
        zoe = await accounts.create_user(
            session, company_id, name="Zoe", email="zoe@acme.test", role="agent"
        )
    number = world.new_number()
    record = await world.record(number)
    intent = {
        "company_id": company_id,
        "user_id": world.users["Ann"],
        "phone_e164": number,
        "how": How.PRE_CALL.value,
        "choices": agent_choices.choices_json(
            (Choice(integration_id, record.id, ObjectType.CONTACT, record.name),)
        ),
        "window_seconds": 600,
        "created_at": T0,
    }
    async with world.runtime.sessions.begin() as session:
        intent_id = await agent_choices.create_intent(session, intent)
    ann, _, _ = await world.call("outgoing", True, number, agent_email="ann@acme.test")
    theirs, _, _ = await world.call("incoming", True, number, agent_email="zoe@acme.test")
    for call_id in (ann, theirs):
        await explain_stored_call(world.runtime, await world.integration(), call_id)
    assert await _bound(world, intent_id) is None
    assert zoe not in await _links(world)
    for call_id in (ann, theirs):
        await world.sync(call_id)
    assert await _bound(world, intent_id) == ann
    assert zoe in await _links(world)


async def _bound(world: SyncWorld, intent_id: str) -> str | None:
    query = select(dial_intents.c.call_id).where(
        dial_intents.c.company_id == world.company.company_id, dial_intents.c.id == intent_id
    )
    async with world.runtime.reads() as session:
        bound: str | None = (await session.execute(query)).scalar_one()
    return bound


async def _links(world: SyncWorld) -> dict[str, Any]:
    ids = (world.company.company_id, world.company.integration_id)
    async with world.runtime.reads() as session:
        return await session.run_sync(user_links.links, *ids)
