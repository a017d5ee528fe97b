"""The successor contract: a fold's sync run in the fold's slot keeps every rule of the queue.

Generated: calls of a few numbers, folds and syncs failing at chosen points, two workers. Both
queues write the sync running in the fold's transaction when its lock is free
(``queue.successor``); whatever the order, a number's syncs never run at once, each call's
sync succeeds exactly once, and nothing is left behind.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from callbridge.errors import Transient
from callbridge.queue.base import JobQueue, NewJob, Payload
from callbridge.storage import units
from tests.queue.contract import FAST, Calls, Harness, eventually, running, settled

# Each example's keys are its own: the examples share one database.
_EXAMPLES = itertools.count()
# A call: its number, whether its fold fails once after its unit, whether its sync fails once.
CALLS = st.lists(st.tuples(st.sampled_from("ab"), st.booleans(), st.booleans()), max_size=8)


@dataclass
class Seen:
    """What one example's handlers saw."""

    asked: set[int] = field(default_factory=set)  # calls whose fold committed its sync
    failed: set[str] = field(default_factory=set)  # "fold:i" / "sync:i" already failed once
    synced: Counter[int] = field(default_factory=Counter)  # successful syncs per call
    per_number: dict[str, Calls] = field(default_factory=dict)


def _asking(sync: NewJob) -> units.WithJobs[None, NewJob]:
    def work(conn: Connection) -> tuple[None, list[NewJob]]:
        return None, [sync]

    return work


class SuccessorContract:
    """What handing a sync to its fold's slot must keep, on every queue."""

    @settings(max_examples=8)
    @given(calls=CALLS)
    async def test_syncs_handed_to_their_folds_keep_the_queue_s_rules(
        self, harness: Harness, calls: list[tuple[str, bool, bool]]
    ) -> None:
        example, seen = next(_EXAMPLES), Seen()
        queues = [harness.make(FAST), harness.make(FAST)]

        async def fold(payload: Payload) -> None:
            call, number = int(payload["call"]), str(payload["number"])
            if call not in seen.asked:  # a fold run again finds nothing new to ask for
                job = NewJob(
                    "sync",
                    {"call": call, "number": number},
                    lock_key=f"sync:{example}:{number}",
                    queueing_lock=f"sync:{example}:{call}",
                )
                await units.write_with_jobs(harness.engine, queues[0], _asking(job))
                seen.asked.add(call)
            _fail_once(seen, f"fold:{call}", bool(payload["fail"]))

        async def sync(payload: Payload) -> None:
            call, number = int(payload["call"]), str(payload["number"])
            runs = seen.per_number.setdefault(number, Calls())
            runs.enter(payload)
            try:
                await asyncio.sleep(0.01)  # long enough for another run of the number to overlap
                _fail_once(seen, f"sync:{call}", calls[call][2])
            finally:
                runs.leave()
            seen.synced[call] += 1

        async with harness.engine.begin() as conn:
            for call, (number, fail_fold, _) in enumerate(calls):
                payload = {"call": call, "number": number, "fail": fail_fold}
                await queues[0].enqueue(conn, "fold", payload, lock_key=f"call:{example}:{call}")
        handlers = {"fold": fold, "sync": sync}
        async with running(queues[0], handlers), running(queues[1], handlers):
            await eventually(lambda: _done(queues[0], seen, len(calls)), "every call synced")
        assert seen.synced == Counter(range(len(calls)))
        assert all(runs.peak == 1 for runs in seen.per_number.values())


def _fail_once(seen: Seen, key: str, fail: bool) -> None:
    """Raise a retryable error the first time ``key`` runs, if asked to."""
    if fail and key not in seen.failed:
        seen.failed.add(key)
        raise Transient(f"{key} failed once")


async def _done(queue: JobQueue, seen: Seen, calls: int) -> bool:
    return len(seen.synced) == calls and await settled(queue)
