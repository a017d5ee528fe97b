"""The connector protocol every CRM implements, and what a connector is given to work with.

A connector is built from an :class:`IntegrationContext` by a factory registered under the
``callbridge.connectors`` entry point group, and proves itself with ``callbridge.testing``'s
contract suite::

    def build(context: IntegrationContext) -> Connector:
        return MyCrmConnector(MyCrmClient(context.http, context.credentials["token"]))

Every method raises only the connector error kinds of :mod:`callbridge.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.domain.activity import ActivityDraft
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord
from callbridge.domain.task import NoteDraft, TaskDraft


class Capability(StrEnum):
    """What a connector can do; the pipeline skips, with a reason, what it cannot."""

    FIND_BY_PHONE = "find_by_phone"
    CREATE_CONTACT = "create_contact"
    LOG_CALL = "log_call"
    UPDATE_CALL = "update_call"
    DEALS = "deals"
    TASKS = "tasks"
    NOTES = "notes"
    OWNERS = "owners"
    RECORDINGS = "recordings"


def utc_now() -> datetime:
    """Return the current time in UTC (the default clock)."""
    return datetime.now(UTC)


# The integration id a connector sees while its credentials are checked before the integration is
# saved (``check()`` on create): no row has that id, so the connector must keep no state for it.
UNSAVED_ID = "unsaved"


@dataclass(frozen=True)
class IntegrationContext:
    """Everything a connector may use: its settings, credentials and injected I/O."""

    integration_id: str
    company_id: str
    default_region: str
    config: Mapping[str, Any]
    credentials: Mapping[str, str]
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = field(default=utc_now)
    read_sessions: async_sessionmaker[AsyncSession] | None = None


class Connector(Protocol):
    """A CRM as Callbridge uses it: find by phone, create contacts, log and update calls."""

    capabilities: frozenset[Capability]

    async def check(self) -> None:
        """Verify the credentials work; raise AuthFailed with a message for the admin if not."""
        ...

    async def find_by_phone(self, phone: PhoneNumber) -> list[CrmRecord]:
        """Return every record whose phone numbers match ``phone``, whatever their stored format."""
        ...

    async def create_contact(self, draft: ContactDraft) -> CrmRecord:
        """Create a contact and return it."""
        ...

    async def find_call(self, record_id: str, external_id: str) -> str | None:
        """Return the id of the activity logged on ``record_id`` for ``external_id``, if any."""
        ...

    async def log_call(self, activity: ActivityDraft) -> str:
        """Log a call activity on its record and return the activity id."""
        ...

    async def update_call(self, activity_id: str, activity: ActivityDraft) -> None:
        """Update a logged call activity with the latest data (recording, notes, tags...)."""
        ...


@runtime_checkable
class SupportsDeals(Protocol):
    """A connector declaring ``Capability.DEALS``: find, create and assign deals."""

    async def find_open_deal(self, record_id: str) -> Deal | None:
        """Return the record's most recently updated open deal, if any."""
        ...

    async def create_deal(self, draft: DealDraft) -> Deal:
        """Create a deal linked to ``draft.record_id``, or return the one with its external id."""
        ...

    async def set_deal_owner(self, deal_id: str, owner: str) -> None:
        """Make ``owner`` (a CRM user id) the deal's responsible manager."""
        ...


@runtime_checkable
class SupportsTasks(Protocol):
    """A connector declaring ``Capability.TASKS``."""

    async def create_task(self, draft: TaskDraft) -> str:
        """Create a task, or return the id of the one with the same external id."""
        ...


@runtime_checkable
class SupportsNotes(Protocol):
    """A connector declaring ``Capability.NOTES`` (also used to attach recordings as links)."""

    async def add_note(self, draft: NoteDraft) -> str:
        """Add a note, or return the id of the one with the same external id."""
        ...


@runtime_checkable
class SupportsOwners(Protocol):
    """A connector declaring ``Capability.OWNERS``: the CRM's users, to map employees by e-mail."""

    async def list_users(self) -> list[CrmUser]:
        """Return the CRM's users."""
        ...


ConnectorFactory = Callable[[IntegrationContext], Connector]


@runtime_checkable
class SupportsRecordLookup(Protocol):
    """A connector that reads one record by its id, inside its own integration.

    Ids given by callers (click-to-dial, an agent's choice) are resolved with it: a record of
    another integration or company, or one deleted meanwhile, is None, never a foreign record.
    """

    async def get_record(self, record_id: str) -> CrmRecord | None:
        """Return the integration's record with this id, or None."""
        ...


@runtime_checkable
class SupportsActivityRemoval(Protocol):
    """A connector that can delete a logged call (to move it when an agent picks another record)."""

    async def remove_call(self, activity_id: str) -> bool:
        """Delete a logged call activity; False if it no longer exists."""
        ...
