"""Decide what happens to a job whose handler raised: retry, reschedule or dead letter.

Pure: the error, the attempt count and how long the job has been failing in, a decision out.
Both queues ask the same policy::

    policy = RetryPolicy(base_seconds=2.0, cap_seconds=1800.0, horizon_seconds=86400.0)
    policy.decide(Transient("timeout"), attempts=3, failing_for=40.0)  # Retry(<4..8>)
    policy.decide(Transient("timeout"), attempts=90, failing_for=90000.0)  # Dead(past horizon)
    policy.decide(RateLimited("slow", 30.0), attempts=3)  # Reschedule(30.0)
    policy.decide(Permanent("bad field"), attempts=1)     # Dead("Permanent: bad field")

The horizon is measured from the job's *first failure* (the queue keeps when it was), not from
its creation: a job that waited in a backlog, or for a selection window, has not been failing,
and must still get the whole horizon to outlast an outage. Waiting for a rate limit neither
starts that clock nor spends an attempt; waiting for an open circuit breaker starts it (the CRM
is failing for this job too) without spending an attempt.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from callbridge.errors import AuthFailed, CrmUnreachable, Permanent, RateLimited
from callbridge.settings import Settings

# 2**62 seconds is far beyond any cap; bounding the exponent keeps the float math finite.
_MAX_EXPONENT = 62


@dataclass(frozen=True)
class Retry:
    """Run the job again after ``delay_seconds``; the failed run counts as an attempt."""

    delay_seconds: float


@dataclass(frozen=True)
class Reschedule:
    """Run the job again after ``delay_seconds`` without spending an attempt.

    ``failing``: the job could not run because its CRM is failing (starts the horizon clock).
    """

    delay_seconds: float
    failing: bool = False


@dataclass(frozen=True)
class Dead:
    """Stop retrying: the job goes to the dead letters, visible and replayable."""

    reason: str


Decision = Retry | Reschedule | Dead


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter until ``horizon_seconds`` after a job's first failure.

    The n-th retry waits a delay drawn from [c/2, c] with c = min(cap, base * 2**(n-1)): half
    is jitter (workers retrying together spread out), half is a floor, so delays grow with each
    failure until the cap. ``max_lost_runs``: a job whose worker died during that many of its
    runs is dead-lettered (it may be what kills the workers).
    """

    base_seconds: float = 2.0
    cap_seconds: float = 1800.0
    horizon_seconds: float = 86400.0
    max_lost_runs: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """Return the policy the process's settings ask for."""
        return cls(
            base_seconds=settings.retry_base_seconds,
            cap_seconds=settings.retry_cap_seconds,
            horizon_seconds=settings.retry_horizon_seconds,
        )

    def decide(
        self,
        error: BaseException,
        attempts: int,
        failing_for: float = 0.0,
        rand: Callable[[], float] = random.random,
    ) -> Decision:
        """Decide the fate of a job whose run number ``attempts`` (counting from 1) raised.

        ``failing_for``: seconds since the job's first failure (0 if this is the first).
        """
        if isinstance(error, Permanent | AuthFailed):
            return Dead(f"{type(error).__name__}: {error}")
        past = failing_for >= self.horizon_seconds
        if isinstance(error, CrmUnreachable):
            if past:
                return Dead(self._outlived(failing_for, error))
            return Reschedule(max(0.0, error.retry_after), failing=True)
        if isinstance(error, RateLimited):
            return Reschedule(max(0.0, error.retry_after))
        if isinstance(error, asyncio.CancelledError):
            # The worker was shut down mid-run: not the job's fault, so no attempt is spent.
            return Reschedule(0.0)
        if past:
            return Dead(self._outlived(failing_for, error))
        # The last retry comes at the horizon, not a whole backoff after it.
        left = self.horizon_seconds - failing_for
        return Retry(min(self.backoff(attempts, rand), left))

    def backoff(self, attempts: int, rand: Callable[[], float] = random.random) -> float:
        """Return a delay drawn uniformly from [c/2, c], c = min(cap, base * 2**(attempts-1))."""
        exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0**exponent)
        return ceiling / 2 + rand() * ceiling / 2

    def _outlived(self, failing_for: float, error: BaseException) -> str:
        return (
            f"gave up after failing for {failing_for:.1f} s, past the retry horizon of "
            f"{self.horizon_seconds:.1f} s (last error {type(error).__name__}: {error})"
        )


DEFAULT_POLICY = RetryPolicy()


def starts_the_clock(decision: Decision) -> bool:
    """Tell whether a job given ``decision`` has begun failing (its horizon is counted)."""
    return isinstance(decision, Retry) or (isinstance(decision, Reschedule) and decision.failing)


def lost_runs_error(lost_runs: int) -> str:
    """Say why a job whose worker stopped during each of its runs is dead-lettered."""
    return (
        f"WorkerLost: the worker running this job stopped {lost_runs} times (killed, crashed or "
        "out of memory); the job may be what stops it. Read the worker's log before a replay."
    )
