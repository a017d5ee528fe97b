"""A worker's slots: never more holders than slots, and jobs coming back from a wait go first."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.queue.slot_pool import SlotPool, WorkerSlots


@dataclass(frozen=True)
class Asker:
    """One job asking for a slot: when, whether it comes back from a wait, how long it holds it."""

    start: int  # milliseconds
    back: bool
    hold: int  # milliseconds
    gives_up: bool  # cancelled early on: while it waits, or while it holds its slot


ASKERS = st.lists(
    st.builds(Asker, st.integers(0, 6), st.booleans(), st.integers(0, 4), st.booleans()),
    min_size=1,
    max_size=14,
)


@settings(max_examples=200)
@given(size=st.integers(1, 3), askers=ASKERS)
def test_never_more_holders_than_slots_and_no_slot_lost(size: int, askers: list[Asker]) -> None:
    async def scenario() -> None:
        pool = SlotPool(size)
        holders, most = 0, 0

        async def ask(asker: Asker) -> None:
            nonlocal holders, most
            await asyncio.sleep(asker.start / 1000)
            await pool.take(back=asker.back)
            holders += 1
            most = max(most, holders)
            try:
                await asyncio.sleep(asker.hold / 1000)
            finally:
                holders -= 1
                pool.give()

        tasks = [asyncio.create_task(ask(asker)) for asker in askers]
        await asyncio.sleep(0.002)
        for task, asker in zip(tasks, askers, strict=True):
            if asker.gives_up:
                task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)
        assert most <= size
        for _ in range(size):  # every slot is free again: none lost to a cancelled waiter
            await asyncio.wait_for(pool.take(), timeout=1)

    asyncio.run(scenario())


@settings(max_examples=200)
@given(
    size=st.integers(1, 3),
    waiters=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=12),
)
def test_jobs_coming_back_are_served_first_each_kind_in_turn(
    size: int, waiters: list[tuple[bool, bool]]
) -> None:
    """Every slot busy, jobs queue (coming back or new; some give up): freed slots go in order."""

    async def scenario() -> list[int]:
        pool = SlotPool(size)
        for _ in range(size):
            await pool.take()
        served: list[int] = []

        async def ask(index: int, back: bool) -> None:
            await pool.take(back=back)
            served.append(index)

        tasks = [asyncio.create_task(ask(i, back)) for i, (back, _) in enumerate(waiters)]
        await asyncio.sleep(0)  # every one of them queues
        for task, (_, gives_up) in zip(tasks, waiters, strict=True):
            if gives_up:
                task.cancel()
        await asyncio.sleep(0)
        for _ in waiters:  # free one slot at a time and let its taker run
            pool.give()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks, return_exceptions=True)
        return served

    served = asyncio.run(scenario())
    staying = [(i, back) for i, (back, gives_up) in enumerate(waiters) if not gives_up]
    expected = [i for i, back in staying if back] + [i for i, back in staying if not back]
    assert served == expected


def test_a_waiter_cancelled_after_it_was_handed_a_slot_gives_it_back() -> None:
    async def scenario() -> None:
        pool = SlotPool(1)
        await pool.take()
        late = asyncio.create_task(pool.take(back=True))
        await asyncio.sleep(0)
        pool.give()  # handed to ``late``, which has not run yet
        late.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await late
        await asyncio.wait_for(pool.take(), timeout=1)  # the slot came back to the pool

    asyncio.run(scenario())


@dataclass(frozen=True)
class Job:
    """One job of a worker: when it starts, its waits (lending its slot), when it is cancelled."""

    start: int  # milliseconds
    waits: tuple[int, ...]  # milliseconds each, inside ``park``
    cancelled_at: int | None  # milliseconds after the scenario starts, or never


JOBS = st.lists(
    st.builds(
        Job,
        st.integers(0, 5),
        st.lists(st.integers(0, 3), max_size=3).map(tuple),
        st.one_of(st.none(), st.integers(0, 8)),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200)
@given(size=st.integers(1, 3), jobs=JOBS)
def test_worker_slots_end_whole_whatever_is_cancelled(size: int, jobs: list[Job]) -> None:
    """Jobs lend their slot while they wait, some are cancelled anywhere: no slot made or lost.

    As both workers do: a job runs once ``acquire`` returns, and ``release`` ends it, however.
    """

    async def scenario() -> None:
        slots = WorkerSlots(size)
        computing, most = 0, 0

        async def body(job: Job) -> None:
            nonlocal computing, most
            computing += 1
            most = max(most, computing)
            try:
                for wait in job.waits:
                    computing -= 1
                    try:
                        async with slots.park():
                            await asyncio.sleep(wait / 1000)
                    finally:
                        computing += 1  # undone at once below when cancelled without a slot
                    most = max(most, computing)  # it has its slot back
                await asyncio.sleep(0.001)
            finally:
                computing -= 1

        async def start(job: Job) -> asyncio.Task[None]:
            await asyncio.sleep(job.start / 1000)
            await slots.acquire()
            task = asyncio.create_task(body(job))
            task.add_done_callback(lambda _: slots.release())
            return task

        starters = [asyncio.create_task(start(job)) for job in jobs]
        started = asyncio.get_running_loop().time()
        for job, starter in sorted(
            zip(jobs, starters, strict=True), key=lambda pair: pair[0].cancelled_at or 0
        ):
            if job.cancelled_at is None:
                continue
            await asyncio.sleep(
                max(0.0, started + job.cancelled_at / 1000 - asyncio.get_running_loop().time())
            )
            if starter.done() and not starter.cancelled():
                starter.result().cancel()
            else:
                starter.cancel()
        bodies = [s.result() for s in await _settled(starters) if s is not None]
        await asyncio.gather(*bodies, return_exceptions=True)
        await asyncio.sleep(0)  # the done callbacks run
        assert most <= size
        for _ in range(size):  # every slot is free again, none made by a cancelled job
            await asyncio.wait_for(slots.acquire(), timeout=1)
        extra = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0.005)
        assert not extra.done(), "a slot more than the worker's"
        extra.cancel()

    asyncio.run(scenario())


async def _settled(tasks: list[asyncio.Task[asyncio.Task[None]]]) -> list[asyncio.Task[Any] | None]:
    """Wait for the starters; return each one (None: cancelled before its job started)."""
    await asyncio.gather(*tasks, return_exceptions=True)
    return [t if not t.cancelled() and t.exception() is None else None for t in tasks]
