"""HubSpot's claim rows: the id saved after a create completes the claim, or stands alone.

On SQLite and PostgreSQL: the save is one ``UPDATE`` of the claim row, with an insert only
when no row was updated, and each database says "no row" its own way.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callbridge.connectors.hubspot.store import WrittenObjects
from callbridge.connectors.hubspot.tables import hubspot_objects
from callbridge.runtime import Runtime
from callbridge.storage import units

_ids = st.text("0123456789", min_size=1, max_size=12)


@settings(max_examples=10)
@given(claimed=st.booleans(), keyed=st.booleans(), object_id=_ids, record=_ids)
async def test_an_id_is_saved_on_its_claim_or_without_one(
    integration_on: tuple[Runtime, str],
    claimed: bool,
    keyed: bool,
    object_id: str,
    record: str,
) -> None:
    """The claim keeps its time and key and gains the id; with no claim, a row holds the id."""
    runtime, integration_id = integration_on
    written = WrittenObjects(runtime.sessions, integration_id, runtime.clock)
    if claimed:
        await written.claim("contact", "call-1", record, keyed)
    before = await written.get("contact", "call-1", record)
    await written.save("contact", "call-1", record, object_id)
    saved = await written.get("contact", "call-1", record)
    assert saved is not None and saved.object_id == object_id
    if before is not None:
        assert (saved.created_at, saved.keyed) == (before.created_at, before.keyed)
    table = hubspot_objects.c
    scope = (table.integration_id == written._integration_id, table.record_id == record)
    mine = select(hubspot_objects).where(*scope)
    rows = await units.read(written._engine, lambda conn: conn.execute(mine).all())
    assert len(rows) == 1


_records = itertools.count()
_steps = st.lists(
    st.tuples(st.sampled_from(["claim_new", "save", "drop"]), st.sampled_from(["1", "2", "3"])),
    max_size=12,
)


@settings(max_examples=15)
@given(steps=_steps)
async def test_claim_new_writes_a_first_claim_and_returns_any_earlier_one(
    integration_on: tuple[Runtime, str], steps: list[tuple[str, str]]
) -> None:
    """In any order of claims, saves and drops: ``claim_new`` answers None and leaves a pending
    claim when none was there, else the claim as it was (its id, or pending), untouched."""
    runtime, integration_id = integration_on
    written = WrittenObjects(runtime.sessions, integration_id, runtime.clock)
    record = f"r-{next(_records)}"  # each example its own rows: the database is shared
    model: dict[str, str | None] = {}  # external id → object id (None: pending)
    for step, external_id in steps:
        if step == "claim_new":
            before = await written.get("deal", external_id, record)
            found = await written.claim_new("deal", external_id, record, keyed=True)
            if external_id in model:
                assert found is not None and found.object_id == model[external_id]
                assert found == before, "an earlier claim is returned untouched"
            else:
                assert found is None
                model[external_id] = None
        elif step == "save":
            await written.save("deal", external_id, record, f"id-{external_id}")
            model[external_id] = f"id-{external_id}"
        elif model.get(external_id, "") is None:  # drop: only a pending claim goes
            await written.drop("deal", external_id, record)
            del model[external_id]
        after = await written.get("deal", external_id, record)
        assert (after.object_id if after else "absent") == model.get(external_id, "absent")
