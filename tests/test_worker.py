"""Every job run is counted once, by outcome, and timed, whatever its handler does."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from callbridge.errors import AuthFailed, Permanent, RateLimited, Transient
from callbridge.queue.base import Payload
from callbridge.service.worker import measured

# What a handler may end with, and the outcome the metrics must count it as.
ENDINGS: dict[str, tuple[BaseException | None, str]] = {
    "returns": (None, "ok"),
    "rate limited": (RateLimited("429", 30.0), "rescheduled"),
    "transient": (Transient("timeout"), "error"),
    "permanent": (Permanent("400"), "error"),
    "auth": (AuthFailed("401"), "error"),
    "bug": (KeyError("company_id"), "error"),
}


def value(name: str, **labels: str) -> float:
    """Return a sample of this process's registry, 0 when absent."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@settings(max_examples=50)
@given(endings=st.lists(st.sampled_from(sorted(ENDINGS)), max_size=12))
def test_each_run_is_counted_once_by_outcome_and_timed(endings: list[str]) -> None:
    task = f"t-{uuid.uuid4().hex[:8]}"  # a task of its own: counters start at zero

    async def handler(payload: Payload) -> None:
        error = ENDINGS[payload["ending"]][0]
        if error is not None:
            raise error

    run = measured(task, handler)

    async def all_runs() -> None:
        for ending in endings:
            try:
                await run({"ending": ending})
            except Exception as err:  # the queue decides what a failure means
                assert err is ENDINGS[ending][0]

    asyncio.run(all_runs())
    for outcome in ("ok", "rescheduled", "error"):
        expected = sum(1 for ending in endings if ENDINGS[ending][1] == outcome)
        assert value("callbridge_jobs_total", task=task, outcome=outcome) == expected
    assert value("callbridge_job_seconds_count", task=task) == len(endings)
