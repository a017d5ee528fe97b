"""The call history's filters, every combination, against a reference filter written in Python.

Hypothesis generates two companies' calls (numbers sharing prefixes, agents, syncs in several
integrations with statuses, creation times with ties) and a filter mixing any of number, agent,
integration, status, state, direction and a date range, with ids of the other company among the
choices. Paging through company A's history with small keyset pages, older then back newer, must
give exactly the calls the reference keeps, in the history's order, and never one of company B.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.storage.call_pages import SYNC_STATUSES, CallFilter, Cursor, page
from callbridge.storage.engine import create_engine
from callbridge.storage.tables import call_syncs, calls
from tests.storage.tenant_rows import store_tenant

START = datetime(2026, 3, 1, tzinfo=UTC)
NUMBERS = ["+33611111111", "+33611112222", "+33622222222", "+14155550000", None]
PREFIXES = ["+336111", "+3361", "+33622222222", "+1", "+9", "33", "+33611111111", "+"]
STATES = ["ringing", "answered", "ended", "missed"]
DIRECTIONS = ["incoming", "outgoing", None]
PAGE = 3


@dataclass(frozen=True)
class Made:
    """A generated call: which company (0: A, 1: B), its columns, and its syncs."""

    company: int
    from_number: str | None
    to_number: str | None
    agent: int | None  # index into the company's two agents
    minute: int
    state: str
    direction: str | None
    syncs: tuple[tuple[int, str], ...]  # (index into the company's two integrations, status)


MADE = st.builds(
    Made,
    company=st.integers(0, 1),
    from_number=st.sampled_from(NUMBERS),
    to_number=st.sampled_from(NUMBERS),
    agent=st.sampled_from([0, 1, None]),
    minute=st.integers(0, 6),  # few minutes: many calls share a creation time
    state=st.sampled_from(STATES),
    direction=st.sampled_from(DIRECTIONS),
    syncs=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from(SYNC_STATUSES)),
        max_size=2,
        unique_by=lambda sync: sync[0],
    ).map(tuple),
)


@dataclass(frozen=True)
class Wanted:
    """A generated filter, naming people and integrations by (company, index)."""

    number: str | None
    agent: tuple[int, int] | None
    integration: tuple[int, int] | None
    status: str | None
    state: str | None
    direction: str | None
    since: int | None
    until: int | None


WANTED = st.builds(
    Wanted,
    number=st.none() | st.sampled_from(PREFIXES),
    agent=st.none() | st.tuples(st.integers(0, 1), st.integers(0, 1)),
    integration=st.none() | st.tuples(st.integers(0, 1), st.integers(0, 1)),
    status=st.none() | st.sampled_from(SYNC_STATUSES),
    state=st.none() | st.sampled_from(STATES),
    direction=st.none() | st.sampled_from(["incoming", "outgoing"]),
    since=st.none() | st.integers(0, 7),
    until=st.none() | st.integers(0, 7),
)


@dataclass(frozen=True)
class World:
    """Two companies' ids: companies[c], agents[c][i], integrations[c][i]."""

    companies: list[str]
    agents: list[list[str]]
    integrations: list[list[str]]


def _id() -> str:
    return str(uuid.uuid4())


async def _world(engine: AsyncEngine) -> World:
    """Store two companies, each with a source, two agents and two integrations."""
    world = World(
        [_id(), _id()], [[_id(), _id()], [_id(), _id()]], [[_id(), _id()], [_id(), _id()]]
    )
    async with engine.begin() as conn:
        for c, company in enumerate(world.companies):
            await store_tenant(
                conn,
                company,
                source=company,
                agents=world.agents[c],
                integration_ids=world.integrations[c],
                at=START,
            )
    return world


