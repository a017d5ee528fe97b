"""The local CRM indexes a number stored without its "+" by both readings, shown once."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.connectors.local.client import LocalCrmClient
from callbridge.domain.phone import stored_readings
from callbridge.domain.record import ObjectType
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.testing.contract.explore import BARE_PAIRS, FEW, FreshBareNumbers


@pytest.fixture
def runtime(migrated_runtime: Runtime) -> Runtime:
    """A runtime on a migrated database (SQLite and PostgreSQL)."""
    return migrated_runtime


async def _client(runtime: Runtime, region: str) -> LocalCrmClient:
    company = await create_company(runtime, f"Readings {region}", region=region)
    return LocalCrmClient(
        runtime.sessions,
        company.company_id,
        company.integration_id,
        region,
        runtime.clock,
        runtime.reads,
    )


class TestReadings(FreshBareNumbers):
    """Lookups by either reading, on both databases and on SQLite's one-hop path."""

    @FEW
    @given(pair=st.sampled_from(BARE_PAIRS))
    async def test_either_reading_finds_the_record_with_each_phone_once(
        self, runtime: Runtime, pair: tuple[str, str]
    ) -> None:
        number = self.fresh_bare_number(*pair)
        client = await _client(runtime, number.region)
        [usual] = [r.number.e164 for r in stored_readings(number.stored, number.region)][:1]
        alone = await client.create_record(ObjectType.CONTACT, "Alone", [number.stored])
        both = await client.create_record(ObjectType.CONTACT, "Both", [number.stored, number.e164])
        found = {r.id: r for r in await client.find_by_e164(number.e164)}
        assert set(found) == {alone.id, both.id}
        assert found[alone.id].matched_reading == number.stored  # only through the "+" reading
        assert found[both.id].matched_reading is None  # one phone is the caller's as usual
        assert found[both.id].phones == (number.stored, number.e164)  # each once, as stored
        by_usual = await client.find_by_e164(usual)
        assert {(r.id, r.matched_reading) for r in by_usual} == {(alone.id, None), (both.id, None)}
        assert await client.find_by_e164(number.look_alike) == []
        fetched = await client.get_record(alone.id)
        assert fetched is not None and fetched.matched_reading is None

    @FEW
    @given(pair=st.sampled_from(BARE_PAIRS))
    async def test_changed_phones_are_indexed_again(
        self, runtime: Runtime, pair: tuple[str, str]
    ) -> None:
        number = self.fresh_bare_number(*pair)
        client = await _client(runtime, number.region)
        record = await client.create_record(ObjectType.CONTACT, "Moved", ["+" + number.stored])
        assert [r.matched_reading for r in await client.find_by_e164(number.e164)] == [None]
        await client.update_record(record.id, phones=[number.stored])
        [found] = await client.find_by_e164(number.e164)
        assert (found.id, found.matched_reading) == (record.id, number.stored)
        await client.update_record(record.id, phones=["n/a"])
        assert await client.find_by_e164(number.e164) == []


async def test_the_one_hop_path_answers_as_the_query(sqlite_url: str, tmp_path: Path) -> None:
    await upgrade(sqlite_url)
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=sqlite_url))
    try:
        client = await _client(runtime, "DE")
        assert client._fast is not None
        await client.create_record(ObjectType.CONTACT, "Bare", ["33612345607"])
        await client.create_record(ObjectType.CONTACT, "Plus", ["+33 6 12 34 56 07"])
        fast = await client.find_by_e164("+33612345607")
        client._fast = None
        assert await client.find_by_e164("+33612345607") == fast
        assert {(r.name, r.matched_reading) for r in fast} == {
            ("Bare", "33612345607"),
            ("Plus", None),
        }
    finally:
        await runtime.close()
