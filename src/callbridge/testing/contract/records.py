"""The suites of records and users: a record by id, the CRM's users, a removed call."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from callbridge.connectors.base import Capability, supports
from callbridge.testing.contract.core import ContractSuite
from callbridge.testing.contract.explore import FEW, FOREIGN_IDS, NAMES, SOME, draft, external_id
from callbridge.testing.contract.harness import CallsHarness, ContractHarness, UsersHarness


class RecordLookupContract(ContractSuite):
    """``record_lookup``: a record reads back by id; an id it does not have is None.

    Ids given by callers are resolved inside the integration (docs/tenancy.md). Harness hooks:
    none beyond the core's.
    """

    requires = frozenset({Capability.RECORD_LOOKUP})

    @SOME
    @given(other=FOREIGN_IDS, name=NAMES)
    async def test_a_record_reads_back_by_id_and_an_id_it_does_not_have_is_none(
        self, harness: ContractHarness, other: str, name: str
    ) -> None:
        connector = harness.connector
        assert supports(connector, Capability.RECORD_LOOKUP)
        record_id = await harness.store_record(name, self.numbers.national)
        found = await connector.get_record(record_id)
        assert found is not None and found.id == record_id
        assume(other != record_id)
        assert await connector.get_record(other) is None


class OwnersContract(ContractSuite):
    """``owners``: the CRM's users, each with the e-mail employees are mapped by.

    Harness hook: ``known_users`` (shared with the deals suite); the harness's CRM holds at
    least one user.
    """

    requires = frozenset({Capability.OWNERS})
    hooks = UsersHarness

    async def test_lists_every_user_the_crm_holds_with_their_email(
        self, harness: UsersHarness
    ) -> None:
        assert supports(harness.connector, Capability.OWNERS)
        known = await harness.known_users()
        assert known, "the harness's CRM must hold at least one user"
        listed = await harness.connector.list_users()
        assert {user.id: user.email for user in listed} == known
        assert len(listed) == len(known)  # each user once


class ActivityRemovalContract(ContractSuite):
    """``activity_removal``: a removed call is gone, its record's other calls stay.

    Harness hook: ``calls_on`` (shared with the ambiguous-create suites).
    """

    requires = frozenset({Capability.ACTIVITY_REMOVAL})
    hooks = CallsHarness

    @FEW
    @given(count=st.integers(1, 3), pick=st.integers(0, 2))
    async def test_a_removed_call_is_gone_and_the_others_stay(
        self, harness: CallsHarness, count: int, pick: int
    ) -> None:
        connector = harness.connector
        assert supports(connector, Capability.ACTIVITY_REMOVAL)
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        calls = [draft(record_id, external_id("removal")) for _ in range(count)]
        logged = [await connector.log_call(call) for call in calls]
        removed = pick % count
        assert await connector.remove_call(logged[removed]) is True
        assert sorted(await harness.calls_on(record_id)) == sorted(
            logged[:removed] + logged[removed + 1 :]
        )
        assert await connector.find_call(record_id, calls[removed].external_id) is None
        assert await connector.remove_call(logged[removed]) is False
