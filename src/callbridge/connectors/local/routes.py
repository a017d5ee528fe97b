"""The local CRM's API: create, read, update, delete and search records by phone; deals by hand.

:func:`routers` builds the routes with the API's two request dependencies (a
:class:`~callbridge.connectors.spec.RouteHost`: who is asking, and the runtime), since the
connectors room never imports the API; field types and refusals come from
:mod:`callbridge.web` like every other route's. Each route takes a :class:`Local`, the
integration's client resolved by :func:`_local` (404 for no such integration of the company, 409
for one of another CRM).

The integration comes in as ``Depends(local)`` defaults rather than ``Annotated`` aliases: the
dependency is built from the host when :func:`routers` runs, and FastAPI resolves this module's
string annotations among its globals, where a name local to :func:`routers` is not.
"""

# ruff: noqa: B008 - ``Depends(...)`` defaults, for the reason above

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import Table

from callbridge.connectors.local.answers import (
    DealMade,
    DealRow,
    NoteRow,
    RecordPage,
    RecordShown,
    RecordWithActivities,
    SearchAnswer,
    TaskRow,
)
from callbridge.connectors.local.client import LocalCrmClient
from callbridge.connectors.local.followups import LocalFollowUps
from callbridge.connectors.local.tables import crm_deals, crm_notes, crm_tasks
from callbridge.connectors.spec import RouteHost
from callbridge.domain.deal import DealDraft
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import ObjectType
from callbridge.refusal_codes import refusal
from callbridge.storage import sql
from callbridge.storage.accounts import Principal
from callbridge.storage.integrations import get_integration
from callbridge.web.fields import Email, Id, Label, Limit, Name, Offset, PathId, Phone, RecordName
from callbridge.web.refusals import AUTHENTICATED, CONFLICT, NOT_FOUND, refuse

#: Every route here may find no such integration, or one that is not a local CRM (409).
RESPONSES: dict[int | str, dict[str, Any]] = {**AUTHENTICATED, **NOT_FOUND, **CONFLICT}
TAGS: list[str | Enum] = ["local CRM"]
#: The follow-ups listed by ``GET /integrations/{id}/<kind>``: their table and answer.
FOLLOWUPS: dict[str, tuple[Table, Any]] = {
    "deals": (crm_deals, list[DealRow]),
    "tasks": (crm_tasks, list[TaskRow]),
    "notes": (crm_notes, list[NoteRow]),
}


class RecordIn(BaseModel):
    """A local CRM record as created through the API; phones may be in any format."""

    object_type: ObjectType = ObjectType.CONTACT
    name: RecordName
    phones: list[Phone] = Field(default_factory=list, max_length=20)
    owner: Label | None = None
    email: Email | None = None


class RecordPatch(BaseModel):
    """Changes to a local CRM record."""

    name: RecordName | None = None
    phones: list[Phone] | None = Field(default=None, max_length=20)
    owner: Label | None = None


class DealIn(BaseModel):
    """A deal created by hand in the local CRM."""

    record_id: Id
    name: RecordName
    owner: Label | None = None
    stage: Annotated[Name, Field(max_length=100)] = "new"


class _Runtime(Protocol):
    """What the routes use of the process runtime."""

    sessions: Any
    reads: Any
    clock: Any


@dataclass(frozen=True)
class Local:
    """One local CRM integration of the caller's company, as a route reaches it."""

    client: LocalCrmClient
    followups: LocalFollowUps


def routers(host: RouteHost) -> list[APIRouter]:
    """Return the local CRM's routers: its records, then its deals, tasks and notes."""
    local = _local(host)
    records = APIRouter(
        prefix="/integrations/{integration_id}/records", tags=TAGS, responses=RESPONSES
    )
    _record_reads(records, local)  # first: ``/search`` is not a ``/{record_id}``
    _record_writes(records, local)
    followups = APIRouter(prefix="/integrations/{integration_id}", tags=TAGS, responses=RESPONSES)
    _followups(followups, local)
    return [records, followups]


def _local(host: RouteHost) -> Callable[..., Awaitable[Local]]:
    """Return the dependency resolving the path's integration for the authenticated company."""

    async def local(
        integration_id: PathId,
        who: Principal = Depends(host.principal),
        runtime: _Runtime = Depends(host.runtime),
    ) -> Local:
        async with runtime.reads() as session:
            row = await sql.run(session, get_integration, who.company_id, integration_id)
        if row is None:
            raise HTTPException(404, refusal("no_integration", integration_id=integration_id))
        if row["connector"] != "local":
            other = refusal("not_local", integration_id=integration_id, connector=row["connector"])
            raise HTTPException(409, other)
        scope = (runtime.sessions, who.company_id, integration_id)
        client = LocalCrmClient(*scope, row["default_region"], runtime.clock, runtime.reads)
        return Local(client, LocalFollowUps(*scope, runtime.clock))

    return local


