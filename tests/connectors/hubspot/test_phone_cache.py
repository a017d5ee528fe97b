"""HubSpot's lookup cache: a created contact joins its number's fresh entry, or starts one.

Generated on SQLite and PostgreSQL: lookups caching what they found and syncs adding the contact
they created, in any order, with time passing beyond the entry's freshness; the cache always
answers what a model of it says.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.hubspot.store import PhoneCache
from callbridge.runtime import Runtime
from callbridge.storage import units

TTL = 60.0
_numbers = itertools.count(5550000)
_steps = st.lists(
    st.tuples(
        st.sampled_from(["put", "add"]),
        st.sets(st.sampled_from(["1", "2", "3"]), min_size=1, max_size=2),
        st.floats(0, 2 * TTL),
    ),
    max_size=10,
)


def _records(ids: set[str] | list[str]) -> list[dict[str, Any]]:
    return [{"id": record_id, "name": f"Contact {record_id}"} for record_id in ids]


@settings(max_examples=15)
@given(steps=_steps)
async def test_a_created_contact_joins_the_fresh_entry(
    integration_on: tuple[Runtime, str], steps: list[tuple[str, set[str], float]]
) -> None:
    """``put`` replaces the entry; ``add`` appends a record it lacks to a fresh entry and starts
    a new entry over a stale one; ``get`` answers a fresh entry, else nothing."""
    runtime, integration_id = integration_on
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    cache = PhoneCache(runtime.sessions, integration_id, lambda: now[0], TTL)
    phone = f"+1415{next(_numbers):07d}"  # each example its own entry: the database is shared
    model: list[str] | None = None
    written_at = now[0]
    for step, ids, later in steps:
        now[0] += timedelta(seconds=later)
        if model is not None and (now[0] - written_at).total_seconds() > TTL:
            model = None  # stale
        if step == "put":
            await cache.put(phone, _records(sorted(ids)))
            model, written_at = sorted(ids), now[0]
        else:
            record_id = min(ids)
            async with units.deferring(runtime.engine):  # as in a sync: rides its next write
                await cache.add(phone, _records([record_id])[0])
                await units.write(runtime.engine, lambda conn: None)
            if model is None or record_id not in model:
                model, written_at = [*(model or []), record_id], now[0]
        got = await cache.get(phone)
        assert ([r["id"] for r in got] if got is not None else None) == model
