"""Decide what happens to a job whose handler raised: retry, reschedule or dead letter.

Pure: the error kind and the attempt count in, a decision out. Both queues ask the same policy::

    policy = RetryPolicy(max_attempts=8, base_seconds=1.0, cap_seconds=600.0)
    policy.decide(Transient("timeout"), attempts=3)      # Retry(delay_seconds=<0..4>)
    policy.decide(RateLimited("slow", 30.0), attempts=3)  # Reschedule(delay_seconds=30.0)
    policy.decide(Permanent("bad field"), attempts=1)     # Dead(reason="Permanent: bad field")
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from callbridge.errors import AuthFailed, Permanent, RateLimited

# 2**62 seconds is far beyond any cap; bounding the exponent keeps the float math finite.
_MAX_EXPONENT = 62


@dataclass(frozen=True)
class Retry:
    """Run the job again after ``delay_seconds``; the failed run counts as an attempt."""

    delay_seconds: float


@dataclass(frozen=True)
class Reschedule:
    """Run the job again after ``delay_seconds`` without spending an attempt."""

    delay_seconds: float


@dataclass(frozen=True)
class Dead:
    """Stop retrying: the job goes to the dead letters, visible and replayable."""

    reason: str


Decision = Retry | Reschedule | Dead


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by ``max_attempts`` counted runs."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    cap_seconds: float = 600.0

    def decide(
        self, error: BaseException, attempts: int, rand: Callable[[], float] = random.random
    ) -> Decision:
        """Decide the fate of a job whose run number ``attempts`` (counting from 1) raised."""
        if isinstance(error, RateLimited):
            return Reschedule(max(0.0, error.retry_after))
        if isinstance(error, asyncio.CancelledError):
            # The worker was shut down mid-run: not the job's fault, so no attempt is spent.
            return Reschedule(0.0)
        if isinstance(error, Permanent | AuthFailed):
            return Dead(f"{type(error).__name__}: {error}")
        if attempts >= self.max_attempts:
            return Dead(f"gave up after {attempts} attempts")
        return Retry(self.backoff(attempts, rand))

    def backoff(self, attempts: int, rand: Callable[[], float] = random.random) -> float:
        """Return a delay drawn uniformly from [0, min(cap, base * 2**(attempts - 1))]."""
        exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0**exponent)
        return rand() * ceiling


DEFAULT_POLICY = RetryPolicy()


def lost_runs_error(attempts: int) -> str:
    """Say why a job whose worker stopped during each of its runs is dead-lettered."""
    return (
        f"WorkerLost: the worker running this job stopped {attempts} times (killed, crashed or "
        "out of memory); the job may be what stops it. Read the worker's log before a replay."
    )
