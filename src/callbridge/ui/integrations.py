"""Integrations: their health, and the edit page of their settings (applied on the next call)."""

from __future__ import annotations

import functools
from typing import Any

import phonenumbers
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from callbridge.api import integrations as api
from callbridge.api import staff as staff_api
from callbridge.api.deps import get_runtime
from callbridge.api.integration_models import IntegrationShown
from callbridge.api.integrations import IntegrationCreate, IntegrationSettings
from callbridge.connectors.registry import connectors
from callbridge.domain.phone import parse_e164
from callbridge.rules.agent_choice import DEFAULT_GRACE_SECONDS as DEFAULT_GRACE
from callbridge.rules.agent_choice import GRACE_OPTION
from callbridge.rules.policy import LANGUAGES, CreationPolicy, contact_name
from callbridge.ui import connector_fields as fields
from callbridge.ui.forms import (
    Answer,
    Refused,
    credentials_of,
    submit,
    text,
    through_api_or_not_found,
)
from callbridge.ui.i18n import language_of, translations
from callbridge.ui.integration_health import health
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui/integrations", include_in_schema=False)
#: The number shown in the name template's preview, written as created contacts' names write it.
SAMPLE_PHONE = parse_e164("+33612345678").international()
TEMPLATE_LENGTH = 200
#: The integration option letting agents choose records (docs/selection.md), in its config.
MANUAL = "select_contact_manually"
MULTICRM = "is_multicrm_sync"
#: The fields of the form connecting a CRM, and of the settings form, as the API names them.
NEW_FIELDS = ("connector", "name", "language", "default_region")
SETTINGS_FIELDS = ("name", "creation_policy", "name_template", "language", "default_region")


@router.get("")
async def listing(request: Request, admin: AdminDep) -> Response:
    """List the company's integrations with their health."""
    runtime = get_runtime(request)
    shown = await api.list_all(admin.principal, runtime)
    done = {k: request.query_params.get(k) == "1" for k in ("deleted", "switched")}
    language = language_of(request, admin.language)
    said = functools.partial(
        health,
        gettext=translations(language).gettext,
        language=language,
        now=runtime.clock(),
        zone=admin.time_zone,
    )
    rows = [(integration, said(integration)) for integration in shown]
    return page(request, "integrations.html", admin, integrations=rows, **done)


async def one_of_company(
    request: Request, integration_id: str, admin: Admin
) -> IntegrationShown | Response:
    """Return the company's integration, or the 404 page (another company's id included)."""
    read = api.read(integration_id, admin.principal, get_runtime(request))
    return await through_api_or_not_found(request, admin, read)


@router.get("/new")
async def new_form(request: Request, admin: AdminDep) -> Response:
    """Show the form connecting a CRM."""
    return _new_page(request, admin, {}, [])


def _new_page(
    request: Request, admin: Admin, values: dict[str, Any], errors: list[str]
) -> Response:
    current = {"connector": "", "name": "", "language": "en", "default_region": "US", **values}
    current["connector"] = current["connector"] or sorted(connectors())[0]
    return page(
        request,
        "integration_new.html",
        admin,
        status=422 if errors else 200,
        current=current,
        errors=errors,
        connectors=sorted(connectors()),
        languages_of_names=sorted(LANGUAGES),
        regions=sorted(phonenumbers.SUPPORTED_REGIONS),
        **_fields_context(current["connector"], {}, editing=False),
    )


def _fields_context(connector: str, config: dict[str, Any], *, editing: bool) -> dict[str, Any]:
    """Return what connector_fields.html shows: the connector's credentials and settings."""
    return {
        "connector": connector,
        "credential_fields": fields.credential_fields(connector),
        "setting_fields": fields.setting_fields(connector),
        "setting_values": fields.shown_settings(connector, config),
        "editing": editing,
    }


@router.get("/new/fields")
async def new_fields(request: Request, admin: AdminDep) -> Response:
    """Render the fields of the connector chosen on the form connecting a CRM (htmx fragment)."""
    connector = request.query_params.get("connector", "")
    connector = connector if connector in connectors() else sorted(connectors())[0]
    context = _fields_context(connector, {}, editing=False)
    return page(request, "connector_fields.html", admin, **context)


def _connector_values(form: FormData, connector: str, config: dict[str, Any]) -> dict[str, Any]:
    """Return the credentials and config typed in the connector's own fields, if any."""
    body: dict[str, Any] = {}
    declared = fields.credential_fields(connector)
    typed = fields.credentials_from(form, connector) if declared else credentials_of(form)
    if typed:
        body["credentials"] = typed
    if text(form, "settings_of") == connector:
        body["config"] = fields.settings_from(form, connector, config)
    return body


