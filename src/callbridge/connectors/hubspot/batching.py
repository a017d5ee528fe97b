"""Coalescing under load: the syncs waiting for HubSpot share one request per batch.

While other syncs of one integration are inside a lookup or a create in this process (it is
crowded), their searches and creates go through a :class:`Batcher` per kind of request: the
first item starts a flush at once; the items submitted while the flushes under way wait for
their tokens or for HubSpot's answer go out together in the next one. Nothing waits for a
batching window, so a lone call is not delayed; a lone sync (nothing else inside, nothing
pending) sends its single requests.

A batch costs a fraction of the CPU of its requests sent one by one (one HTTP exchange, one
take from the budget), so a crowd coalesces whether or not the budget is the bottleneck. At
HubSpot's low-tier limits (100 requests / 10 s, 5 searches / s) the budget is under pressure (a
take was refused, or the last take left it more than half used): one flush of a kind at a time,
so the batches are as large as they can be. With a roomy budget, ``ROOMY_LANES`` flushes of a
kind may be under way at once, so an item waits less for a flush to come back.

A flush takes its request's tokens for itself and, refused, waits for them (at most
``PARK_SECONDS``; a longer wait fails the batch's items with ``RateLimited`` and their syncs
are rescheduled). Each item's outcome is its own: a result, or the error that item's single
request would have met.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from callbridge.connectors.hubspot import pressure
from callbridge.connectors.hubspot.client import HubSpotClient
from callbridge.connectors.hubspot.limits import Demand
from callbridge.errors import RateLimited
from callbridge.queue import slots
from callbridge.queue.slots import parked

T = TypeVar("T")
R = TypeVar("R")
# A flush refused by the budget waits this long at most for its tokens; longer, it gives up.
PARK_SECONDS = 15.0
# Coalesced searches leave this many searches a second unused: each holds many numbers, so the
# rate costs a backlog little, and the spare absorbs the lag between a take and its request
# reaching HubSpot when the process is short of CPU (HubSpot counts a rolling second at arrival:
# with the whole budget used, a benchmark at load 4 saw a rare 429 SECONDLY).
SEARCH_HEADROOM = 1
# With a roomy budget, this many flushes of one kind may be under way at once: an item then
# waits less for a flush to come back, and the batches are still large under load.
ROOMY_LANES = 2

Send = Callable[[HubSpotClient, list[T]], Awaitable[tuple[int, Sequence[R | BaseException]]]]


@dataclass
class _Pending(Generic[T, R]):
    item: T
    done: asyncio.Future[R]


@dataclass
class Batcher(Generic[T, R]):
    """Items of one kind of request, sent a batch at a time (see the module's docstring).

    ``send`` sends the first items of a list in one request and returns how many it took and
    their outcomes, in order; the rest wait for the next flush.
    """

    send: Send[T, R]
    loop: asyncio.AbstractEventLoop | None = None
    lanes: Callable[[], int] = lambda: 1  # how many flushes may be under way at once, now
    pending: list[_Pending[T, R]] = field(default_factory=list)
    flushes: set[asyncio.Task[None]] = field(default_factory=set)
    client: HubSpotClient | None = None
    sizes: list[int] = field(default_factory=list)  # items per flush, for benchmarks

    @property
    def busy(self) -> bool:
        """Tell whether a flush is under way (a new item would join the next batch)."""
        return bool(self.flushes)

    async def submit(self, client: HubSpotClient, item: T) -> R:
        """Return the item's outcome once a flush has sent it."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self.pending.append(_Pending(item, done))
        self.client = client  # the latest sync's client: the same integration, fresh credentials
        # A flush that has ended leaves ``flushes`` only in a callback run after it: counted
        # meanwhile, it would keep this item from any flush, and its sync would wait forever.
        under_way = sum(not flush.done() for flush in self.flushes)
        if under_way < self.lanes():
            flush = asyncio.create_task(self._flush())
            self.flushes.add(flush)
            flush.add_done_callback(self.flushes.discard)
        async with parked():  # waiting costs no CPU: the worker may run another job meanwhile
            return await done

    async def _flush(self) -> None:
        # The flush is no job: it runs in a copy of the first sync's context, and must not lend
        # (or take back) that sync's slot, which the sync may have given back for good.
        slots.unbind()
        while self.pending:
            waiting = [p for p in self.pending if not p.done.done()]  # cancelled syncs leave
            self.pending = []
            if not waiting:
                return
            assert self.client is not None
            try:
                taken, outcomes = await self.send(self.client, [p.item for p in waiting])
            except BaseException as err:  # every item meets the batch's error
                for entry in waiting:
                    _settle(entry, err)
                if not isinstance(err, Exception):
                    raise
                continue
            self.sizes.append(taken)
            for entry, outcome in zip(waiting[:taken], outcomes, strict=True):
                _settle(entry, outcome)
            self.pending = waiting[taken:] + self.pending


def _settle(entry: _Pending[T, R], outcome: R | BaseException) -> None:
    if entry.done.done():
        return
    if isinstance(outcome, BaseException):
        entry.done.set_exception(outcome)
    else:
        entry.done.set_result(outcome)


# (event loop, integration, kind) → its batcher
_BATCHERS: dict[tuple[int, str, str], Batcher[object, object]] = {}


def batcher(client: HubSpotClient, kind: str, send: Send[T, R]) -> Batcher[T, R]:
    """Return this process's batcher of ``kind`` requests of the client's integration."""
    key = (id(asyncio.get_running_loop()), client.integration_id, kind)
    found = _BATCHERS.get(key)
    if found is None or found.loop is not asyncio.get_running_loop():  # an id reused
        if len(_BATCHERS) > 1024:  # integrations and event loops gone since
            for old in [k for k, b in _BATCHERS.items() if not b.busy]:
                del _BATCHERS[old]
        loop = asyncio.get_running_loop()
        lanes = functools.partial(_lanes, client.integration_id)
        found = _BATCHERS[key] = Batcher(send, loop, lanes)  # type: ignore[arg-type]
    return found  # type: ignore[return-value]


def _lanes(integration_id: str) -> int:
    """Return how many flushes of one kind may be under way at once for the integration."""
    return 1 if pressure.pressed(integration_id) else ROOMY_LANES


def coalescing(client: HubSpotClient, *kinds: str) -> bool:
    """Tell whether requests of ``kinds`` go through their batchers now.

    Yes while a batch of theirs is under way, or while other syncs of the integration are
    inside a lookup or a create (a lone sync gains nothing), whether or not the budget is under
    pressure: a batch costs less CPU than its requests sent one by one.
    """
    if pressure.crowded(client.integration_id):
        return True
    loop = id(asyncio.get_running_loop())
    return any(
        (b := _BATCHERS.get((loop, client.integration_id, kind))) is not None and b.busy
        for kind in kinds
    )


async def pay(client: HubSpotClient, searches: int = 0) -> None:
    """Take one request's tokens for a flush, waiting for them (at most PARK_SECONDS)."""
    general = Demand("general", client.config.requests_per_10s, 10.0, 1)
    demands = [general]
    if searches:
        budget = max(1, client.config.searches_per_second - SEARCH_HEADROOM)
        demands.append(Demand("search", budget, 1.0, searches))
    waited = 0.0
    while True:
        try:
            await client.bucket.take(*demands)
        except RateLimited as err:
            pressure.press(client.integration_id)
            if waited + err.retry_after > PARK_SECONDS:
                raise
            waited += err.retry_after
            await asyncio.sleep(err.retry_after)
            continue
        pressure.note(client.integration_id, client.bucket.roomy)
        return
