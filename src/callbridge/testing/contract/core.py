"""The core suite every connector runs: find by phone, log and update calls, declare honestly."""

from __future__ import annotations

from typing import ClassVar

from hypothesis import given
from hypothesis import strategies as st

from callbridge.connectors.base import PROTOCOLS, Capability, supports
from callbridge.domain.phone import PhoneNumber, parse_e164
from callbridge.domain.record import ContactDraft
from callbridge.testing.contract.explore import (
    BARE_PAIRS,
    FEW,
    NAMES,
    FreshBareNumbers,
    FreshNumbers,
    Numbers,
    draft,
    layouts,
    typed,
)
from callbridge.testing.contract.harness import ContractHarness

CORE = frozenset({Capability.FIND_BY_PHONE, Capability.LOG_CALL, Capability.UPDATE_CALL})


def declaration_errors(connector: object) -> list[str]:
    """Return what is wrong with a connector's declaration: a core capability missing, a
    capability declared without its protocol, or a protocol implemented but not declared."""
    declared = frozenset(getattr(connector, "capabilities", frozenset()))
    implemented = {c for c, protocol in PROTOCOLS.items() if isinstance(connector, protocol)}
    errors = [f"{c} is required of every connector" for c in sorted(CORE - declared)]
    errors += [f"{c} is declared but not implemented" for c in sorted(declared - implemented)]
    errors += [f"{c} is implemented but not declared" for c in sorted(implemented - declared)]
    return errors


class ContractSuite:
    """A suite of the contract: the capabilities that select it, the harness hooks it uses."""

    requires: ClassVar[frozenset[Capability]] = frozenset()
    hooks: ClassVar[type] = ContractHarness
    numbers = Numbers()

    def phone(self, e164: str) -> PhoneNumber:
        """Return a PhoneNumber from an E.164 string."""
        return parse_e164(e164)


class CoreContract(ContractSuite, FreshNumbers, FreshBareNumbers):
    """What every connector must do. Harness hooks: ``store_record``, ``read_call``,
    ``in_region``."""

    async def test_declares_exactly_the_capabilities_it_implements(
        self, harness: ContractHarness
    ) -> None:
        """The core is declared, a declared capability has its protocol, and the reverse."""
        assert declaration_errors(harness.connector) == []
        declared = {c for c in Capability if supports(harness.connector, c)}
        assert declared == set(harness.connector.capabilities)

    async def test_check_accepts_working_credentials(self, harness: ContractHarness) -> None:
        await harness.connector.check()

    async def test_a_number_stored_in_a_national_format_is_found(
        self, harness: ContractHarness
    ) -> None:
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        found = await harness.connector.find_by_phone(self.phone(self.numbers.e164))
        assert [record.id for record in found] == [record_id]

    @FEW
    @given(layout=layouts(), name=NAMES)
    async def test_a_number_typed_in_any_common_format_is_found_by_its_e164_form(
        self, harness: ContractHarness, layout: str, name: str
    ) -> None:
        number = self.fresh_number()  # earlier cases' records stay in the CRM
        record_id = await harness.store_record(name, typed(number, layout))
        found = await harness.connector.find_by_phone(self.phone(number))
        assert [record.id for record in found] == [record_id]

    @FEW
    @given(pair=st.sampled_from(BARE_PAIRS), name=NAMES)
    async def test_a_number_stored_without_its_plus_is_found_where_it_also_reads_as_national(
        self, harness: ContractHarness, pair: tuple[str, str], name: str
    ) -> None:
        """``33612345607`` stored in a German CRM is the French caller's (and says how it
        matched); a number ending with the same digits in another country is not."""
        number = self.fresh_bare_number(*pair)
        regional = await harness.in_region(number.region)
        record_id = await regional.store_record(name, number.stored)
        found = await regional.connector.find_by_phone(self.phone(number.e164))
        assert [(r.id, r.matched_reading) for r in found] == [(record_id, number.stored)]
        look_alike = await regional.connector.find_by_phone(self.phone(number.look_alike))
        assert record_id not in [record.id for record in look_alike]

    async def test_an_unknown_number_finds_nothing(self, harness: ContractHarness) -> None:
        await harness.store_record("Jane Caller", self.numbers.national)
        assert await harness.connector.find_by_phone(self.phone(self.numbers.unknown)) == []

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


class ContactCreationContract(ContractSuite, FreshNumbers):
    """``create_contact``: a contact created for a caller is found by the caller's number.

    Harness hooks: none beyond the core's.
    """

    requires = frozenset({Capability.CREATE_CONTACT})

    @FEW
    @given(name=NAMES)
    async def test_a_created_contact_is_found_by_its_number(
        self, harness: ContractHarness, name: str
    ) -> None:
        assert supports(harness.connector, Capability.CREATE_CONTACT)
        number = self.fresh_number()
        created = await harness.connector.create_contact(ContactDraft(name, number))
        found = await harness.connector.find_by_phone(self.phone(number))
        assert [record.id for record in found] == [created.id]
