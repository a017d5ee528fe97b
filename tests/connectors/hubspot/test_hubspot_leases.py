"""Leases of a roomy limit: sized per second of the window, and safe across processes.

Every process keeps its own leases (``leases._LEASES``); the properties below give each
simulated process its own, so takes served from one process's lease interleave with the
database takes and leases of the others, as they do with several workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from callbridge.connectors.hubspot import leases
from callbridge.connectors.hubspot.limits import SLACK_SECONDS, Demand, RateBucket
from callbridge.connectors.hubspot.tables import hubspot_rate_buckets
from callbridge.errors import RateLimited
from callbridge.runtime import Runtime
from tests.connectors.hubspot.test_hubspot_limits import START, Clock, worst_window

# HubSpot's own limits at every tier (requests / 10 s, searches / s): never leased.
HUBSPOT_LIMITS = [("general", n, 10.0) for n in (100, 110, 190, 250)] + [("search", 5, 1.0)]


@pytest.mark.parametrize(("name", "budget", "window"), HUBSPOT_LIMITS)
def test_hubspot_real_limits_are_never_leased(name: str, budget: int, window: float) -> None:
    """Each take of them is its own transaction, exactly as without leases."""
    assert leases.size(Demand(name, budget, window, 1)) == 0


@settings(max_examples=200)
@given(
    budget=st.integers(min_value=1_000, max_value=10_000_000),
    window=st.sampled_from([0.5, 1.0, 10.0, 60.0]),
)
def test_one_process_leasing_back_to_back_holds_little_of_any_window(
    budget: int, window: float
) -> None:
    """A lease is a share of one second of the window, not of the window: at most 1/8 of it.

    Sized on the whole window (2 % of a 10-s budget), one process's leases filled 44 % of a
    window, and a second process found the half-used ceiling already reached.
    """
    demand = Demand("general", budget, window, 1)
    tokens = leases.size(demand)
    rows: list[tuple[datetime, int]] = []
    for index in range(int(3 * (window + SLACK_SECONDS) / leases.LEASE_SECONDS) + 1):
        lease = leases.grant(demand, START + timedelta(seconds=index * leases.LEASE_SECONDS))
        start = lease.until - timedelta(seconds=leases.LEASE_SECONDS)
        rows += [(start, 1 + tokens), (lease.until, 1 + tokens)]  # logged at its start and end
    assert worst_window(rows, window + SLACK_SECONDS) <= budget / 8


# (budget, window): leases of 40, 20 and 100 tokens.
LEASED_LIMITS = st.sampled_from([(2_000, 1.0), (10_000, 10.0), (50_000, 10.0)])
STEPS = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=0.6),  # windows since the previous take
        st.integers(min_value=0, max_value=3),  # the process taking
        # tokens: within a lease, or (below 0) the whole budget but that many, to fill a window
        st.one_of(st.integers(min_value=1, max_value=30), st.integers(min_value=-60, max_value=-1)),
        st.integers(min_value=0, max_value=2),  # of which given back
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40)
@given(limit_of=LEASED_LIMITS, steps=STEPS)
# A lease's draws late in it, then a take of nearly the whole budget once its start has left
# the window: the row logged at the lease's end is what keeps that window within the budget.
@example(limit_of=(2_000, 1.0), steps=[(0, 0, 1, 0), (0.9, 0, 30, 0), (0.35, 1, -10, 0)])
async def test_no_interleaving_of_processes_leases_grants_more_than_the_budget(
    integration_on: tuple[Runtime, str],
    monkeypatch: pytest.MonkeyPatch,
    limit_of: tuple[int, float],
    steps: list[tuple[float, int, int, int]],
) -> None:
    """Four processes, each with its own leases: every rolling window of what they were granted
    (a take served from a lease counted when it was served) fits the budget."""
    runtime, integration_id = integration_on
    budget, window = limit_of
    await _clear_log(runtime, integration_id)
    processes: list[dict[tuple[str, str, str], leases.Lease]] = [{} for _ in range(4)]
    clock = Clock()
    granted: list[tuple[datetime, int]] = []
    for gap, process, tokens, back in steps:
        clock.now += timedelta(seconds=gap * window)
        count = tokens if tokens > 0 else budget + tokens
        monkeypatch.setattr(leases, "_LEASES", processes[process])
        bucket = RateBucket(runtime.sessions, integration_id, clock)
        try:
            await bucket.take(Demand("general", budget, window, count))
        except RateLimited as refused:
            assert refused.retry_after > 0
            continue
        back = min(back, count)
        if back:
            await bucket.give_back(Demand("general", budget, window, back))
        granted.append((clock.now, count - back))
    assert worst_window(granted, window) <= budget


@settings(max_examples=25)
@given(limit_of=LEASED_LIMITS, counts=st.lists(st.integers(1, 5), min_size=2, max_size=30))
async def test_syncs_finding_the_lease_spent_at_once_renew_it_once(
    integration_on: tuple[Runtime, str],
    monkeypatch: pytest.MonkeyPatch,
    limit_of: tuple[int, float],
    counts: list[int],
) -> None:
    """Many syncs of one process take together with no live lease: one takes a lease from the
    database, the others are served from it; only a take the lease cannot hold goes on to it."""
    runtime, integration_id = integration_on
    budget, window = limit_of
    await _clear_log(runtime, integration_id)
    monkeypatch.setattr(leases, "_LEASES", {})
    clock, logged = Clock(), []
    original = RateBucket._take_logged

    async def counted(bucket: RateBucket, demands: Sequence[Demand]) -> None:
        key = bucket._lease_key(demands[0])
        lease = leases.current(key)
        # A database take only where this process's lease cannot serve the take.
        assert lease is None or not lease.serves(demands[0].count, clock())
        logged.append(demands[0].count)
        await original(bucket, demands)

    monkeypatch.setattr(RateBucket, "_take_logged", counted)
    demands = [Demand("general", budget, window, count) for count in counts]
    buckets = [RateBucket(runtime.sessions, integration_id, clock) for _ in counts]
    await asyncio.gather(*(b.take(d) for b, d in zip(buckets, demands, strict=True)))
    size = leases.size(demands[0])
    # Each lease serves at least ``size - 4`` more tokens before a take finds it short.
    assert len(logged) <= 1 + sum(counts) // (size - 4)


async def _clear_log(runtime: Runtime, integration_id: str) -> None:
    """Forget every take the integration's limits logged (each example starts afresh)."""
    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(hubspot_rate_buckets).where(
                hubspot_rate_buckets.c.integration_id == integration_id
            )
        )
