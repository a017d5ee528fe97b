"""Explain answers the decision the sync then carries out, before and after the call's sync.

Calls are generated over directions, outcomes, known records, agents (mapped, strangers, and
employees the sync maps by e-mail first), creation policies, create-contact overrides,
click-to-dial, dial intents made before the call and agents' choices; for each, the decision
explain computes (writing nothing) equals the one the sync job uses, on its first run and on a
later one (the first run's scenario, matrix version and records kept).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callbridge.api.explain import Explained, explain_call, explain_stored_call, explained, shown
from callbridge.domain.record import ObjectType
from callbridge.rules.agent_choice import Choice, How
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.storage import agent_choices, call_history, dial_intents, sql, user_links
from callbridge.storage.tables import dial_intents as intents_table
from callbridge.storage.users import create_user
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
    agent: str | None  # the agent's e-mail: a mapped employee, a stranger, a newcomer, or none
    policy: str
    mode: str  # the create-contact cell of every rule: follow the policy, or override it
    clicked: bool  # placed from the first known record's page
    chosen: bool  # an agent chose the last known record
    rechosen: bool  # after the first sync, an agent chose the first known record
    intent: bool  # before dialling, the agent chose the last known record (a dial intent)


#: An employee not mapped to a CRM user yet, whom the call's sync maps by e-mail (a new one each
#: example, with an address of its own).
NEWCOMER = "newcomer"
_newcomers = itertools.count()

cases = st.builds(
    Case,
    direction=st.sampled_from(["incoming", "outgoing"]),
    answered=st.booleans(),
    known=st.integers(0, 2),
    agent=st.sampled_from([None, "ann@acme.test", "zed@elsewhere.test", NEWCOMER]),
    policy=st.sampled_from(["all", "incoming", "outgoing", "missed", "answered", "none"]),
    mode=st.sampled_from(["follow", "always", "never"]),
    clicked=st.booleans(),
    chosen=st.booleans(),
    rechosen=st.booleans(),
    intent=st.booleans(),
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


async def _explained(world: SyncWorld, call_id: str) -> Explained:
    loaded, number = await world.loaded(call_id)
    async with world.runtime.reads() as session:
        row = await sql.run(session, call_history.get_call, world.company.company_id, call_id)
    assert row is not None
    return await explained(world.runtime, loaded, number, dict(row))


async def _agent(world: SyncWorld, agent: str | None) -> tuple[str | None, str | None]:
    """Return the agent's e-mail for the call's events and their user id (None: no employee)."""
    if agent == NEWCOMER:
        email = f"new{next(_newcomers)}@acme.test"
        async with world.runtime.sessions.begin() as session:
            user_id = await sql.run(
                session,
                create_user,
                world.company.company_id,
                name="New",
                email=email,
                role="agent",
            )
        return email, user_id
    return agent, world.users["Ann"] if agent == "ann@acme.test" else None


async def _intend(world: SyncWorld, user_id: str, number: str, record_id: str) -> str:
    """Store the agent's dial intent for ``number`` choosing ``record_id``, made at T0."""
    choice = Choice(world.company.integration_id, record_id, ObjectType.CONTACT, "Known Caller")
    intent = {
        "company_id": world.company.company_id,
        "user_id": user_id,
        "phone_e164": number,
        "how": How.PRE_CALL.value,
        "choices": agent_choices.choices_json((choice,)),
        "window_seconds": 600,
        "created_at": T0,
    }
    async with world.runtime.sessions.begin() as session:
        return await sql.run(session, dial_intents.create_intent, intent)


@settings(max_examples=20)
@given(case=cases)
async def test_explain_and_sync_make_one_decision(
    sync_world: SyncWorld, used: Decisions, case: Case
) -> None:
    world = sync_world
    await world.settle(case.policy, _matrix(case.mode))
    number = world.new_number()
    records = [await world.record(number) for _ in range(case.known)]
    email, user_id = await _agent(world, case.agent)
    extra: dict[str, Any] = {"agent_email": email} if email else {}
    if case.clicked and records:
        extra["crm_record_id"] = records[0].id
    intent = None
    if case.intent and records and user_id is not None:
        intent = await _intend(world, user_id, number, records[-1].id)
    call_id, _, events = await world.call(case.direction, case.answered, number, **extra)
    if case.chosen and records and not case.clicked:
        await _choose(world, call_id, records[-1].id)
    explaining = await _explained(world, call_id)
    before = explaining.decision
    _, e164 = await world.loaded(call_id)
    stored = await explain_stored_call(world.runtime, await world.integration(), call_id)
    assert stored == shown(explaining, e164)
    pending = intent is not None and not case.chosen and not case.clicked
    assert stored.selection is None or stored.selection.dial_intent == (intent if pending else None)
    newcomer = case.agent == NEWCOMER and user_id is not None
    assert stored.people is None or ({user_id} if newcomer else set()) == {
        link.user_id for link in stored.people.email_links
    }
    if not case.chosen:  # a call explained from its events has no history: the same decision
        hypothetical = await explain_call(world.runtime, await world.integration(), events)
        assert hypothetical == shown(explaining, e164)
    await world.sync(call_id)
    assert used[-1] == before
    await world.settle(case.policy, _matrix("never" if case.mode == "always" else "always"))
    if case.rechosen and records and not case.clicked:
        await _choose(world, call_id, records[0].id)
    after = (await _explained(world, call_id)).decision
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
        await sql.run(
            session,
            agent_choices.replace_choices,
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
        zoe = await sql.run(
            session,
            create_user,
            company_id,
            name="Zoe",
            email="zoe@acme.test",
            role="agent",
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
        intent_id = await sql.run(session, dial_intents.create_intent, intent)
    ann, _, _ = await world.call("outgoing", True, number, agent_email="ann@acme.test")
    theirs, _, _ = await world.call("incoming", True, number, agent_email="zoe@acme.test")
    integration = await world.integration()
    shown_ann = await explain_stored_call(world.runtime, integration, ann)
    shown_zoe = await explain_stored_call(world.runtime, integration, theirs)
    assert shown_ann is not None and shown_ann.selection is not None
    assert shown_ann.selection.dial_intent == intent_id  # what the sync will bind, not bound
    assert (shown_ann.selection.source, shown_ann.selection.records) == (
        Source.CHOICE,
        [record.id],
    )
    assert shown_zoe is not None and shown_zoe.people is not None
    assert [(link.user_id, link.crm_user_id) for link in shown_zoe.people.email_links] == [
        (zoe, zoe)  # the local CRM's users are Callbridge's own
    ]
    assert shown_zoe.people.agent_crm_user_id == zoe
    assert await _bound(world, intent_id) is None
    assert zoe not in await _links(world)
    for call_id in (ann, theirs):
        await world.sync(call_id)
    assert await _bound(world, intent_id) == ann
    assert zoe in await _links(world)


async def _bound(world: SyncWorld, intent_id: str) -> str | None:
    query = select(intents_table.c.call_id).where(
        intents_table.c.company_id == world.company.company_id, intents_table.c.id == intent_id
    )
    async with world.runtime.reads() as session:
        bound: str | None = (await session.execute(query)).scalar_one()
    return bound


async def _links(world: SyncWorld) -> dict[str, Any]:
    ids = (world.company.company_id, world.company.integration_id)
    async with world.runtime.reads() as session:
        return await sql.run(session, user_links.links, *ids)
