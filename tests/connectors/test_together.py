"""``together``: a connector's requests at once; when one fails or the sync stops, none outlives it.

Generated: requests that answer, fail or never answer after a few steps, and a sync that may be
cancelled meanwhile (its watchdog, its worker's stop). Whatever happens, the failure (or the
cancellation) comes out as it was raised, and every request has ended when ``together`` returns.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.together import together


class Refused(Exception):
    """A request's own failure (any kind a connector raises)."""


@dataclass(frozen=True)
class Request:
    """A request that takes ``steps`` turns of the loop, then answers, fails or hangs."""

    steps: int
    outcome: str  # "answer", "fail" or "hang"


requests = st.lists(
    st.builds(Request, st.integers(0, 4), st.sampled_from(["answer", "fail", "hang"])),
    min_size=1,
    max_size=4,
)


async def _play(plan: list[Request], cancel_after: int | None) -> tuple[object, set[int]]:
    """Run ``plan`` together; return what came out and the requests still running after."""
    running: set[int] = set()

    async def request(index: int, spec: Request) -> int:
        running.add(index)
        try:
            for _ in range(spec.steps):
                await asyncio.sleep(0)
            if spec.outcome == "fail":
                raise Refused(index)
            if spec.outcome == "hang":
                await asyncio.Event().wait()
            return index
        finally:
            running.discard(index)

    async def lookup() -> list[int]:  # a sync's step: its requests start once it runs
        return await together(*(request(i, s) for i, s in enumerate(plan)))

    sync = asyncio.ensure_future(lookup())
    if cancel_after is not None:
        for _ in range(cancel_after):
            await asyncio.sleep(0)
        sync.cancel()
    try:
        outcome: object = await sync
    except (Refused, asyncio.CancelledError) as err:
        outcome = err
    return outcome, set(running)


@settings(max_examples=300)
@given(plan=requests, cancel_after=st.none() | st.integers(0, 6))
def test_nothing_outlives_the_call(plan: list[Request], cancel_after: int | None) -> None:
    ends = any(r.outcome == "fail" for r in plan) or all(r.outcome == "answer" for r in plan)
    if not ends and cancel_after is None:
        cancel_after = 6  # a request that never answers: the sync's watchdog stops it
    outcome, still_running = asyncio.run(_play(plan, cancel_after))
    assert still_running == set(), f"requests outlived the call: {still_running}"
    failing = {i for i, r in enumerate(plan) if r.outcome == "fail"}
    if isinstance(outcome, Refused):
        assert outcome.args[0] in failing, "a failure comes out as the request raised it"
    elif isinstance(outcome, asyncio.CancelledError):
        assert cancel_after is not None, "only a cancelled sync is cancelled"
    else:
        assert not failing, "a failure is never swallowed"
        assert outcome == list(range(len(plan))), "the answers, in the order asked"
