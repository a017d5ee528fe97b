"""The connector contract suite: the behaviour every CRM connector must show.

Use it from a connector's tests in three lines::

    class TestMyCrm(ConnectorContract):
        @pytest.fixture
        async def harness(self, my_fake_server) -> ContractHarness: return MyHarness(...)

A :class:`ContractHarness` gives the suite a connector and what only the CRM's side can do: store a
record with a phone number exactly as a person typed it, read call activities and records back
(from the CRM itself, not through a search that may lag), and lose the answer of a create after
the CRM stored it.

The ambiguous-create rule: a create whose outcome is unknown (timeout, 5xx after the commit, a
crash) is never repeated on the strength of an empty, eventually consistent search. Retried as the
sync retries it, it ends with one object in the CRM.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from callbridge.connectors.base import PROTOCOLS, Capability, Connector, supports
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.phone import PhoneNumber, parse_e164
from callbridge.domain.record import ContactDraft
from callbridge.errors import RateLimited, Transient

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

    async def calls_on(self, record_id: str) -> list[str]:
        """Return the ids of every call activity the CRM holds on ``record_id``."""
        ...

    async def contacts_with(self, phone_e164: str) -> list[str]:
        """Return the ids of every record the CRM holds with this number (its own, fresh view)."""
        ...

    async def fail_after_commit(self, kind: Literal["call", "contact"]) -> None:
        """Make the CRM store the connector's next create of ``kind``, then lose the answer.

        As a timeout or a 502 after the commit would: the connector must fail with a retryable
        error (Transient or RateLimited), and the object exists. Where the CRM's search lags
        behind its writes, make it lag now too.
        """
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


# Ids a CRM does not have: another account's, deleted ones, or never ids of this CRM at all.
FOREIGN_IDS = st.one_of(
    st.uuids().map(str),
    st.integers(1, 2**63 - 1).map(str),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=255),
)

# Hypothesis runs several cases on one harness (one CRM account): each case uses its own ids.
# Every connector's test class runs the same methods, each on its own harness: the executors
# differ by design.
_SHARED = [HealthCheck.function_scoped_fixture, HealthCheck.differing_executors]
AMBIGUOUS = settings(max_examples=4, deadline=None, suppress_health_check=_SHARED)
BY_ID = settings(max_examples=10, deadline=None, suppress_health_check=_SHARED)


class AmbiguousCreateContract:
    """The ambiguous-create rule, part of :class:`ConnectorContract`."""

    numbers = Numbers()

    @AMBIGUOUS
    @given(retries=st.integers(1, 3), via_find=st.booleans())
    async def test_a_call_log_whose_answer_was_lost_is_retried_into_one_activity(
        self, harness: ContractHarness, retries: int, via_find: bool
    ) -> None:
        """Retried by finding it first (a pending link) or by logging again: one activity."""
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        activity = draft(record_id, f"callbridge:ambiguous-{uuid.uuid4()}")
        await harness.fail_after_commit("call")
        with pytest.raises((Transient, RateLimited)):
            await harness.connector.log_call(activity)
        logged = None
        for _ in range(retries):
            if via_find:
                logged = await harness.connector.find_call(record_id, activity.external_id)
            logged = logged or await harness.connector.log_call(activity)
        assert await harness.calls_on(record_id) == [logged]
        assert await harness.connector.find_call(record_id, activity.external_id) == logged

    @AMBIGUOUS
    @given(retries=st.integers(1, 3), line=st.integers(150, 198))
    async def test_a_contact_whose_answer_was_lost_is_retried_into_one_contact(
        self, harness: ContractHarness, retries: int, line: int
    ) -> None:
        """Retried as the sync does (look the number up, create only if nothing): one contact."""
        if not supports(harness.connector, Capability.CREATE_CONTACT):
            pytest.skip("the connector declares it cannot create contacts")
        used: set[int] = self.__dict__.setdefault("_used_lines", set())
        assume(line not in used)
        used.add(line)
        number = f"+1415555{line:04d}"
        contact = ContactDraft(
            "New Callbridge Contact", number, external_id=f"callbridge:contact:{uuid.uuid4()}"
        )
        await harness.fail_after_commit("contact")
        with pytest.raises((Transient, RateLimited)):
            await harness.connector.create_contact(contact)
        for _ in range(retries):
            found = await harness.connector.find_by_phone(self.phone(number))
            if not found:
                found = [await harness.connector.create_contact(contact)]
        assert len(await harness.contacts_with(number)) == 1
        assert [record.id for record in found] == await harness.contacts_with(number)

    def phone(self, e164: str) -> PhoneNumber:
        """Return a PhoneNumber from an E.164 string."""
        return parse_e164(e164)


class ConnectorContract(AmbiguousCreateContract):
    """Subclass it and provide a ``harness`` fixture; every test below must pass."""

    numbers = Numbers()

    @pytest.fixture
    def harness(self) -> ContractHarness:
        """Return the harness of the connector under test (override this fixture)."""
        raise NotImplementedError("override the `harness` fixture")

    async def test_declares_the_core_capabilities(self, harness: ContractHarness) -> None:
        assert self_capabilities(harness) >= CORE

    async def test_declares_exactly_the_capabilities_it_implements(
        self, harness: ContractHarness
    ) -> None:
        """A declared capability has its protocol, and an implemented protocol is declared."""
        implemented = {
            c for c, protocol in PROTOCOLS.items() if isinstance(harness.connector, protocol)
        }
        assert self_capabilities(harness) == implemented
        assert {c for c in Capability if supports(harness.connector, c)} == implemented

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
        if not supports(harness.connector, Capability.CREATE_CONTACT):
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

    @BY_ID
    @given(other=FOREIGN_IDS)
    async def test_a_record_reads_back_by_id_and_an_id_it_does_not_have_is_none(
        self, harness: ContractHarness, other: str
    ) -> None:
        """Ids given by callers are resolved inside the integration (docs/tenancy.md)."""
        if not supports(harness.connector, Capability.RECORD_LOOKUP):
            pytest.skip("the connector cannot read a record by id")
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        found = await harness.connector.get_record(record_id)
        assert found is not None and found.id == record_id
        assume(other != record_id)
        assert await harness.connector.get_record(other) is None

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
