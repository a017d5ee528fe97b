"""Employees ↔ the CRM's users of an integration: the mapping as found, and set by hand."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.matrix import owned_integration
from callbridge.connectors.base import Capability, supports
from callbridge.errors import ConnectorError
from callbridge.refusal_codes import refusal
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import sql, user_links
from callbridge.storage.accounts import list_rows
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import users
from callbridge.web.fields import PathId, Reference
from callbridge.web.refusals import AUTHENTICATED, BAD_GATEWAY, NOT_FOUND, refuse

router = APIRouter(
    prefix="/integrations/{integration_id}",
    tags=["matrix"],
    responses={**AUTHENTICATED, **NOT_FOUND},
)


class UserLink(BaseModel):
    """How an employee maps to one of the CRM's users."""

    id: int
    company_id: str
    integration_id: str
    user_id: str
    crm_user_id: str
    source: str = Field(description="manual, or how it was found automatically (e.g. email)")
    updated_at: datetime


class LinkSet(BaseModel):
    """The mapping just set by hand."""

    user_id: str
    crm_user_id: str
    source: str


class LinkIn(BaseModel):
    """The CRM user an employee is, set by hand."""

    crm_user_id: Reference


@router.get("/user-links")
async def list_links(
    integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> list[UserLink]:
    """List how the company's employees map to the CRM's users."""
    await owned_integration(runtime, who.company_id, integration_id)
    async with runtime.reads() as session:
        found = await sql.run(session, user_links.links, who.company_id, integration_id)
    return [UserLink.model_validate(row) for row in found.values()]


@router.put("/user-links/{user_id}", responses=BAD_GATEWAY)
async def set_link(
    integration_id: PathId, user_id: PathId, body: LinkIn, who: PrincipalDep, runtime: RuntimeDep
) -> LinkSet:
    """Map an employee to a CRM user by hand; automatic e-mail mapping never overrides it."""
    row = await owned_integration(runtime, who.company_id, integration_id)
    async with runtime.reads() as session:
        known = {u["id"] for u in await sql.run(session, list_rows, users, who.company_id)}
    if user_id not in known:
        raise HTTPException(404, refusal("no_user", user_id=user_id))
    await _crm_user_exists(runtime, row, body.crm_user_id)
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            user_links.set_link,
            who.company_id,
            integration_id,
            user_id,
            body.crm_user_id,
            "manual",
            runtime.clock(),
        )
    return LinkSet(user_id=user_id, crm_user_id=body.crm_user_id, source="manual")


async def _crm_user_exists(runtime: Runtime, integration: IntegrationRow, crm_user_id: str) -> None:
    """Refuse a CRM user the integration's CRM does not have (when it can list its users)."""
    connector = connector_for(runtime, integration)
    if not supports(connector, Capability.OWNERS):
        return
    try:
        known = {user.id for user in await connector.list_users()}
    except ConnectorError as err:
        raise HTTPException(502, refusal("crm_unreachable_users", reason=str(err))) from err
    if crm_user_id not in known:
        raise refuse(("body", "crm_user_id"), refusal("no_crm_user", crm_user_id=crm_user_id))
