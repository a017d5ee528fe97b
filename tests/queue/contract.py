"""The queue contract: what every JobQueue must do, run against real databases.

Subclass :class:`QueueContract` in a test module and provide a ``harness`` fixture that returns a
:class:`Harness` on a database with the queue's schema installed. Workers run with real
concurrency; the killed-worker test runs ``worker_process.py`` in a subprocess and SIGKILLs it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.errors import AuthFailed, CrmUnreachable, Permanent, RateLimited, Transient
from callbridge.queue.base import Handler, JobQueue, Payload
from callbridge.queue.retry import RetryPolicy
from callbridge.queue.slot_pool import PARKED_PER_SLOT
from callbridge.queue.slots import parked
from callbridge.testing import servers

WORKER_SCRIPT = Path(__file__).with_name("worker_process.py")
HORIZON = 0.5
# The queue's jobs take milliseconds: poll often and give up soon.
eventually = functools.partial(servers.eventually, within=10.0, every=0.02)
FAST = RetryPolicy(base_seconds=0.01, cap_seconds=0.05, horizon_seconds=HORIZON, max_lost_runs=3)


@dataclass
class Harness:
    """One queue implementation on one fresh database."""

    database_url: str
    engine: AsyncEngine
    make: Callable[[RetryPolicy], JobQueue]


@dataclass
class Calls:
    """What handlers saw: payloads in order, start times, and the peak of concurrent runs."""

    payloads: list[Payload] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    active: int = 0
    peak: int = 0

    def enter(self, payload: Payload) -> None:
        """Record the start of a run."""
        self.payloads.append(payload)
        self.started.append(time.monotonic())
        self.active += 1
        self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        """Record the end of a run."""
        self.active -= 1


def recording(calls: Calls, fail: Callable[[int], BaseException | None] | None = None) -> Handler:
    """Return a handler that records its runs and raises ``fail(run_number)`` when not None."""

    async def handler(payload: Payload) -> None:
        calls.enter(payload)
        try:
            error = fail(len(calls.payloads)) if fail else None
            if error is not None:
                raise error
        finally:
            calls.leave()

    return handler


async def enqueue(
    harness: Harness, queue: JobQueue, task: str, payload: Payload, **kw: Any
) -> bool:
    """Enqueue one job in a transaction of its own."""
    async with harness.engine.begin() as conn:
        return await queue.enqueue(conn, task, payload, **kw)


@asynccontextmanager
async def running(
    queue: JobQueue, handlers: Mapping[str, Handler], concurrency: int = 4
) -> AsyncIterator[None]:
    """Run a worker for the duration of the block, then stop it and surface its errors."""
    stop = asyncio.Event()
    worker = asyncio.create_task(queue.work(handlers, stop=stop, concurrency=concurrency))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=20)


async def settled(queue: JobQueue) -> bool:
    """Tell whether no job is waiting or running."""
    return await queue.pending_count() == 0


class QueueContract:
    """The tests every JobQueue implementation passes."""

    async def test_committed_enqueue_runs(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        assert await enqueue(harness, queue, "fold", {"event": 7}, lock_key="call:42")
        assert await queue.pending_count() == 1
        async with running(queue, {"fold": recording(calls)}):
            await eventually(lambda: settled(queue), "the job to run")
        assert calls.payloads == [{"event": 7}]
        assert await queue.dead_letters() == []

    async def test_rolled_back_enqueue_never_runs(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        async with harness.engine.connect() as conn:
            transaction = await conn.begin()
            assert await queue.enqueue(conn, "fold", {"n": "rolled back"})
            await transaction.rollback()
        await enqueue(harness, queue, "fold", {"n": "committed"})
        async with running(queue, {"fold": recording(calls)}, concurrency=1):
            await eventually(lambda: settled(queue), "the committed job to run")
            await asyncio.sleep(0.2)
        assert calls.payloads == [{"n": "committed"}]

    async def test_jobs_sharing_a_lock_key_never_overlap_and_run_in_order(
        self, harness: Harness
    ) -> None:
        queue, overall = harness.make(FAST), Calls()
        per_key = {"a": Calls(), "b": Calls()}

        async def step(payload: Payload) -> None:
            calls = per_key[payload["key"]]
            overall.enter(payload)
            calls.enter(payload)
            await asyncio.sleep(0.03)
            calls.leave()
            overall.leave()
            if (payload["key"], payload["n"]) == ("a", 1) and len(calls.payloads) == 2:
                raise Transient("once")  # its retry must still come before ("a", 2)

        async with harness.engine.begin() as conn:
            for n in range(6):
                for key in ("a", "b"):
                    await queue.enqueue(conn, "step", {"key": key, "n": n}, lock_key=key)
        async with running(queue, {"step": step}, concurrency=4):
            await eventually(lambda: settled(queue), "all the steps to run")
        runs = {key: [payload["n"] for payload in calls.payloads] for key, calls in per_key.items()}
        assert runs == {"a": [0, 1, 1, 2, 3, 4, 5], "b": [0, 1, 2, 3, 4, 5]}
        assert per_key["a"].peak == per_key["b"].peak == 1
        assert overall.peak == 2  # the two keys did run side by side

    async def test_jobs_with_different_keys_run_in_parallel(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()

        async def slow(payload: Payload) -> None:
            calls.enter(payload)
            await asyncio.sleep(0.4)
            calls.leave()

        async with harness.engine.begin() as conn:
            for n in range(4):
                await queue.enqueue(conn, "slow", {"n": n}, lock_key=f"key-{n}")
        async with running(queue, {"slow": slow}, concurrency=4):
            await eventually(lambda: settled(queue), "the slow jobs to run")
        assert calls.peak == 4

    async def test_a_parked_job_lends_its_slot_to_the_next_job(self, harness: Harness) -> None:
        """A job waiting inside ``parked()`` lets another job run, even with one slot."""
        queue, second_ran, order = harness.make(FAST), asyncio.Event(), []

        async def first(payload: Payload) -> None:
            order.append("first waits")
            async with parked():
                await asyncio.wait_for(second_ran.wait(), timeout=10)
            order.append("first done")

        async def second(payload: Payload) -> None:
            order.append("second")
            second_ran.set()

        await enqueue(harness, queue, "first", {})
        await enqueue(harness, queue, "second", {})
        async with running(queue, {"first": first, "second": second}, concurrency=1):
            await eventually(lambda: settled(queue), "both jobs to run")
        assert order == ["first waits", "second", "first done"]

    async def test_a_job_coming_back_from_its_wait_goes_before_a_new_job(
        self, harness: Harness
    ) -> None:
        """One slot: the job that lent it takes it back before the worker starts another job."""
        queue, order = harness.make(FAST), []
        wait_over, second_may_end, second_holds = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def first(payload: Payload) -> None:
            async with parked():
                await asyncio.wait_for(wait_over.wait(), timeout=10)
            order.append("first back")

        async def second(payload: Payload) -> None:
            second_holds.set()
            await asyncio.wait_for(second_may_end.wait(), timeout=10)  # holds the one slot
            order.append("second done")

        async def third(payload: Payload) -> None:
            order.append("third")

        for task in ("first", "second", "third"):
            await enqueue(harness, queue, task, {})
        handlers = {"first": first, "second": second, "third": third}
        async with running(queue, handlers, concurrency=1):
            await asyncio.wait_for(second_holds.wait(), timeout=10)
            wait_over.set()  # the first job now waits to take a slot back: the third must wait
            await asyncio.sleep(0.3)
            second_may_end.set()
            await eventually(lambda: settled(queue), "the three jobs to run")
        assert order == ["second done", "first back", "third"]

    async def test_jobs_lending_their_slots_stay_under_the_cap(self, harness: Harness) -> None:
        """Waiting jobs lend their slot, up to ``PARKED_PER_SLOT`` of them a slot and no more."""
        queue, calls, release = harness.make(FAST), Calls(), asyncio.Event()
        cap = 2 * (1 + PARKED_PER_SLOT)

        async def waits(payload: Payload) -> None:
            calls.enter(payload)
            try:
                async with parked():
                    await asyncio.wait_for(release.wait(), timeout=20)
            finally:
                calls.leave()

        async with harness.engine.begin() as conn:
            for n in range(cap + 10):
                await queue.enqueue(conn, "waits", {"n": n})
        async with running(queue, {"waits": waits}, concurrency=2):
            await eventually(lambda: calls.active == cap, "the cap's jobs to start")
            await asyncio.sleep(0.3)
            assert calls.active == cap  # the ten jobs left wait for a place
            release.set()
            await eventually(lambda: settled(queue), "every job to run")
        assert calls.peak == cap and len(calls.payloads) == cap + 10

    async def test_long_job_keeps_its_claim(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()

        async def long(payload: Payload) -> None:
            calls.enter(payload)
            await asyncio.sleep(1.6)  # longer than the test lease / stall threshold (1 s)
            calls.leave()

        await enqueue(harness, queue, "long", {"n": 1})
        async with running(queue, {"long": long}, concurrency=2):
            await eventually(lambda: settled(queue), "the long job to finish")
        assert calls.payloads == [{"n": 1}]

    async def test_queueing_lock_keeps_one_waiting_job(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        async with harness.engine.begin() as conn:
            assert await queue.enqueue(conn, "sync", {"n": 1}, queueing_lock="contact:1")
            assert not await queue.enqueue(conn, "sync", {"n": 2}, queueing_lock="contact:1")
            # The refused enqueue left the caller's transaction usable.
            assert await queue.enqueue(conn, "sync", {"n": 3}, queueing_lock="contact:2")
        assert not await enqueue(harness, queue, "sync", {"n": 4}, queueing_lock="contact:1")
        async with running(queue, {"sync": recording(calls)}):
            await eventually(lambda: settled(queue), "the deduplicated jobs to run")
        assert sorted(payload["n"] for payload in calls.payloads) == [1, 3]
        # Once the job is no longer waiting, the lock is free again.
        assert await enqueue(harness, queue, "sync", {"n": 5}, queueing_lock="contact:1")

    async def test_a_job_that_took_an_enqueues_place_waits_for_its_transaction(
        self, harness: Harness
    ) -> None:
        """A waiting job that absorbed an enqueue starts only once that enqueue commits.

        Otherwise it could run before the enqueuing transaction's rows exist (a fold reading its
        call's events) and nothing else would be queued for them.
        """
        queue, committed, seen = harness.make(FAST), asyncio.Event(), []

        async def handler(payload: Payload) -> None:
            seen.append(committed.is_set())

        args: dict[str, Any] = {"queueing_lock": "fold:1", "lock_key": "call:1"}
        assert await enqueue(harness, queue, "fold", {"n": 1}, **args)
        async with harness.engine.connect() as conn:
            transaction = await conn.begin()
            assert not await queue.enqueue(conn, "fold", {"n": 2}, **args)
            async with running(queue, {"fold": handler}):
                await asyncio.sleep(0.7)
                assert seen == [], "the waiting job ran before the enqueue committed"
                committed.set()
                await transaction.commit()
                await eventually(lambda: settled(queue), "the waiting job to run")
        assert seen == [True]

    async def test_a_failing_job_retries_while_a_job_with_its_queueing_lock_waits(
        self, harness: Harness
    ) -> None:
        queue, calls = harness.make(FAST), Calls()
        started, release = asyncio.Event(), asyncio.Event()

        async def handler(payload: Payload) -> None:
            calls.enter(payload)
            try:
                if len(calls.payloads) == 1:
                    started.set()
                    await release.wait()
                    raise Transient("first run fails after a new job started waiting")
            finally:
                calls.leave()

        args: dict[str, Any] = {"queueing_lock": "fold:1", "lock_key": "call:1"}
        await enqueue(harness, queue, "fold", {"n": 1}, **args)
        async with running(queue, {"fold": handler}):
            await asyncio.wait_for(started.wait(), 10)
            # The running job no longer holds the queueing lock: a new one may wait.
            assert await enqueue(harness, queue, "fold", {"n": 2}, **args)
            release.set()
            await eventually(lambda: settled(queue), "the retry and the waiting job to run")
        assert sorted(payload["n"] for payload in calls.payloads) == [1, 1, 2]
        assert await queue.dead_letters() == []

    async def test_delayed_job_waits_its_delay(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        enqueued = time.monotonic()
        await enqueue(harness, queue, "later", {"n": "later"}, delay_seconds=0.6)
        await enqueue(harness, queue, "later", {"n": "now"})
        async with running(queue, {"later": recording(calls)}):
            await eventually(lambda: settled(queue), "the delayed job to run")
        assert [payload["n"] for payload in calls.payloads] == ["now", "later"]
        assert calls.started[1] - enqueued >= 0.55

    async def test_transient_error_is_retried_until_success(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        handler = recording(calls, lambda run: Transient("timeout") if run < 3 else None)
        await enqueue(harness, queue, "push", {"n": 1})
        async with running(queue, {"push": handler}):
            await eventually(lambda: settled(queue), "the retried job to succeed")
        assert len(calls.payloads) == 3
        assert await queue.dead_letters() == []

    async def test_unexpected_error_is_retried(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        handler = recording(calls, lambda run: KeyError("bug") if run == 1 else None)
        await enqueue(harness, queue, "push", {"n": 1})
        async with running(queue, {"push": handler}):
            await eventually(lambda: settled(queue), "the retried job to succeed")
        assert len(calls.payloads) == 2
        assert await queue.dead_letters() == []

    async def test_a_job_failing_past_the_horizon_lands_in_dead_letters(
        self, harness: Harness
    ) -> None:
        queue, calls = harness.make(FAST), Calls()
        await enqueue(harness, queue, "push", {"call": 42}, lock_key="k")
        async with running(queue, {"push": recording(calls, lambda run: Transient("crm down"))}):
            await eventually(queue.dead_letters, "the job to die")
        [dead] = await queue.dead_letters()
        assert (dead.task, dead.payload) == ("push", {"call": 42})
        assert dead.attempts == len(calls.payloads) >= 3, "retried again and again meanwhile"
        assert "past the retry horizon" in dead.error and "crm down" in dead.error
        assert dead.failed_at is not None
        # Retried until the horizon after the first failure, and buried on the first run past it.
        assert HORIZON <= calls.started[-1] - calls.started[0] <= HORIZON + 1.5
        assert await queue.pending_count() == 0

    async def test_permanent_and_auth_errors_are_dead_at_once(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        errors = {"bad": Permanent("bad field"), "auth": AuthFailed("token revoked")}
        handler = recording(calls, lambda run: errors[calls.payloads[-1]["kind"]])
        await enqueue(harness, queue, "push", {"kind": "bad"})
        await enqueue(harness, queue, "push", {"kind": "auth"})
        async with running(queue, {"push": handler}, concurrency=1):
            await eventually(lambda: settled(queue), "both jobs to die")
        dead = await queue.dead_letters()
        assert [job.payload["kind"] for job in dead] == ["auth", "bad"]  # newest first
        assert [job.attempts for job in dead] == [1, 1]
        assert "token revoked" in dead[0].error and "bad field" in dead[1].error
        assert len(calls.payloads) == 2

    async def test_job_without_handler_is_dead(self, harness: Harness) -> None:
        queue = harness.make(FAST)
        await enqueue(harness, queue, "unknown", {"n": 1})
        async with running(queue, {}):
            await eventually(queue.dead_letters, "the job to die")
        [dead] = await queue.dead_letters()
        assert dead.task == "unknown" and "unknown" in dead.error

    async def test_rate_limited_is_rescheduled_without_spending_attempts(
        self, harness: Harness
    ) -> None:
        policy = RetryPolicy(base_seconds=0.01, horizon_seconds=0.5)
        queue, calls = harness.make(policy), Calls()
        errors: list[BaseException] = [RateLimited("slow down", 0.3)] * 3 + [Transient("blip")]
        handler = recording(calls, lambda run: errors[run - 1] if run <= len(errors) else None)
        await enqueue(harness, queue, "push", {"n": 1})
        async with running(queue, {"push": handler}):
            await eventually(lambda: settled(queue), "the rate-limited job to succeed")
        # 0.9 s of rate limits is longer than the 0.5 s horizon, but waiting is not failing:
        # the transient error after them starts the clock, so the job is retried, not buried.
        assert len(calls.payloads) == 5
        gaps = [later - earlier for earlier, later in itertools.pairwise(calls.started[:4])]
        assert all(gap >= 0.25 for gap in gaps), gaps
        assert await queue.dead_letters() == []

    async def test_a_breaker_wait_spends_no_attempt_and_ends_at_the_horizon(
        self, harness: Harness
    ) -> None:
        """Waiting for an unreachable CRM is failing: it counts toward the horizon, not attempts."""
        queue, calls = harness.make(FAST), Calls()
        unreachable = CrmUnreachable("CRM unreachable since 09:00", 0.05)
        await enqueue(harness, queue, "push", {"n": 1})
        async with running(queue, {"push": recording(calls, lambda run: unreachable)}):
            await eventually(queue.dead_letters, "the job to die at the horizon")
        [dead] = await queue.dead_letters()
        assert "past the retry horizon" in dead.error and "CRM unreachable" in dead.error
        assert len(calls.payloads) >= 3 and dead.attempts <= 1
        assert calls.started[-1] - calls.started[0] >= HORIZON

    async def test_wake_makes_the_waiting_jobs_of_a_prefix_due(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        for key in ("sync:a_1:+331", "sync:a_1:+332", "sync:a%1:+331", "sync:b:+331"):
            await enqueue(harness, queue, "push", {"key": key}, lock_key=key, delay_seconds=60)
        assert await queue.wake("sync:a_1:") == 2  # "_" and "%" are not wildcards
        async with running(queue, {"push": recording(calls)}):
            await eventually(lambda: len(calls.payloads) == 2, "the woken jobs to run")
            await asyncio.sleep(0.3)
        assert sorted(p["key"] for p in calls.payloads) == ["sync:a_1:+331", "sync:a_1:+332"]
        assert await queue.pending_count() == 2, "the others still wait"
        assert await queue.wake("sync:a_1:") == 0

    async def test_replay_runs_a_dead_job_again(self, harness: Harness) -> None:
        queue, calls = harness.make(FAST), Calls()
        handler = recording(calls, lambda run: Permanent("bad field") if run == 1 else None)
        await enqueue(harness, queue, "push", {"n": 1}, queueing_lock="q")
        async with running(queue, {"push": handler}):
            await eventually(queue.dead_letters, "the job to die")
            [dead] = await queue.dead_letters()
            assert await queue.replay(dead.id)
            await eventually(lambda: len(calls.payloads) == 2, "the replayed job to run")
            await eventually(lambda: settled(queue), "the replayed job to finish")
        assert calls.payloads == [{"n": 1}, {"n": 1}]
        assert await queue.dead_letters() == []
        assert not await queue.replay(dead.id)
        assert not await queue.replay("987654")
        assert not await queue.replay("not-an-id")

    async def test_job_of_a_killed_worker_runs_again_once(
        self, harness: Harness, tmp_path: Path
    ) -> None:
        queue, calls = harness.make(FAST), Calls()
        marker = tmp_path / "started"
        await enqueue(harness, queue, "block", {"n": "first"}, lock_key="k")
        await enqueue(harness, queue, "block", {"n": "second"}, lock_key="k")
        worker = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER_SCRIPT), harness.database_url, str(marker)
        )
        try:
            await eventually(marker.exists, "the subprocess to start the job", within=30)
        finally:
            worker.kill()  # SIGKILL: no cleanup, the job stays claimed
            await worker.wait()
        async with running(queue, {"block": recording(calls)}):
            await eventually(lambda: settled(queue), "the abandoned job to run again")
            await asyncio.sleep(0.3)
        assert [payload["n"] for payload in calls.payloads] == ["first", "second"]
        assert marker.read_text().count("started") == 1
        assert await queue.dead_letters() == []

    async def test_a_job_whose_workers_keep_dying_is_dead_lettered(
        self, harness: Harness, tmp_path: Path
    ) -> None:
        """A job that kills every worker running it (a crash, memory) must not run forever."""
        queue, calls = harness.make(RetryPolicy(base_seconds=0.01, max_lost_runs=2)), Calls()
        marker = tmp_path / "started"
        await enqueue(harness, queue, "block", {"n": "poison"}, lock_key="k")
        for runs in (1, 2):
            worker = await asyncio.create_subprocess_exec(
                sys.executable, str(WORKER_SCRIPT), harness.database_url, str(marker)
            )
            try:

                def started(runs: int = runs) -> bool:
                    return marker.exists() and marker.read_text().count("started") == runs

                await eventually(started, f"a worker to start run {runs}", within=30)
            finally:
                worker.kill()  # SIGKILL, as the OOM killer would
                await worker.wait()
        async with running(queue, {"block": recording(calls)}):
            await eventually(lambda: settled(queue), "the poison job to be buried")
            [dead] = await queue.dead_letters()
        assert calls.payloads == []
        assert (dead.payload, dead.attempts) == ({"n": "poison"}, 2)
        assert dead.error.startswith("WorkerLost: the worker running this job stopped 2 times")