async def _store(engine: AsyncEngine, world: World, made: list[Made]) -> list[dict[str, Any]]:
    """Store the generated calls and their syncs; return the calls as rows with their syncs."""
    rows: list[dict[str, Any]] = []
    syncs: list[dict[str, Any]] = []
    for n, call in enumerate(made):
        company = world.companies[call.company]
        row: dict[str, Any] = {
            "id": _id(),
            "company_id": company,
            "source_id": company,
            "provider_call_id": f"p{n}",
            "state": call.state,
            "direction": call.direction,
            "from_number": call.from_number,
            "to_number": call.to_number,
            "user_id": None if call.agent is None else world.agents[call.company][call.agent],
            "tags": [],
            "event_count": 1,
            "created_at": START + timedelta(minutes=call.minute),
            "updated_at": START,
        }
        rows.append(
            {**row, "syncs": [(world.integrations[call.company][i], s) for i, s in call.syncs]}
        )
        syncs += [
            {
                "company_id": company,
                "call_id": row["id"],
                "integration_id": world.integrations[call.company][i],
                "matched": [],
                "status": status,
                "attempts": 1,
                "updated_at": START,
            }
            for i, status in call.syncs
        ]
    async with engine.begin() as conn:
        if rows:
            await conn.execute(
                insert(calls), [{k: v for k, v in r.items() if k != "syncs"} for r in rows]
            )
        if syncs:
            await conn.execute(insert(call_syncs), syncs)
    return rows


def _filter(world: World, wanted: Wanted) -> CallFilter:
    return CallFilter(
        state=wanted.state,
        direction=wanted.direction,
        number=wanted.number,
        since=None if wanted.since is None else START + timedelta(minutes=wanted.since),
        until=None if wanted.until is None else START + timedelta(minutes=wanted.until),
        agent=None if wanted.agent is None else world.agents[wanted.agent[0]][wanted.agent[1]],
        integration=(
            None
            if wanted.integration is None
            else world.integrations[wanted.integration[0]][wanted.integration[1]]
        ),
        status=wanted.status,
    )


def _kept(row: dict[str, Any], company: str, f: CallFilter) -> bool:
    """The reference: does company's history keep this call under filter ``f``?"""
    numbers = [n for n in (row["from_number"], row["to_number"]) if n]
    synced = [
        status for integration, status in row["syncs"] if f.integration in (None, integration)
    ]
    return (
        row["company_id"] == company
        and f.state in (None, row["state"])
        and f.direction in (None, row["direction"])
        and f.agent in (None, row["user_id"])
        and (f.number is None or any(n.startswith(f.number) for n in numbers))
        and (f.since is None or row["created_at"] >= f.since)
        and (f.until is None or row["created_at"] < f.until)
        and (not (f.integration or f.status) or any(f.status in (None, s) for s in synced))
    )


async def _walk(
    engine: AsyncEngine, company: str, wanted: CallFilter
) -> tuple[list[str], list[str]]:
    """Page through the history older and older, then back newer from the oldest; return both."""
    older: list[dict[str, Any]] = []
    async with engine.connect() as conn:
        while True:
            cursor = Cursor.of(older[-1]) if older else None
            found = await conn.run_sync(page, company, wanted, PAGE, after=cursor)
            older += [c.call for c in found]
            if len(found) < PAGE:
                break
        newer = older[-1:]
        while newer:
            found = await conn.run_sync(page, company, wanted, PAGE, before=Cursor.of(newer[0]))
            newer = [c.call for c in found] + newer
            if len(found) < PAGE:
                break
    return [c["id"] for c in older], [c["id"] for c in newer]


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(migrated_url)
    yield made
    await made.dispose()


@settings(max_examples=30)
@given(made=st.lists(MADE, max_size=20), wanted=WANTED)
async def test_every_filter_combination_keeps_what_the_reference_keeps(
    engine: AsyncEngine, made: list[Made], wanted: Wanted
) -> None:
    world = await _world(engine)
    rows = await _store(engine, world, made)
    company = world.companies[0]
    full = _filter(world, wanted)
    one = {name: value for name, value in vars(full).items() if value is not None}
    # The filter drawn, its first field alone (pages fill up), and none (the whole history).
    for f in (full, CallFilter(**dict(list(one.items())[:1])), CallFilter()):
        expected = sorted(
            (r for r in rows if _kept(r, company, f)),
            key=lambda r: (r["created_at"], r["id"]),
            reverse=True,
        )
        older, newer = await _walk(engine, company, f)
        assert older == [r["id"] for r in expected], f
        assert newer == older, f
