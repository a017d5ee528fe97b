"""The circuit breaker per integration, on SQLite and PostgreSQL, with a clock moved by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from callbridge.errors import CrmUnreachable, Permanent, RateLimited, Transient
from callbridge.queue.base import JobQueue
from callbridge.queue.breaker import Admission, Breaker, BreakerPolicy, states
from callbridge.queue.breaker_table import circuit_breakers
from callbridge.queue.jobs import sync_lock_prefix
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.integrations import create_integration

POLICY = BreakerPolicy(failures=3, open_seconds=10.0, max_open_seconds=40.0, probe_seconds=30.0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)


@dataclass
class Waker:
    """The real queue, noting which prefixes the breaker woke and how many jobs."""

    queue: JobQueue
    woken: list[tuple[str, int]] = field(default_factory=list)

    async def wake(self, lock_prefix: str) -> int:
        """Wake through the real queue and note it."""
        count = await self.queue.wake(lock_prefix)
        self.woken.append((lock_prefix, count))
        return count


@dataclass
class World:
    """Two companies, an integration each, a breaker and its clock."""

    runtime: Runtime
    clock: Clock
    waker: Waker
    breaker: Breaker
    ours: tuple[str, str]
    theirs: tuple[str, str]


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[World]:
    """A migrated database with two companies' integrations."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    ids = []
    for name in ("Acme", "Globex"):
        company = await create_company(runtime, name)
        async with runtime.sessions.begin() as session:
            integration = await sql.run(
                session, create_integration, company.company_id, runtime.clock(),
                connector="local", name="CRM",
                default_region="US", language="en", creation_policy="all", config={},
                status="active",
            )  # fmt: skip
        ids.append((company.company_id, integration))
    clock, waker = Clock(), Waker(runtime.queue)
    breaker = Breaker(runtime.engine, cast(JobQueue, waker), POLICY, clock)
    yield World(runtime, clock, waker, breaker, ids[0], ids[1])
    await runtime.close()


async def fail(world: World, admission: Admission, times: int = 1) -> None:
    """Note ``times`` transient failures of admitted syncs."""
    for _ in range(times):
        await world.breaker.failed(admission, Transient("HubSpot server error 502"))


async def shown(world: World, ids: tuple[str, str]) -> dict[str, Any] | None:
    """Return what the API would show of an integration's CRM (None: reachable)."""
    async with world.runtime.reads() as session:
        found = await sql.run(session, states, ids[0])
    return found.get(ids[1])


async def test_failures_open_it_a_probe_closes_it_and_wakes_the_waiting_syncs(
    world: World,
) -> None:
    first = await world.breaker.admit(*world.ours)
    assert (first.probe, first.clean) == (False, True)
    await fail(world, first, POLICY.failures - 1)
    assert await shown(world, world.ours) is None, "below the threshold: still reachable"
    await fail(world, first)
    view = await shown(world, world.ours)
    assert view is not None and view["state"] == "unreachable"
    assert view["message"].startswith("CRM unreachable since 2026-12-06T09:00:00")
    assert "502" in view["message"]

    with pytest.raises(CrmUnreachable, match="CRM unreachable since") as caught:
        await world.breaker.admit(*world.ours)
    assert POLICY.open_for(1, lambda: 0.0) <= caught.value.retry_after <= 11.0 + 5
    assert await shown(world, world.theirs) is None, "another company's integration runs"
    assert not (await world.breaker.admit(*world.theirs)).probe

    async with world.runtime.engine.begin() as conn:  # a sync of ours waits in the queue
        await world.runtime.queue.enqueue(
            conn, "sync", {}, lock_key=sync_lock_prefix(world.ours[1]) + "+14155550100",
            delay_seconds=3600,
        )  # fmt: skip
    world.clock.advance(12)  # past the first opening (10 s ± 10 %)
    probe = await world.breaker.admit(*world.ours)
    assert probe.probe
    with pytest.raises(CrmUnreachable):  # one probe at a time; the others wait for it
        await world.breaker.admit(*world.ours)
    await world.breaker.succeeded(probe)
    assert await shown(world, world.ours) is None
    assert world.waker.woken == [(sync_lock_prefix(world.ours[1]), 1)], "woken together"
    assert (await world.breaker.admit(*world.ours)).clean


