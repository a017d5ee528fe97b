"""The ambiguous-create rule: a create whose outcome is unknown ends as one object.

A create whose outcome is unknown (timeout, 5xx after the commit, a crash) is never repeated on
the strength of an empty, eventually consistent search. Retried as the sync retries it, it ends
with one object in the CRM.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.connectors.base import Capability, supports
from callbridge.domain.record import ContactDraft
from callbridge.errors import RateLimited, Transient
from callbridge.testing.contract.core import ContractSuite
from callbridge.testing.contract.explore import (
    FEW,
    NAMES,
    FreshNumbers,
    draft,
    external_id,
)
from callbridge.testing.contract.harness import AmbiguousCallHarness, AmbiguousContactHarness


class AmbiguousCallContract(ContractSuite):
    """Every connector: a call log whose answer was lost is retried into one activity.

    Harness hooks: ``fail_after_commit`` (the ambiguous-create suites only), ``calls_on``.
    """

    hooks = AmbiguousCallHarness

    @FEW
    @given(retries=st.integers(1, 3), via_find=st.booleans())
    async def test_a_call_log_whose_answer_was_lost_is_retried_into_one_activity(
        self, harness: AmbiguousCallHarness, retries: int, via_find: bool
    ) -> None:
        """Retried by finding it first (a pending link) or by logging again: one activity."""
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        activity = draft(record_id, external_id("ambiguous"))
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


class AmbiguousContactContract(ContractSuite, FreshNumbers):
    """``create_contact``: a contact whose answer was lost is retried into one contact.

    Harness hooks: ``fail_after_commit`` and ``contacts_with`` (the ambiguous-create suites only).
    """

    requires = frozenset({Capability.CREATE_CONTACT})
    hooks = AmbiguousContactHarness

    @FEW
    @given(retries=st.integers(1, 3), name=NAMES)
    async def test_a_contact_whose_answer_was_lost_is_retried_into_one_contact(
        self, harness: AmbiguousContactHarness, retries: int, name: str
    ) -> None:
        """Retried as the sync does (look the number up, create only if nothing): one contact."""
        assert supports(harness.connector, Capability.CREATE_CONTACT)
        number = self.fresh_number()
        contact = ContactDraft(name, number, external_id=external_id("contact"))
        await harness.fail_after_commit("contact")
        with pytest.raises((Transient, RateLimited)):
            await harness.connector.create_contact(contact)
        for _ in range(retries):
            found = await harness.connector.find_by_phone(self.phone(number))
            if not found:
                found = [await harness.connector.create_contact(contact)]
        assert len(await harness.contacts_with(number)) == 1
        assert [record.id for record in found] == await harness.contacts_with(number)
