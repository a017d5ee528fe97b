"""A job's waits lend its one slot: once however many run at once, and always taken back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.queue import slots

# Each wait: when it starts and how long it lasts (milliseconds).
WAITS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=8)


class Slot:
    """A worker slot that counts how often it is lent at once and taken back."""

    def __init__(self) -> None:
        self.lent = 0
        self.most = 0
        self.lendings = 0
        self.back: asyncio.Event | None = None  # set: taking the slot back waits for it

    @contextlib.asynccontextmanager
    async def park(self) -> AsyncIterator[None]:
        """Lend the slot while the block runs."""
        self.lent += 1
        self.lendings += 1
        self.most = max(self.most, self.lent)
        try:
            await asyncio.sleep(0)  # lending may wait (for room among the parked jobs)
            yield
        finally:
            await (self.back.wait() if self.back else asyncio.sleep(0))  # so may taking it back
            self.lent -= 1


@settings(max_examples=300)
@given(waits=WAITS, rounds=st.integers(1, 3))
def test_waits_of_one_job_lend_its_slot_once_and_take_it_back(
    waits: list[tuple[int, int]], rounds: int
) -> None:
    slot = Slot()

    async def wait(start: int, length: int) -> None:
        await asyncio.sleep(start / 1000)
        async with slots.parked():
            assert slot.lent == 1  # the slot is lent while any wait of the job runs
            await asyncio.sleep(length / 1000)

    async def job() -> None:
        slots.bind(slot.park)
        for _ in range(rounds):
            await asyncio.gather(*(wait(start, length) for start, length in waits))
            assert slot.lent == 0  # taken back once the last wait ended

    asyncio.run(job())
    assert slot.most == 1 and 1 <= slot.lendings <= rounds * len(waits)


def test_a_task_that_is_no_job_lends_nothing() -> None:
    slot = Slot()

    async def flush() -> None:
        slots.unbind()
        async with slots.parked():
            assert slot.lent == 0

    async def job() -> None:
        slots.bind(slot.park)
        await asyncio.create_task(flush())  # copies the job's context, then unbinds its own
        async with slots.parked():
            assert slot.lent == 1

    asyncio.run(job())
    assert slot.lendings == 1


def test_a_wait_cancelled_while_lending_leaves_nothing_lent() -> None:
    slot = Slot()

    async def job() -> None:
        slots.bind(slot.park)
        waiting = asyncio.create_task(_enter_and_hang())
        await asyncio.sleep(0.01)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        async with slots.parked():  # the job lends again from nothing
            assert slot.lent == 1

    asyncio.run(job())
    assert slot.lent == 0


async def _enter_and_hang() -> None:
    async with slots.parked():
        await asyncio.Event().wait()


def test_a_wait_starting_while_the_slot_is_taken_back_waits_for_it() -> None:
    async def job() -> Slot:
        slot = Slot()
        slot.back = asyncio.Event()
        slots.bind(slot.park)

        async def wait() -> None:
            async with slots.parked():
                assert slot.lent == 1

        first = asyncio.create_task(wait())
        await asyncio.sleep(0.01)  # the first wait ended: its taking back is under way
        second = asyncio.create_task(wait())
        await asyncio.sleep(0.01)
        assert slot.most == 1  # the second did not lend the slot a second time meanwhile
        slot.back.set()
        await asyncio.gather(first, second)
        return slot

    slot = asyncio.run(job())
    assert slot.lent == 0 and slot.most == 1 and slot.lendings == 2
