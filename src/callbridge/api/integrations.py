"""Integrations: connect a CRM and set its region, language and contact creation policy."""

from __future__ import annotations

from typing import Annotated, Any

import phonenumbers
from fastapi import APIRouter, HTTPException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    JsonValue,
    SecretStr,
    field_validator,
)

from callbridge.api import integration_lifecycle
from callbridge.api.credentials import check_and_seal, check_config
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.integration_models import (
    IntegrationShown,
    capabilities_of,
    show,
    shown,
)
from callbridge.connectors.base import UNSAVED_ID, Capability
from callbridge.connectors.registry import connectors
from callbridge.queue import breaker, jobs
from callbridge.refusal_codes import refusal
from callbridge.rules.policy import LANGUAGES, CreationPolicy
from callbridge.storage import integrations as repo
from callbridge.storage import sql
from callbridge.storage.integrations import ACTIVE, DISABLED
from callbridge.web.fields import STORABLE_PATTERN, JsonObject, Name, PathId, Storable, storable
from callbridge.web.refusals import (
    AUTHENTICATED,
    BAD_GATEWAY,
    CONFLICT,
    NOT_FOUND,
    invalid,
    refuse,
)

router = APIRouter(tags=["integrations"], responses=AUTHENTICATED)
#: Regions as the JSON Schema lists them: ISO 3166 codes phonenumbers knows, either case.
REGIONS: list[JsonValue] = [
    *sorted(phonenumbers.SUPPORTED_REGIONS),
    *sorted(r.lower() for r in phonenumbers.SUPPORTED_REGIONS),
]
#: A credential value: storable, and short enough for any token a CRM issues.
SecretText = Annotated[
    SecretStr,
    BeforeValidator(storable),
    Field(max_length=4000, json_schema_extra={"pattern": STORABLE_PATTERN}),
]
#: A credential's name, e.g. ``token``.
SecretName = Annotated[str, BeforeValidator(storable), Field(max_length=100)]


def _known_region(value: str) -> str:
    if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise invalid("unknown_region", region=value)
    return value.upper()


def _known_language(value: str) -> str:
    if value not in LANGUAGES:
        raise invalid(
            "unsupported_language", language=value, languages=", ".join(sorted(LANGUAGES))
        )
    return value


#: An ISO 3166 region phonenumbers knows, in either case; stored upper case.
Region = Annotated[str, AfterValidator(_known_region), Field(json_schema_extra={"enum": REGIONS})]
#: A language contact names are written in.
Language = Annotated[
    str,
    AfterValidator(_known_language),
    Field(json_schema_extra={"enum": [*sorted(LANGUAGES)]}),
]
#: Free-form connector settings; the selection options are checked as documented here.
Config = Annotated[
    JsonObject,
    Field(
        json_schema_extra={
            "properties": {
                "select_contact_manually": {"type": "boolean"},
                "selection_grace_seconds": {"type": "number", "minimum": 0, "maximum": 3600},
            },
        }
    ),
]


