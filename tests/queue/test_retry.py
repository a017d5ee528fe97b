"""RetryPolicy: which errors retry, reschedule or die, and how the backoff grows to the horizon."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.errors import AuthFailed, CrmUnreachable, Permanent, RateLimited, Transient
from callbridge.queue.retry import (
    DEFAULT_POLICY,
    Dead,
    Reschedule,
    Retry,
    RetryPolicy,
    starts_the_clock,
)
from callbridge.settings import Settings

POLICIES = st.builds(
    RetryPolicy,
    base_seconds=st.floats(min_value=0.01, max_value=60),
    cap_seconds=st.floats(min_value=1, max_value=7200),
    horizon_seconds=st.floats(min_value=1, max_value=7 * 86400),
)
UNIT = st.floats(min_value=0, max_value=1)
TRANSIENT = st.sampled_from([Transient("timeout"), Transient("HubSpot 502"), KeyError("bug")])


@settings(max_examples=500)
@given(policy=POLICIES, attempts=st.integers(1, 10_000), failing=UNIT, rand=UNIT)
def test_a_transient_failure_retries_within_the_cap_until_the_horizon(
    policy: RetryPolicy, attempts: int, failing: float, rand: float
) -> None:
    failing_for = failing * policy.horizon_seconds * 0.999
    decision = policy.decide(Transient("timeout"), attempts, failing_for, rand=lambda: rand)
    assert isinstance(decision, Retry), "before the horizon a transient failure is retried"
    assert 0 <= decision.delay_seconds <= policy.cap_seconds
    assert decision.delay_seconds <= policy.horizon_seconds - failing_for + 1e-9
    assert starts_the_clock(decision)


@settings(max_examples=300)
@given(policy=POLICIES, attempts=st.integers(1, 40), rand=UNIT, other=UNIT)
def test_delays_grow_with_each_failure_and_are_jittered(
    policy: RetryPolicy, attempts: int, rand: float, other: float
) -> None:
    """The n+1-th delay is never shorter than the n-th; the jitter spreads each over half."""
    now, later = policy.backoff(attempts, lambda: rand), policy.backoff(attempts + 1, lambda: other)
    ceiling = min(policy.cap_seconds, policy.base_seconds * 2.0 ** (attempts - 1))
    next_ceiling = min(policy.cap_seconds, policy.base_seconds * 2.0**attempts)
    assert ceiling / 2 <= now <= ceiling and next_ceiling / 2 <= later <= next_ceiling
    if next_ceiling < policy.cap_seconds:  # below the cap, the windows do not overlap
        assert later >= now
    assert policy.backoff(attempts, lambda: 0.0) < policy.backoff(attempts, lambda: 1.0)


@settings(max_examples=300)
@given(policy=POLICIES, attempts=st.integers(1, 10_000), past=UNIT, error=TRANSIENT)
def test_dead_only_past_the_horizon(
    policy: RetryPolicy, attempts: int, past: float, error: Exception
) -> None:
    failing_for = policy.horizon_seconds * (1 + past)
    decision = policy.decide(error, attempts, failing_for)
    assert isinstance(decision, Dead)
    assert "past the retry horizon" in decision.reason and str(error) in decision.reason


@settings(max_examples=300)
@given(
    policy=POLICIES,
    attempts=st.integers(1, 10_000),
    failing_for=st.floats(min_value=0, max_value=30 * 86400),
    wait=st.floats(min_value=-5, max_value=86400),
    kind=st.sampled_from(["rate", "unreachable", "permanent", "auth", "cancelled"]),
)
def test_each_kind_of_error_has_its_fate(
    policy: RetryPolicy, attempts: int, failing_for: float, wait: float, kind: str
) -> None:
    """Limits wait without an attempt; an open breaker waits until the horizon; refusals die."""
    errors: dict[str, BaseException] = {
        "rate": RateLimited("slow down", wait),
        "unreachable": CrmUnreachable("CRM unreachable since 09:00", wait),
        "permanent": Permanent("bad field"),
        "auth": AuthFailed("token revoked"),
        "cancelled": asyncio.CancelledError(),
    }
    decision = policy.decide(errors[kind], attempts, failing_for)
    past = failing_for >= policy.horizon_seconds
    if kind in ("permanent", "auth"):
        assert isinstance(decision, Dead) and str(errors[kind]) in decision.reason
    elif kind == "unreachable" and past:
        assert isinstance(decision, Dead) and "past the retry horizon" in decision.reason
    elif kind == "cancelled":
        assert decision == Reschedule(0.0)
    else:
        assert decision == Reschedule(max(0.0, wait), failing=kind == "unreachable")
        assert starts_the_clock(decision) == (kind == "unreachable")


def always(value: float) -> Callable[[], float]:
    """Return a random source that always draws ``value``."""
    return lambda: value


@settings(max_examples=200)
@given(policy=POLICIES, rands=st.lists(UNIT, min_size=1, max_size=400))
def test_a_job_failing_without_end_is_retried_until_the_horizon_then_buried(
    policy: RetryPolicy, rands: list[float]
) -> None:
    """Play a whole outage: retries go on until the horizon, the last comes at it, then Dead."""
    clock = 0.0
    for attempts, rand in enumerate(rands, start=1):
        decision = policy.decide(Transient("down"), attempts, clock, rand=always(rand))
        if isinstance(decision, Dead):
            assert clock >= policy.horizon_seconds
            return
        assert isinstance(decision, Retry)
        clock += decision.delay_seconds
        assert clock <= policy.horizon_seconds + 1e-6, "no retry is scheduled past the horizon"


def test_the_default_policy_outlasts_a_day_and_the_settings_shape_it() -> None:
    assert RetryPolicy(2.0, 1800.0, 86400.0, 8) == DEFAULT_POLICY
    assert RetryPolicy.from_settings(Settings()) == DEFAULT_POLICY
    shaped = Settings(retry_horizon_seconds=60, retry_base_seconds=0.1, retry_cap_seconds=5)
    assert RetryPolicy.from_settings(shaped) == RetryPolicy(0.1, 5.0, 60.0, 8)
    # An outage of an hour: still retried, and never more than half an hour apart.
    decision = DEFAULT_POLICY.decide(Transient("down"), 40, failing_for=3600)
    assert isinstance(decision, Retry) and 900 <= decision.delay_seconds <= 1800