def _create_values(form: FormData) -> dict[str, Any]:
    values = {k: text(form, k) for k in NEW_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    return {**body, **_connector_values(form, body.get("connector", ""), {})}


@router.post("/new")
async def create(request: Request, admin: FormAdminDep) -> Response:
    """Connect a CRM through the API's own model and route (credentials tested first)."""
    return await submit(
        request,
        IntegrationCreate,
        _create_values,
        lambda body: api.create(body, admin.principal, get_runtime(request)),
        refused=lambda refused, form: _new_page(
            request, admin, {k: text(form, k) or "" for k in NEW_FIELDS}, refused.messages
        ),
        done=lambda made: RedirectResponse(f"/ui/integrations/{made.id}?saved=1", status_code=303),
    )


@router.get("/{integration_id}")
async def edit_form(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Show an integration's settings, editable."""
    found = await one_of_company(request, integration_id, admin)
    if isinstance(found, Response):
        return found
    saved = request.query_params.get("saved") == "1"
    return await _edit_page(request, admin, found, saved=saved)


async def _manual_choice_offered(request: Request, admin: Admin) -> bool:
    """Tell whether a team may choose records (so the integration option means something)."""
    teams = await staff_api.list_teams(admin.principal, get_runtime(request))
    return any(MULTICRM in team.permissions for team in teams)


async def _edit_page(
    request: Request,
    admin: Admin,
    integration: IntegrationShown,
    *,
    saved: bool = False,
    errors: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    current = {
        "name": integration.name,
        "creation_policy": integration.creation_policy.value,
        "name_template": integration.name_template or "",
        "language": integration.language,
        "default_region": integration.default_region,
        "manual": integration.config.get(MANUAL) is True,
        "grace": integration.config.get(GRACE_OPTION, DEFAULT_GRACE),
        **(values or {}),
    }
    return page(
        request,
        "integration_edit.html",
        admin,
        status=422 if errors else 200,
        integration=integration,
        current=current,
        saved=saved,
        errors=errors or [],
        policies=[p.value for p in CreationPolicy],
        languages_of_names=sorted(LANGUAGES),
        regions=sorted(phonenumbers.SUPPORTED_REGIONS),
        preview=contact_name(current["language"], current["name_template"], SAMPLE_PHONE),
        sample_phone=SAMPLE_PHONE,
        manual_offered=await _manual_choice_offered(request, admin),
        **_fields_context(integration.connector, dict(integration.config), editing=True),
    )


def _settings_values(form: FormData) -> dict[str, Any]:
    return {k: text(form, k) for k in SETTINGS_FIELDS}


def _settings_body(found: IntegrationShown, form: FormData) -> dict[str, Any]:
    values = _settings_values(form)
    body = {k: v for k, v in values.items() if v is not None or k == "name_template"}
    connector = _connector_values(form, found.connector, dict(found.config))
    config: dict[str, Any] = connector.pop("config", dict(found.config))
    if "manual_offered" in form and (MANUAL in form) != (config.get(MANUAL) is True):
        config[MANUAL] = MANUAL in form
    grace = text(form, GRACE_OPTION)
    if grace is not None and fields.number(grace) != config.get(GRACE_OPTION, DEFAULT_GRACE):
        config[GRACE_OPTION] = fields.number(grace)
    if config != found.config:
        body["config"] = config
    return {**body, **connector}


@router.post("/{integration_id}")
async def save(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Save the settings through the API's own model and route: its rules, its refusals."""
    found = await one_of_company(request, integration_id, admin)
    if isinstance(found, Response):
        return found

    def refused(refused: Refused, form: FormData) -> Answer:
        shown: dict[str, Any] = {k: v or "" for k, v in _settings_values(form).items()}
        shown["manual"] = MANUAL in form
        shown["grace"] = text(form, GRACE_OPTION) or ""
        return _edit_page(request, admin, found, errors=refused.messages, values=shown)

    return await submit(
        request,
        IntegrationSettings,
        functools.partial(_settings_body, found),
        lambda body: api.change(integration_id, body, admin.principal, get_runtime(request)),
        refused=refused,
        done=lambda _shown: RedirectResponse(
            f"/ui/integrations/{integration_id}?saved=1", status_code=303
        ),
    )


@router.get("/{integration_id}/preview")
async def preview(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Render the name a created contact would get with the typed template (htmx fragment)."""
    found = await one_of_company(request, integration_id, admin)
    if isinstance(found, Response):
        return found
    template = (request.query_params.get("name_template") or "")[:TEMPLATE_LENGTH]
    language = request.query_params.get("language", found.language)
    language = language if language in LANGUAGES else found.language
    name = contact_name(language, template.strip() or None, SAMPLE_PHONE)
    return page(request, "name_preview.html", admin, preview=name, sample_phone=SAMPLE_PHONE)