def _record_reads(router: APIRouter, local: Callable[..., Awaitable[Local]]) -> None:
    """Add the routes reading records: list, search by phone, read one with its activities."""

    @router.get("")
    async def list_records(
        integration: Local = Depends(local),
        object_type: ObjectType | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> RecordPage:
        """List records, most recently updated first."""
        total, found = await integration.client.list_records(
            object_type=object_type, limit=limit, offset=offset
        )
        return RecordPage(total=total, records=[RecordShown.of(r) for r in found])

    @router.get("/search")
    async def search(
        phone: Annotated[Phone, Query()], integration: Local = Depends(local)
    ) -> SearchAnswer:
        """Find the records matching a phone number given in any format."""
        client = integration.client
        parsed = normalize(phone, client.region)
        if not isinstance(parsed, PhoneNumber):
            reason = refusal("not_matchable_number", number=phone, reason=parsed.reason)
            raise refuse(("query", "phone"), reason)
        found = await client.find_by_e164(parsed.e164)
        return SearchAnswer(e164=parsed.e164, records=[RecordShown.of(r) for r in found])

    @router.get("/{record_id}")
    async def read(record_id: PathId, integration: Local = Depends(local)) -> RecordWithActivities:
        """Show a record with its call activities."""
        record = await integration.client.get_record(record_id)
        if record is None:
            raise HTTPException(404, refusal("no_local_record", record_id=record_id))
        activities = await integration.client.list_activities(record_id)
        shown = RecordShown.of(record).model_dump()
        return RecordWithActivities.model_validate({**shown, "activities": activities})


def _record_writes(router: APIRouter, local: Callable[..., Awaitable[Local]]) -> None:
    """Add the routes writing records: create, change, delete."""

    @router.post("", status_code=201)
    async def create(body: RecordIn, integration: Local = Depends(local)) -> RecordShown:
        """Create a record; each phone is indexed by its E.164 form in the integration's region."""
        record = await integration.client.create_record(
            body.object_type, body.name, body.phones, owner=body.owner, email=body.email
        )
        return RecordShown.of(record)

    @router.patch("/{record_id}")
    async def change(
        record_id: PathId, body: RecordPatch, integration: Local = Depends(local)
    ) -> RecordShown:
        """Change a record's name, owner or phones."""
        record = await integration.client.update_record(
            record_id, name=body.name, owner=body.owner, phones=body.phones
        )
        if record is None:
            raise HTTPException(404, refusal("no_local_record", record_id=record_id))
        return RecordShown.of(record)

    @router.delete("/{record_id}", status_code=204)
    async def remove(record_id: PathId, integration: Local = Depends(local)) -> None:
        """Delete a record with its phones and activities."""
        if not await integration.client.delete_record(record_id):
            raise HTTPException(404, refusal("no_local_record", record_id=record_id))


def _followups(router: APIRouter, local: Callable[..., Awaitable[Local]]) -> None:
    """Add the route creating a deal by hand and those listing deals, tasks and notes."""

    @router.post("/deals", status_code=201)
    async def create_deal(body: DealIn, integration: Local = Depends(local)) -> DealMade:
        """Create a deal on a record (stages ``won`` and ``lost`` close it)."""
        if await integration.client.get_record(body.record_id) is None:
            # The path names the integration; a body id naming nothing is a wrong input (422).
            reason = refusal("no_local_record", record_id=body.record_id)
            raise refuse(("body", "record_id"), reason)
        draft = DealDraft(
            external_id=f"manual:{uuid.uuid4()}",
            name=body.name,
            record_id=body.record_id,
            owner=body.owner,
            stage=body.stage,
        )
        deal = await integration.followups.create_deal(draft)
        return DealMade(id=deal.id, name=deal.name, owner=deal.owner, stage=deal.stage)

    for kind, (table, answer) in FOLLOWUPS.items():
        router.add_api_route(
            f"/{kind}", _lister(kind, table, local), methods=["GET"], response_model=answer
        )


def _lister(
    kind: str, table: Table, local: Callable[..., Awaitable[Local]]
) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """Return the route listing one kind of follow-up (one each: an unknown kind is 405)."""

    async def followups(integration: Local = Depends(local)) -> list[dict[str, Any]]:
        return await integration.followups.rows(table)

    followups.__doc__ = f"List the local CRM's {kind}, oldest first."
    return followups
