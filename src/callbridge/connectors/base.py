"""The connector protocol every CRM implements, and what a connector is given to work with.

A connector is built from an :class:`IntegrationContext` by a factory registered under the
``callbridge.connectors`` entry point group, and proves itself with ``callbridge.testing``'s
contract suite::

    def build(context: IntegrationContext) -> Connector:
        return MyCrmConnector(MyCrmClient(context.http, context.credentials["token"]))

Every method raises only the connector error kinds of :mod:`callbridge.errors`.

A capability is one protocol (:data:`PROTOCOLS`): a connector lists in ``capabilities`` exactly the
capabilities whose protocol it implements (the contract suite checks both ways), and the code asks
:func:`supports` before using one, never the set or ``isinstance`` by itself::

    if supports(connector, Capability.TASKS):
        await connector.create_task(draft)  # the type checker knows it is a SupportsTasks
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload, runtime_checkable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.domain.activity import ActivityDraft
from callbridge.domain.capability import Capability as Capability  # re-exported: its old home
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord
from callbridge.domain.task import NoteDraft, TaskDraft

if TYPE_CHECKING:  # only the type checker needs it: annotations are strings at run time
    from typing_extensions import TypeIs


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


@runtime_checkable
class SupportsPhoneSearch(Protocol):
    """A connector declaring ``Capability.FIND_BY_PHONE`` (every connector must)."""

    async def find_by_phone(self, phone: PhoneNumber) -> list[CrmRecord]:
        """Return every record whose phone numbers match ``phone``, whatever their stored format."""
        ...


@runtime_checkable
class SupportsCallLogging(Protocol):
    """A connector declaring ``Capability.LOG_CALL`` (every connector must)."""

    async def find_call(self, record_id: str, external_id: str) -> str | None:
        """Return the id of the activity logged on ``record_id`` for ``external_id``, if any."""
        ...

    async def log_call(self, activity: ActivityDraft) -> str:
        """Log a call activity (with its recording link, if any) and return the activity id."""
        ...


@runtime_checkable
class SupportsCallUpdates(Protocol):
    """A connector declaring ``Capability.UPDATE_CALL`` (every connector must)."""

    async def update_call(self, activity_id: str, activity: ActivityDraft) -> None:
        """Update a logged call activity with the latest data (recording, notes, tags...)."""
        ...


class Connector(SupportsPhoneSearch, SupportsCallLogging, SupportsCallUpdates, Protocol):
    """A CRM as Callbridge uses it: find by phone, log and update calls; the rest is optional."""

    capabilities: frozenset[Capability]

    async def check(self) -> None:
        """Verify the credentials work; raise AuthFailed with a message for the admin if not."""
        ...


@runtime_checkable
class SupportsContactCreation(Protocol):
    """A connector declaring ``Capability.CREATE_CONTACT``."""

    async def create_contact(self, draft: ContactDraft) -> CrmRecord:
        """Create a contact and return it."""
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
    """A connector declaring ``Capability.NOTES``."""

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
    """A connector declaring ``Capability.RECORD_LOOKUP``: one record by id, in its integration.

    Ids given by callers (click-to-dial, an agent's choice) are resolved with it: a record of
    another integration or company, or one deleted meanwhile, is None, never a foreign record.
    """

    async def get_record(self, record_id: str) -> CrmRecord | None:
        """Return the integration's record with this id, or None."""
        ...


@runtime_checkable
class SupportsActivityRemoval(Protocol):
    """A connector declaring ``Capability.ACTIVITY_REMOVAL``: delete a logged call.

    Used to move a call when an agent picks another record; without it the old activity stays.
    """

    async def remove_call(self, activity_id: str) -> bool:
        """Delete a logged call activity; False if it no longer exists."""
        ...


# The one table from capability to the protocol that carries it out.
PROTOCOLS: Mapping[Capability, type] = {
    Capability.FIND_BY_PHONE: SupportsPhoneSearch,
    Capability.CREATE_CONTACT: SupportsContactCreation,
    Capability.LOG_CALL: SupportsCallLogging,
    Capability.UPDATE_CALL: SupportsCallUpdates,
    Capability.DEALS: SupportsDeals,
    Capability.TASKS: SupportsTasks,
    Capability.NOTES: SupportsNotes,
    Capability.OWNERS: SupportsOwners,
    Capability.RECORD_LOOKUP: SupportsRecordLookup,
    Capability.ACTIVITY_REMOVAL: SupportsActivityRemoval,
}


# The overloads let the type checker narrow ``connector`` to the capability's protocol.
@overload
def supports(
    connector: object, capability: Literal[Capability.CREATE_CONTACT]
) -> TypeIs[SupportsContactCreation]: ...
@overload
def supports(connector: object, capability: Literal[Capability.DEALS]) -> TypeIs[SupportsDeals]: ...
@overload
def supports(connector: object, capability: Literal[Capability.TASKS]) -> TypeIs[SupportsTasks]: ...
@overload
def supports(connector: object, capability: Literal[Capability.NOTES]) -> TypeIs[SupportsNotes]: ...
@overload
def supports(
    connector: object, capability: Literal[Capability.OWNERS]
) -> TypeIs[SupportsOwners]: ...
@overload
def supports(
    connector: object, capability: Literal[Capability.RECORD_LOOKUP]
) -> TypeIs[SupportsRecordLookup]: ...
@overload
def supports(
    connector: object, capability: Literal[Capability.ACTIVITY_REMOVAL]
) -> TypeIs[SupportsActivityRemoval]: ...
@overload
def supports(connector: object, capability: Capability) -> bool: ...
def supports(connector: object, capability: Capability) -> bool:
    """Return True if the connector declares ``capability`` and implements its protocol."""
    declared: frozenset[Capability] = getattr(connector, "capabilities", frozenset())
    return capability in declared and _implements(connector, PROTOCOLS[capability])


# Classes whose every instance implements a protocol: a runtime protocol's isinstance looks up
# each of its members on every check (~30 µs), a dozen times a sync.
_IMPLEMENTED: set[tuple[type, type]] = set()


def _implements(connector: object, protocol: type) -> bool:
    """Return ``isinstance(connector, protocol)``, remembered for classes that define it all."""
    cls = type(connector)
    if (cls, protocol) in _IMPLEMENTED:
        return True
    if not isinstance(connector, protocol):
        return False
    members = [name for name in vars(protocol) if not name.startswith("_")]
    if all(callable(getattr(cls, name, None)) for name in members):  # not per instance
        _IMPLEMENTED.add((cls, protocol))
    return True


def supported(connector: Connector) -> frozenset[str]:
    """Return the names of every capability the connector supports (for plans and the API)."""
    return frozenset(c.value for c in Capability if supports(connector, c))