class IntegrationSettings(BaseModel):
    """Settings an admin may change; a change applies to the next call processed."""

    name: Name | None = None
    credentials: dict[SecretName, SecretText] | None = Field(
        default=None,
        max_length=20,
        description="Connector credentials; tested before saving, never shown.",
        json_schema_extra={"propertyNames": {"maxLength": 100, "pattern": STORABLE_PATTERN}},
    )
    default_region: Region | None = Field(default=None, description="ISO 3166 region, e.g. FR")
    language: Language | None = Field(default=None, description="en, fr or es")
    name_template: Annotated[Storable, Field(max_length=200)] | None = Field(
        default=None,
        description="Name of created contacts; {default} and {phone} are replaced.",
    )
    creation_policy: CreationPolicy | None = None
    config: Config | None = None

    @field_validator("config")
    @classmethod
    def _selection_options(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value and not isinstance(value.get("select_contact_manually", False), bool):
            raise invalid("selection_option_not_bool")
        grace = (value or {}).get("selection_grace_seconds", 60)
        if isinstance(grace, bool) or not isinstance(grace, int | float) or not 0 <= grace <= 3600:
            raise invalid("selection_grace_range")
        return value


class IntegrationCreate(IntegrationSettings):
    """A new integration: which connector, and its settings."""

    connector: str = Field(
        description="Registry key of the CRM connector, e.g. local",
        json_schema_extra={"enum": [*sorted(connectors())]},
    )
    name: Name
    default_region: Region = "US"
    language: Language = "en"
    creation_policy: CreationPolicy = CreationPolicy.ALL


@router.post("/integrations", status_code=201, responses=BAD_GATEWAY)
async def create(
    body: IntegrationCreate, who: PrincipalDep, runtime: RuntimeDep
) -> IntegrationShown:
    """Connect a CRM to the company."""
    if body.connector not in connectors():
        installed = ", ".join(sorted(connectors()))
        unknown = refusal("unknown_connector", connector=body.connector, installed=installed)
        raise refuse(("body", "connector"), unknown)
    values = body.model_dump(exclude={"credentials"})
    values["config"] = values["config"] or {}
    unsaved = {"id": UNSAVED_ID, "company_id": who.company_id}
    trial = {"credentials_encrypted": None, **values, **unsaved}
    check_config(runtime, {**trial, "config": {}}, trial)
    if body.credentials is not None:
        trial = {**values, "id": UNSAVED_ID, "company_id": who.company_id}
        values["credentials_encrypted"] = await check_and_seal(runtime, trial, body.credentials)
    trial = {
        "credentials_encrypted": None,
        **values,
        "id": UNSAVED_ID,
        "company_id": who.company_id,
    }
    creates = Capability.CREATE_CONTACT in capabilities_of(runtime, trial)
    if body.creation_policy is not CreationPolicy.NONE and not creates:
        raise refuse(("body", "creation_policy"), refusal("no_creation"))
    async with runtime.sessions.begin() as session:
        integration_id = await sql.run(
            session,
            repo.create_integration,
            who.company_id,
            runtime.clock(),
            status="active",
            **values,
        )
    return await read(integration_id, who, runtime)


@router.get("/integrations")
async def list_all(who: PrincipalDep, runtime: RuntimeDep) -> list[IntegrationShown]:
    """List the company's integrations."""
    async with runtime.reads() as session:
        rows = await sql.run(session, repo.list_integrations, who.company_id)
        down = await sql.run(session, breaker.states, who.company_id)
    return [shown(row, runtime, down) for row in rows]


@router.get("/integrations/{integration_id}", responses=NOT_FOUND)
async def read(integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> IntegrationShown:
    """Show one integration."""
    return await show(runtime, who.company_id, integration_id)


@router.patch("/integrations/{integration_id}", responses={**NOT_FOUND, **BAD_GATEWAY})
async def change(
    integration_id: PathId, body: IntegrationSettings, who: PrincipalDep, runtime: RuntimeDep
) -> IntegrationShown:
    """Change an integration's settings; the next call processed uses them."""
    # null resets the name template; every other setting has no "unset" state to go back to
    values = {
        key: value
        for key, value in body.model_dump(exclude_unset=True, exclude={"credentials"}).items()
        if value is not None or key == "name_template"
    }
    if "config" in values:
        async with runtime.reads() as session:
            stored = await sql.run(session, repo.get_integration, who.company_id, integration_id)
        if stored is not None:
            check_config(runtime, stored, {**stored, **values})
    if values.get("creation_policy") not in (None, CreationPolicy.NONE):
        current = await read(integration_id, who, runtime)
        if Capability.CREATE_CONTACT not in current.capabilities:
            raise refuse(("body", "creation_policy"), refusal("no_creation"))
    if body.credentials is not None:
        current = await read(integration_id, who, runtime)
        merged = {**current.model_dump(), **values, "credentials_encrypted": None}
        values["credentials_encrypted"] = await check_and_seal(runtime, merged, body.credentials)
        if current.status == "paused":  # only refused credentials pause; the CRM took these
            values |= {"status": "active", "status_reason": None, "status_reason_code": None}
    async with runtime.sessions.begin() as session:
        found = await sql.run(
            session,
            repo.update_integration,
            who.company_id,
            integration_id,
            runtime.clock(),
            **values,
        )
    if not found:
        raise HTTPException(404, refusal("no_integration", integration_id=integration_id))
    if values.get("status") == "active":  # its calls waited while it was paused
        await runtime.queue.wake(jobs.sync_lock_prefix(integration_id))
    return await read(integration_id, who, runtime)


@router.post("/integrations/{integration_id}/resume", responses={**NOT_FOUND, **CONFLICT})
async def resume(
    integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> IntegrationShown:
    """Resume a paused integration (after fixing its credentials); a disabled one is a 409."""
    resumed = await integration_lifecycle.set_status(
        runtime, who.company_id, integration_id, unless_status=DISABLED, status=ACTIVE,
        status_reason=None, status_reason_code=None,
    )  # fmt: skip
    current = await show(runtime, who.company_id, integration_id)
    if not resumed:  # it exists (else show answered 404), so it is disabled
        reason = current.status_reason or ""
        raise HTTPException(
            409, refusal("integration_disabled", integration_id=integration_id, reason=reason)
        )
    await runtime.queue.wake(jobs.sync_lock_prefix(integration_id))  # its waiting calls
    return current


router.include_router(integration_lifecycle.router)
