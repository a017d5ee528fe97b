"""Integrations: connect a CRM and set its region, language and contact creation policy."""

from __future__ import annotations

from typing import Any

import phonenumbers
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, SecretStr, field_validator

from callbridge.api.credentials import check_and_seal
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.connectors.base import UNSAVED_ID
from callbridge.connectors.registry import connectors
from callbridge.queue import breaker
from callbridge.rules.policy import LANGUAGES, CreationPolicy
from callbridge.runtime import Runtime
from callbridge.storage import integrations as repo

router = APIRouter(tags=["integrations"])


class IntegrationSettings(BaseModel):
    """Settings an admin may change; a change applies to the next call processed."""

    name: str | None = Field(default=None, max_length=200)
    credentials: dict[str, SecretStr] | None = Field(
        default=None, description="Connector credentials; tested before saving, never shown."
    )
    default_region: str | None = Field(default=None, description="ISO 3166 region, e.g. FR")
    language: str | None = Field(default=None, description="en, fr or es")
    name_template: str | None = Field(
        default=None,
        max_length=200,
        description="Name of created contacts; {default} and {phone} are replaced.",
    )
    creation_policy: CreationPolicy | None = None
    config: dict[str, Any] | None = None

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}: use an ISO 3166 code such as US or FR")
        return value.upper() if value else value

    @field_validator("config")
    @classmethod
    def _selection_options(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value and not isinstance(value.get("select_contact_manually", False), bool):
            raise ValueError("select_contact_manually must be true or false")
        grace = (value or {}).get("selection_grace_seconds", 60)
        if isinstance(grace, bool) or not isinstance(grace, int | float) or not 0 <= grace <= 3600:
            raise ValueError("selection_grace_seconds must be a number of seconds, 0 to 3600")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"unsupported language {value!r}: use one of {sorted(LANGUAGES)}")
        return value


class IntegrationCreate(IntegrationSettings):
    """A new integration: which connector, and its settings."""

    connector: str = Field(description="Registry key of the CRM connector, e.g. local")
    name: str = Field(max_length=200)
    default_region: str = "US"
    language: str = "en"
    creation_policy: CreationPolicy = CreationPolicy.ALL


NO_CREATION = (
    "this CRM connection cannot create contacts (the connector does not declare it, or its "
    "token lacks the scope), so the only creation policy offered is 'none'"
)


def present(row: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Return an integration as the API shows it: never its credentials."""
    shown = {k: v for k, v in row.items() if k != "credentials_encrypted"}
    shown["has_credentials"] = row.get("credentials_encrypted") is not None
    capabilities = _capabilities(runtime, row)
    shown["capabilities"] = sorted(capabilities)
    creates = "create_contact" in capabilities
    shown["creation_policy_options"] = [p.value for p in CreationPolicy] if creates else ["none"]
    shown["creation_policy_note"] = None if creates else NO_CREATION
    return shown


def _capabilities(runtime: Runtime, row: dict[str, Any]) -> frozenset[str]:
    """Return what the integration's connector declares (nothing if it cannot be built)."""
    from callbridge.sync import connector_for

    try:
        return frozenset(str(c) for c in connector_for(runtime, row).capabilities)
    except Exception:  # a connector that is not installed any more, or bad stored settings
        return frozenset()


@router.post("/integrations", status_code=201)
async def create(body: IntegrationCreate, who: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Connect a CRM to the company."""
    if body.connector not in connectors():
        raise HTTPException(
            422,
            f"connector: unknown {body.connector!r}; installed: {', '.join(sorted(connectors()))}",
        )
    values = body.model_dump(exclude={"credentials"})
    values["config"] = values["config"] or {}
    if body.credentials is not None:
        trial = {**values, "id": UNSAVED_ID, "company_id": who.company_id}
        values["credentials_encrypted"] = await check_and_seal(runtime, trial, body.credentials)
    trial = {
        "credentials_encrypted": None,
        **values,
        "id": UNSAVED_ID,
        "company_id": who.company_id,
    }
    creates = "create_contact" in _capabilities(runtime, trial)
    if body.creation_policy is not CreationPolicy.NONE and not creates:
        raise HTTPException(422, f"creation_policy: {NO_CREATION}")
    async with runtime.sessions.begin() as session:
        integration_id = await repo.create_integration(
            session, who.company_id, runtime.clock(), status="active", **values
        )
    return await read(integration_id, who, runtime)


@router.get("/integrations")
async def list_all(who: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """List the company's integrations."""
    async with runtime.reads() as session:
        rows = await session.run_sync(repo.list_integrations, who.company_id)
        down = await session.run_sync(breaker.states, who.company_id)
    return [_with_crm_status(present(row, runtime), down) for row in rows]


def _with_crm_status(shown: dict[str, Any], down: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Add whether the integration's CRM answers ("CRM unreachable since …" when it does not)."""
    reachable = {"state": "reachable", "since": None, "next_probe_at": None, "message": None}
    shown["crm_status"] = down.get(shown["id"], reachable)
    return shown


@router.get("/integrations/{integration_id}")
async def read(integration_id: str, who: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Show one integration."""
    async with runtime.reads() as session:
        row = await session.run_sync(repo.get_integration, who.company_id, integration_id)
        down = await session.run_sync(breaker.states, who.company_id)
    if row is None:
        raise HTTPException(404, f"no integration {integration_id} in this company")
    return _with_crm_status(present(row, runtime), down)


@router.patch("/integrations/{integration_id}")
async def change(
    integration_id: str, body: IntegrationSettings, who: PrincipalDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Change an integration's settings; the next call processed uses them."""
    values = body.model_dump(exclude_unset=True, exclude={"credentials"})
    if values.get("creation_policy") not in (None, CreationPolicy.NONE):
        current = await read(integration_id, who, runtime)
        if "create_contact" not in current["capabilities"]:
            raise HTTPException(422, f"creation_policy: {NO_CREATION}")
    if body.credentials is not None:
        current = await read(integration_id, who, runtime)
        merged = {**current, **values, "credentials_encrypted": None}
        values["credentials_encrypted"] = await check_and_seal(runtime, merged, body.credentials)
        if current["status"] == "paused":  # only refused credentials pause; the CRM took these
            values |= {"status": "active", "status_reason": None}
    async with runtime.sessions.begin() as session:
        found = await repo.update_integration(
            session, who.company_id, integration_id, runtime.clock(), **values
        )
    if not found:
        raise HTTPException(404, f"no integration {integration_id} in this company")
    if values.get("status") == "active":  # its calls waited while it was paused
        await runtime.queue.wake(breaker.sync_lock_prefix(integration_id))
    return await read(integration_id, who, runtime)


@router.post("/integrations/{integration_id}/resume")
async def resume(integration_id: str, who: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Resume a paused integration (after fixing its credentials)."""
    async with runtime.sessions.begin() as session:
        found = await repo.update_integration(
            session,
            who.company_id,
            integration_id,
            runtime.clock(),
            status="active",
            status_reason=None,
        )
    if not found:
        raise HTTPException(404, f"no integration {integration_id} in this company")
    await runtime.queue.wake(breaker.sync_lock_prefix(integration_id))  # its waiting calls
    return await read(integration_id, who, runtime)
