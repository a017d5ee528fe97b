"""The connector contract suite: the behaviour every CRM connector must show.

Use it from a connector's tests in three lines::

    class TestMyCrm(ConnectorContract):
        @pytest.fixture
        async def harness(self, my_fake_server) -> ContractHarness: return MyHarness(...)

A :class:`ContractHarness` gives the suite a connector and two things only the CRM's side can do:
store a record with a phone number exactly as a person typed it, and read a call activity back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from callbridge.connectors.base import Capability, Connector
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.phone import PhoneNumber, parse_e164
from callbridge.domain.record import ContactDraft

CORE = {Capability.FIND_BY_PHONE, Capability.LOG_CALL, Capability.UPDATE_CALL}


class ContractHarness(Protocol):
    """What the suite needs beyond the connector itself."""

    connector: Connector

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a record with a phone stored exactly as ``raw_phone``; return its id."""
        ...

    async def read_call(self, record_id: str, activity_id: str) -> dict[str, Any]:
        """Return the activity as the CRM holds it: at least ``recording_url`` and ``notes``."""
        ...


@dataclass(frozen=True)
class Numbers:
    """Numbers the suite uses: one typed in a national format, its E.164 form, one unknown."""

    national: str = "(415) 555-0134"
    e164: str = "+14155550134"
    unknown: str = "+14155550199"


def draft(
    record_id: str, external_id: str = "callbridge:contract-1", **changes: Any
) -> ActivityDraft:
    """Return a call activity for ``record_id``."""
    values: dict[str, Any] = {
        "external_id": external_id,
        "record_id": record_id,
        "direction": "incoming",
        "status": "answered",
        "subject": "Incoming call from +1 415-555-0134",
        "started_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "duration": 42,
        "agent": "ann@example.com",
        "recording_url": None,
        "notes": None,
        "tags": (),
        "disposition": None,
    }
    values.update(changes)
    return ActivityDraft(**values)


class ConnectorContract:
    """Subclass it and provide a ``harness`` fixture; every test below must pass."""

    numbers = Numbers()

    @pytest.fixture
    def harness(self) -> ContractHarness:
        """Return the harness of the connector under test (override this fixture)."""
        raise NotImplementedError("override the `harness` fixture")

    def phone(self, e164: str) -> PhoneNumber:
        """Return a PhoneNumber from an E.164 string."""
        return parse_e164(e164)

    async def test_declares_the_core_capabilities(self, harness: ContractHarness) -> None:
        assert self_capabilities(harness) >= CORE

    async def test_check_accepts_working_credentials(self, harness: ContractHarness) -> None:
        await harness.connector.check()

    async def test_a_number_stored_in_a_national_format_is_found(
        self, harness: ContractHarness
    ) -> None:
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        found = await harness.connector.find_by_phone(self.phone(self.numbers.e164))
        assert [record.id for record in found] == [record_id]

    async def test_an_unknown_number_finds_nothing(self, harness: ContractHarness) -> None:
        await harness.store_record("Jane Caller", self.numbers.national)
        assert await harness.connector.find_by_phone(self.phone(self.numbers.unknown)) == []

    async def test_a_created_contact_is_found_by_its_number(self, harness: ContractHarness) -> None:
        if Capability.CREATE_CONTACT not in self_capabilities(harness):
            pytest.skip("the connector declares it cannot create contacts")
        created = await harness.connector.create_contact(
            ContactDraft(name="New Callbridge Contact", phone_e164=self.numbers.unknown)
        )
        found = await harness.connector.find_by_phone(self.phone(self.numbers.unknown))
        assert created.id in [record.id for record in found]

    async def test_logging_the_same_call_twice_gives_one_activity(
        self, harness: ContractHarness
    ) -> None:
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        first = await harness.connector.log_call(draft(record_id))
        assert await harness.connector.find_call(record_id, "callbridge:contract-1") == first
        second = await harness.connector.log_call(draft(record_id))
        assert second == first

    async def test_an_unlogged_call_is_not_found(self, harness: ContractHarness) -> None:
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        assert await harness.connector.find_call(record_id, "callbridge:never") is None

    async def test_late_data_updates_the_same_activity(self, harness: ContractHarness) -> None:
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        activity_id = await harness.connector.log_call(draft(record_id))
        late = draft(record_id, recording_url="https://rec.example.com/1.mp3", notes="call back")
        await harness.connector.update_call(activity_id, late)
        stored = await harness.read_call(record_id, activity_id)
        assert (stored["recording_url"], stored["notes"]) == (late.recording_url, late.notes)
        assert await harness.connector.find_call(record_id, late.external_id) == activity_id


def self_capabilities(harness: ContractHarness) -> frozenset[Capability]:
    """Return the capabilities the connector declares."""
    return frozenset(harness.connector.capabilities)
