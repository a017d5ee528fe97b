"""What the integrations routes answer: an integration, never its credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from callbridge.api.models import JsonShown
from callbridge.rules.policy import CreationPolicy


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
    status: str = Field(description="active, or paused (its reason in status_reason)")
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
    has_credentials: bool
    capabilities: list[str] = Field(description="What its connector can do (docs/connectors)")
    creation_policy_options: list[CreationPolicy]
    creation_policy_note: str | None = Field(description="Why only 'none' is offered, if so")
    crm_status: CrmStatus
