"""What a connector's test module gives the contract suites: a harness over its CRM.

A harness holds the connector under test and does what only the CRM's side can do: store a record
with a phone number exactly as a person typed it, read back what the connector wrote (from the CRM
itself, not through a search that may lag), and lose the answer of a create after the CRM stored
it. Each suite asks only for the hooks it uses: its harness protocol below, named in its
docstring. A harness implements the hooks of every suite its connector's declaration selects.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from callbridge.connectors.base import Connector


@runtime_checkable
class ContractHarness(Protocol):
    """The hooks of the core suite, which every connector runs."""

    connector: Connector

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a record with a phone stored exactly as ``raw_phone``; return its id."""
        ...

    async def read_call(self, record_id: str, activity_id: str) -> dict[str, Any]:
        """Return the activity as the CRM holds it: at least ``recording_url`` and ``notes``."""
        ...

    async def in_region(self, region: str) -> ContractHarness:
        """Return a harness on the same CRM account as if the company were based in ``region``.

        Its connector is built with ``region`` as the integration's default region, and the CRM's
        own country setting is ``region`` too where it has one (a HubSpot portal's).
        """
        ...


@runtime_checkable
class CallsHarness(ContractHarness, Protocol):
    """A harness that lists the call activities on a record (ambiguous creates, removal)."""

    async def calls_on(self, record_id: str) -> list[str]:
        """Return the ids of every call activity the CRM holds on ``record_id``."""
        ...


@runtime_checkable
class AmbiguousCallHarness(CallsHarness, Protocol):
    """A harness that can lose the answer of a create after the CRM stored the object."""

    async def fail_after_commit(self, kind: Literal["call", "contact"]) -> None:
        """Make the CRM store the connector's next create of ``kind``, then lose the answer.

        As a timeout or a 502 after the commit would: the connector must fail with a retryable
        error (Transient or RateLimited), and the object exists. Where the CRM's search lags
        behind its writes, make it lag now too.
        """
        ...


@runtime_checkable
class AmbiguousContactHarness(AmbiguousCallHarness, Protocol):
    """A harness that also reads contacts by number from the CRM's own, fresh view."""

    async def contacts_with(self, phone_e164: str) -> list[str]:
        """Return the ids of every record the CRM holds with this number (its own, fresh view)."""
        ...


@runtime_checkable
class UsersHarness(ContractHarness, Protocol):
    """A harness that knows the CRM's users (at least one)."""

    async def known_users(self) -> dict[str, str | None]:
        """Return the CRM's users as its own side lists them: id → e-mail."""
        ...


@runtime_checkable
class DealsHarness(UsersHarness, Protocol):
    """A harness that reads deals back from the CRM."""

    async def deals_on(self, record_id: str) -> list[str]:
        """Return the ids of every deal linked to ``record_id``."""
        ...

    async def deal_owner(self, deal_id: str) -> str | None:
        """Return the user id the CRM holds as the deal's owner."""
        ...


@runtime_checkable
class TasksHarness(ContractHarness, Protocol):
    """A harness that reads tasks back from the CRM."""

    async def tasks_on(self, record_id: str) -> list[str]:
        """Return the ids of every task linked to ``record_id``."""
        ...


@runtime_checkable
class NotesHarness(ContractHarness, Protocol):
    """A harness that reads notes back from the CRM."""

    async def notes_on(self, record_id: str) -> list[str]:
        """Return the ids of every note on ``record_id``."""
        ...


def missing_hooks(harness: object, protocol: type) -> list[str]:
    """Return the members of ``protocol`` (and its bases) that ``harness`` lacks."""
    wanted: set[str] = set()
    for base in protocol.__mro__:
        if base is object or base is Protocol or base.__name__ == "Generic":
            continue
        wanted |= {n for n in vars(base) if not n.startswith("_")}
        wanted |= set(getattr(base, "__annotations__", {}))
    return sorted(name for name in wanted if not hasattr(harness, name))
