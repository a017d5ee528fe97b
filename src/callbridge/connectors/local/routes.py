"""The local CRM's API: create, read, update, delete and search records by phone.

:func:`routers` builds the routes with what the API hands them (a
:class:`~callbridge.connectors.spec.RouteHost`: its authentication and runtime dependencies, its
field types and refusals), since the connectors room never imports the API. The routes and their
bodies are declared inside it, and FastAPI reads their annotations when they are declared: so this
module does without ``from __future__ import annotations``, which would leave FastAPI names to look
up among this module's globals instead of the objects handed in.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_args

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from callbridge.connectors.local.client import LocalCrmClient
from callbridge.connectors.local.followups import LocalFollowUps
from callbridge.connectors.local.tables import crm_deals, crm_notes, crm_tasks
from callbridge.connectors.spec import RouteHost
from callbridge.domain.deal import DealDraft
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.storage.accounts import Principal
from callbridge.storage.integrations import get_integration

FOLLOWUP_TABLES = {"deals": crm_deals, "tasks": crm_tasks, "notes": crm_notes}


def routers(host: RouteHost) -> list[APIRouter]:
    """Return the local CRM's routers: its records, then its deals, tasks and notes."""
    return [_records(host), _followups(host)]


def _meta(annotated: Any) -> tuple[Any, ...]:
    """Return what an ``Annotated`` type of the API adds to its base type (validators, limits)."""
    return get_args(annotated)[1:]


def _responses(host: RouteHost) -> dict[int | str, dict[str, Any]]:
    """Every route here may find no such integration, or one that is not a local CRM (409)."""
    refusals = host.refusals
    return {**refusals.AUTHENTICATED, **refusals.NOT_FOUND, **refusals.CONFLICT}


async def _client(runtime: Any, company_id: str, integration_id: str) -> LocalCrmClient:
    async with runtime.reads() as session:
        row = await session.run_sync(get_integration, company_id, integration_id)
    if row is None:
        raise HTTPException(404, f"no integration {integration_id} in this company")
    if row["connector"] != "local":
        raise HTTPException(
            409,
            f"integration {integration_id} is a {row['connector']} "
            "integration; only local CRM integrations have records here",
        )
    return LocalCrmClient(
        runtime.sessions,
        company_id,
        integration_id,
        row["default_region"],
        runtime.clock,
        runtime.reads,
    )


def _show(record: CrmRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object_type": record.object_type,
        "name": record.name,
        "phones": list(record.phones),
        "owner": record.owner,
        "updated_at": record.updated_at,
    }


