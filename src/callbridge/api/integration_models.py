"""What the integrations routes answer: an integration, never its credentials."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field

from callbridge.api.models import JsonShown
from callbridge.connectors.base import Capability, supported
from callbridge.queue import breaker
from callbridge.refusal_codes import refusal
from callbridge.rules.policy import CreationPolicy
from callbridge.runtime import Runtime
from callbridge.storage import integrations as repo
from callbridge.storage import sql
from callbridge.storage.integrations import IntegrationRow

NO_CREATION = (
    "this CRM connection cannot create contacts (the connector does not declare it, or its "
    "token lacks the scope), so the only creation policy offered is 'none'"
)


class CrmStatus(BaseModel):
    """Whether the integration's CRM answers, as its circuit breaker sees it."""

    state: Literal["reachable", "unreachable", "probing"]
    since: datetime | None = Field(description="The first failure of the outage going on")
    next_probe_at: datetime | None = Field(description="When a sync tries the CRM again")
    message: str | None = Field(description='"CRM unreachable since …", or None')


class IntegrationShown(BaseModel):
    """An integration as the API shows it: never its credentials."""

    id: str
    company_id: str
    connector: str = Field(description="Registry key of the CRM connector")
    name: str
    default_region: str
    language: str
    name_template: str | None
    creation_policy: CreationPolicy
    config: JsonShown
    status: Literal["active", "paused", "disabled"] = Field(
        description="active; paused: the CRM refused the credentials (its calls wait); "
        "disabled by an admin (no call is synced to it); the reason in status_reason"
    )
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
    status_reason_code: str | None = Field(
        description="status_reason as a code: credentials_refused, no_credentials, "
        "token_refresh_refused (paused), disabled_by_admin; null for a reason stored before "
        "the codes"
    )
    limited_until: datetime | None = Field(
        description="The CRM account's daily API limit is used up until then (its syncs wait); "
        "a past time means the limit is over"
    )
    has_credentials: bool
    capabilities: list[str] = Field(description="What its connector can do (docs/connectors)")
    creation_policy_options: list[CreationPolicy]
    creation_policy_note: str | None = Field(description="Why only 'none' is offered, if so")
    crm_status: CrmStatus


class IntegrationDeleted(BaseModel):
    """A deleted integration: what went with it. The calls stay, without its syncs."""

    id: str
    removed: dict[str, int] = Field(
        description="Rows deleted with it, by table (its syncs, links, claims, choices, user "
        "links, matrix versions and its connector's own tables); tables with none are left out"
    )


def present(row: IntegrationRow, runtime: Runtime) -> dict[str, Any]:
    """Return an integration as the API shows it: never its credentials."""
    shown: dict[str, Any] = {k: v for k, v in row.items() if k != "credentials_encrypted"}
    shown["has_credentials"] = row.get("credentials_encrypted") is not None
    capabilities = capabilities_of(runtime, row)
    shown["capabilities"] = sorted(capabilities)
    creates = Capability.CREATE_CONTACT in capabilities
    shown["creation_policy_options"] = [p.value for p in CreationPolicy] if creates else ["none"]
    shown["creation_policy_note"] = None if creates else NO_CREATION
    return shown


def capabilities_of(runtime: Runtime, row: Mapping[str, Any]) -> frozenset[str]:
    """Return what the integration's connector supports (nothing if it cannot be built).

    ``row`` is a stored ``IntegrationRow`` or an unsaved trial of one.
    """
    from callbridge.runtime.connectors import connector_for

    try:
        return supported(connector_for(runtime, row))
    except Exception:  # a connector that is not installed any more, or bad stored settings
        return frozenset()


def shown(
    row: IntegrationRow, runtime: Runtime, down: dict[str, dict[str, Any]]
) -> IntegrationShown:
    """Return the answer showing a stored integration, with whether its CRM answers."""
    answer = present(row, runtime)
    reachable = {"state": "reachable", "since": None, "next_probe_at": None, "message": None}
    answer["crm_status"] = down.get(row["id"], reachable)  # "CRM unreachable since …"
    return IntegrationShown.model_validate(answer)


async def show(runtime: Runtime, company_id: str, integration_id: str) -> IntegrationShown:
    """Return one integration of the company as the API shows it; 404 if it has none such."""
    async with runtime.reads() as session:
        row = await sql.run(session, repo.get_integration, company_id, integration_id)
        down = await sql.run(session, breaker.states, company_id)
    if row is None:
        raise HTTPException(404, refusal("no_integration", integration_id=integration_id))
    return shown(row, runtime, down)
