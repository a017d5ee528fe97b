"""RetryPolicy: which errors retry, reschedule or die, and how long the backoff is."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.errors import AuthFailed, Permanent, RateLimited, Transient
from callbridge.queue.retry import Dead, Decision, Reschedule, Retry, RetryPolicy

POLICY = RetryPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=10.0)


@pytest.mark.parametrize(
    ("error", "attempts", "rand", "expected"),
    [
        (Transient("timeout"), 1, 1.0, Retry(1.0)),
        (Transient("timeout"), 2, 1.0, Retry(2.0)),
        (Transient("timeout"), 3, 0.5, Retry(2.0)),
        (Transient("timeout"), 4, 1.0, Retry(8.0)),
        (Transient("timeout"), 4, 0.0, Retry(0.0)),
        (ValueError("bug"), 1, 1.0, Retry(1.0)),
        (Transient("timeout"), 5, 1.0, Dead("gave up after 5 attempts")),
        (ValueError("bug"), 6, 1.0, Dead("gave up after 6 attempts")),
        (RateLimited("slow down", 30.0), 1, 1.0, Reschedule(30.0)),
        (RateLimited("slow down", 30.0), 5, 1.0, Reschedule(30.0)),
        (RateLimited("slow down", -1.0), 1, 1.0, Reschedule(0.0)),
        (asyncio.CancelledError(), 5, 1.0, Reschedule(0.0)),
        (Permanent("bad field"), 1, 1.0, Dead("Permanent: bad field")),
        (AuthFailed("token revoked"), 1, 1.0, Dead("AuthFailed: token revoked")),
    ],
    ids=[
        "first-failure",
        "doubles",
        "full-jitter-half",
        "fourth-failure",
        "jitter-can-be-zero",
        "unexpected-error-retries",
        "exhausted",
        "exhausted-unexpected",
        "rate-limited",
        "rate-limited-ignores-attempts",
        "rate-limited-negative",
        "cancelled-by-shutdown",
        "permanent",
        "auth-failed",
    ],
)
def test_decide(error: BaseException, attempts: int, rand: float, expected: Decision) -> None:
    assert POLICY.decide(error, attempts, rand=lambda: rand) == expected


@pytest.mark.parametrize(
    ("attempts", "expected"), [(1, 1.0), (4, 8.0), (5, 10.0), (40, 10.0), (10_000, 10.0)]
)
def test_backoff_is_capped(attempts: int, expected: float) -> None:
    assert POLICY.backoff(attempts, rand=lambda: 1.0) == expected


def test_default_policy() -> None:
    assert RetryPolicy() == RetryPolicy(max_attempts=8, base_seconds=1.0, cap_seconds=600.0)


@given(attempts=st.integers(min_value=1, max_value=7), rand=st.floats(min_value=0, max_value=1))
def test_retry_delay_stays_within_the_jitter_window(attempts: int, rand: float) -> None:
    decision = RetryPolicy().decide(Transient("timeout"), attempts, rand=lambda: rand)
    assert isinstance(decision, Retry)
    assert 0.0 <= decision.delay_seconds <= min(600.0, 2.0 ** (attempts - 1))