def _records(host: RouteHost) -> APIRouter:
    """Return the records' router: create, list, search by phone, read, change, delete."""
    fields, deps = host.fields, host.deps
    Who = Annotated[Principal, *_meta(deps.PrincipalDep)]
    Runtime = Annotated[Any, *_meta(deps.RuntimeDep)]
    PathId = Annotated[str, *_meta(fields.PathId)]
    RecordName = Annotated[str, *_meta(fields.RecordName)]
    Phone = Annotated[str, *_meta(fields.Phone)]
    Label = Annotated[str, *_meta(fields.Label)]
    Email = Annotated[str, *_meta(fields.Email)]
    Limit = Annotated[int, *_meta(fields.Limit)]
    Offset = Annotated[int, *_meta(fields.Offset)]

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

    router = APIRouter(
        prefix="/integrations/{integration_id}/records",
        tags=["local CRM"],
        responses=_responses(host),
    )

    @router.post("", status_code=201)
    async def create(
        integration_id: PathId, body: RecordIn, who: Who, runtime: Runtime
    ) -> dict[str, Any]:
        """Create a record; each phone is indexed by its E.164 form in the integration's region."""
        client = await _client(runtime, who.company_id, integration_id)
        record = await client.create_record(
            body.object_type, body.name, body.phones, owner=body.owner, email=body.email
        )
        return _show(record)

    @router.get("")
    async def list_records(
        integration_id: PathId,
        who: Who,
        runtime: Runtime,
        object_type: ObjectType | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """List records, most recently updated first."""
        client = await _client(runtime, who.company_id, integration_id)
        total, records = await client.list_records(
            object_type=object_type, limit=limit, offset=offset
        )
        return {"total": total, "records": [_show(r) for r in records]}

    @router.get("/search")
    async def search(
        integration_id: PathId,
        phone: Annotated[Phone, Query()],
        who: Who,
        runtime: Runtime,
    ) -> dict[str, Any]:
        """Find the records matching a phone number given in any format."""
        client = await _client(runtime, who.company_id, integration_id)
        parsed = normalize(phone, client.region)
        if not isinstance(parsed, PhoneNumber):
            raise host.refusals.refuse(
                ("query", "phone"), f"{phone!r} is not a matchable number ({parsed.reason})"
            )
        return {
            "e164": parsed.e164,
            "records": [_show(r) for r in await client.find_by_e164(parsed.e164)],
        }

    @router.get("/{record_id}")
    async def read(
        integration_id: PathId, record_id: PathId, who: Who, runtime: Runtime
    ) -> dict[str, Any]:
        """Show a record with its call activities."""
        client = await _client(runtime, who.company_id, integration_id)
        record = await client.get_record(record_id)
        if record is None:
            raise HTTPException(404, f"no record {record_id} in this integration")
        return {**_show(record), "activities": await client.list_activities(record_id)}

    @router.patch("/{record_id}")
    async def change(
        integration_id: PathId,
        record_id: PathId,
        body: RecordPatch,
        who: Who,
        runtime: Runtime,
    ) -> dict[str, Any]:
        """Change a record's name, owner or phones."""
        client = await _client(runtime, who.company_id, integration_id)
        record = await client.update_record(
            record_id, name=body.name, owner=body.owner, phones=body.phones
        )
        if record is None:
            raise HTTPException(404, f"no record {record_id} in this integration")
        return _show(record)

    @router.delete("/{record_id}", status_code=204)
    async def remove(integration_id: PathId, record_id: PathId, who: Who, runtime: Runtime) -> None:
        """Delete a record with its phones and activities."""
        client = await _client(runtime, who.company_id, integration_id)
        if not await client.delete_record(record_id):
            raise HTTPException(404, f"no record {record_id} in this integration")

    return router


def _followups(host: RouteHost) -> APIRouter:
    """Return the router of deals created by hand and of the lists of deals, tasks and notes."""
    fields, deps = host.fields, host.deps
    Who = Annotated[Principal, *_meta(deps.PrincipalDep)]
    Runtime = Annotated[Any, *_meta(deps.RuntimeDep)]
    PathId = Annotated[str, *_meta(fields.PathId)]
    Id = Annotated[str, *_meta(fields.Id)]
    RecordName = Annotated[str, *_meta(fields.RecordName)]
    Label = Annotated[str, *_meta(fields.Label)]
    Name = Annotated[str, *_meta(fields.Name)]

    class DealIn(BaseModel):
        """A deal created by hand in the local CRM."""

        record_id: Id
        name: RecordName
        owner: Label | None = None
        stage: Annotated[Name, Field(max_length=100)] = "new"

    router = APIRouter(
        prefix="/integrations/{integration_id}", tags=["local CRM"], responses=_responses(host)
    )

    @router.post("/deals", status_code=201)
    async def create_deal(
        integration_id: PathId, body: DealIn, who: Who, runtime: Runtime
    ) -> dict[str, Any]:
        """Create a deal on a record (stages ``won`` and ``lost`` close it)."""
        client = await _client(runtime, who.company_id, integration_id)
        if await client.get_record(body.record_id) is None:
            raise host.refusals.refuse(
                ("body", "record_id"), f"no record {body.record_id} in this integration"
            )
        store = LocalFollowUps(runtime.sessions, who.company_id, integration_id, runtime.clock)
        deal = await store.create_deal(
            DealDraft(
                external_id=f"manual:{uuid.uuid4()}",
                name=body.name,
                record_id=body.record_id,
                owner=body.owner,
                stage=body.stage,
            )
        )
        return {"id": deal.id, "name": deal.name, "owner": deal.owner, "stage": deal.stage}

    def lister(kind: str) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
        """Return the route listing one kind of follow-up (one each: an unknown kind is 405)."""

        async def followups(
            integration_id: PathId, who: Who, runtime: Runtime
        ) -> list[dict[str, Any]]:
            await _client(runtime, who.company_id, integration_id)
            store = LocalFollowUps(runtime.sessions, who.company_id, integration_id, runtime.clock)
            return await store.rows(FOLLOWUP_TABLES[kind])

        followups.__doc__ = f"List the local CRM's {kind}, oldest first."
        return followups

    for kind in FOLLOWUP_TABLES:
        router.add_api_route(f"/{kind}", lister(kind), methods=["GET"])
    return router
