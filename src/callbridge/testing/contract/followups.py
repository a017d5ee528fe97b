"""The follow-up suites: deals, tasks and notes, each written once per external id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from callbridge.connectors.base import Capability, supports
from callbridge.domain.deal import DealDraft
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.testing.contract.core import ContractSuite
from callbridge.testing.contract.explore import FEW, NAMES, TEXTS, external_id
from callbridge.testing.contract.harness import DealsHarness, NotesHarness, TasksHarness

RETRIES = st.integers(1, 3)


class DealsContract(ContractSuite):
    """``deals``: a deal is created once, found open on its record, and given to a user.

    Harness hooks: ``deals_on`` and ``deal_owner`` (this suite only), ``known_users`` (shared
    with the owners suite: a user to give the deal to).
    """

    requires = frozenset({Capability.DEALS})
    hooks = DealsHarness

    @FEW
    @given(name=TEXTS, retries=RETRIES, pick=st.integers(0, 99))
    async def test_a_deal_is_created_once_found_open_and_given_to_a_user(
        self, harness: DealsHarness, name: str, retries: int, pick: int
    ) -> None:
        connector = harness.connector
        assert supports(connector, Capability.DEALS)
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        wanted = DealDraft(external_id("deal"), name, record_id)
        deal = await connector.create_deal(wanted)
        for _ in range(retries):
            assert (await connector.create_deal(wanted)).id == deal.id
        assert await harness.deals_on(record_id) == [deal.id]
        found = await connector.find_open_deal(record_id)
        assert found is not None and found.id == deal.id
        users = sorted(await harness.known_users())
        owner = users[pick % len(users)]
        await connector.set_deal_owner(deal.id, owner)
        assert await harness.deal_owner(deal.id) == owner

    async def test_a_record_without_deals_has_no_open_deal(self, harness: DealsHarness) -> None:
        assert supports(harness.connector, Capability.DEALS)
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        assert await harness.connector.find_open_deal(record_id) is None


class TasksContract(ContractSuite):
    """``tasks``: a task is created once on its record. Harness hook: ``tasks_on`` (this suite)."""

    requires = frozenset({Capability.TASKS})
    hooks = TasksHarness

    @FEW
    @given(title=TEXTS, body=st.one_of(st.just(""), TEXTS), retries=RETRIES)
    async def test_a_task_is_created_once_on_its_record(
        self, harness: TasksHarness, title: str, body: str, retries: int
    ) -> None:
        connector = harness.connector
        assert supports(connector, Capability.TASKS)
        record_id = await harness.store_record("Jane Caller", self.numbers.national)
        task = TaskDraft(external_id("task"), title, body, record_id)
        first = await connector.create_task(task)
        for _ in range(retries):
            assert await connector.create_task(task) == first
        assert await harness.tasks_on(record_id) == [first]


class NotesContract(ContractSuite):
    """``notes``: a note is added once on its record. Harness hook: ``notes_on`` (this suite)."""

    requires = frozenset({Capability.NOTES})
    hooks = NotesHarness

    @FEW
    @given(body=TEXTS, retries=RETRIES, name=NAMES)
    async def test_a_note_is_added_once_on_its_record(
        self, harness: NotesHarness, body: str, retries: int, name: str
    ) -> None:
        connector = harness.connector
        assert supports(connector, Capability.NOTES)
        record_id = await harness.store_record(name, self.numbers.national)
        note = NoteDraft(external_id("note"), body, record_id)
        first = await connector.add_note(note)
        for _ in range(retries):
            assert await connector.add_note(note) == first
        assert await harness.notes_on(record_id) == [first]