async def test_a_failed_probe_opens_it_for_twice_as_long(world: World) -> None:
    admission = await world.breaker.admit(*world.ours)
    await fail(world, admission, POLICY.failures)
    waits = []
    for _ in range(4):
        with pytest.raises(CrmUnreachable) as caught:
            await world.breaker.admit(*world.ours)
        waits.append(caught.value.retry_after)
        world.clock.advance(caught.value.retry_after)
        probe = await world.breaker.admit(*world.ours)
        assert probe.probe
        await fail(world, probe)
    # 10, 20, 40, 40 s (the cap), each ±10 % and up to 5 s of spread.
    for wait, expected in zip(waits, (10, 20, 40, 40), strict=True):
        assert expected * 0.9 <= wait <= expected * 1.1 + 5
    view = await shown(world, world.ours)
    assert view is not None and view["since"] == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


async def test_an_answer_closes_it_but_a_limit_or_a_crash_gives_the_probe_back(
    world: World,
) -> None:
    admission = await world.breaker.admit(*world.ours)
    await fail(world, admission, POLICY.failures)
    world.clock.advance(12)
    with pytest.raises(RateLimited):
        async with world.breaker.guard(*world.ours) as probe:
            assert probe.probe
            raise RateLimited("our own search limit", 1.0)
    # The turn is given back: the next sync probes at once, not after probe_seconds.
    with pytest.raises(Permanent):
        async with world.breaker.guard(*world.ours) as probe:
            assert probe.probe
            raise Permanent("HubSpot answered 400")  # an answer: the CRM is reachable
    assert await shown(world, world.ours) is None


async def test_the_probe_of_a_dead_worker_is_taken_over(world: World) -> None:
    admission = await world.breaker.admit(*world.ours)
    await fail(world, admission, POLICY.failures)
    world.clock.advance(12)
    assert (await world.breaker.admit(*world.ours)).probe  # its worker then dies
    world.clock.advance(POLICY.probe_seconds - 1)
    with pytest.raises(CrmUnreachable):
        await world.breaker.admit(*world.ours)
    world.clock.advance(2)
    assert (await world.breaker.admit(*world.ours)).probe


OUTCOMES = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=30),  # seconds before the sync arrives
        st.sampled_from(["ok", "transient", "limited", "answered"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=10)
@given(outcomes=OUTCOMES)
async def test_it_follows_its_model_for_any_sequence_of_outcomes(
    world: World, outcomes: list[tuple[float, str]]
) -> None:
    """Syncs arrive one after the other with any outcome: the breaker acts as the model says."""
    async with world.runtime.engine.begin() as conn:
        await conn.execute(
            delete(circuit_breakers).where(
                circuit_breakers.c.company_id == world.ours[0],
                circuit_breakers.c.integration_id == world.ours[1],
            )
        )
    failures, open_until = 0, None
    for gap, outcome in outcomes:
        world.clock.advance(gap)
        now = world.clock.now
        try:
            admission = await world.breaker.admit(*world.ours)
        except CrmUnreachable:
            assert open_until is not None and now < open_until, "refused only while open"
            continue
        assert admission.probe == (open_until is not None), "an open breaker only lets a probe"
        if outcome == "transient":
            await fail(world, admission)
            failures += 1
            if admission.probe or failures >= POLICY.failures:
                view = await shown(world, world.ours)
                assert view is not None
                open_until = view["next_probe_at"]
        elif outcome == "limited":
            await world.breaker.released(admission)
            if admission.probe:
                open_until = now
        else:
            await world.breaker.succeeded(admission)
            failures, open_until = 0, None
            assert await shown(world, world.ours) is None
