"""A connector's own credentials and settings on the integration forms, and the grace window."""

from __future__ import annotations

import re

import pytest

from callbridge.connectors.registry import specs
from callbridge.ui import connector_fields
from tests.ui.ui_client import UiTenant

HEADERS = "Authorization"


async def _integration(acme: UiTenant, integration_id: str) -> dict[str, object]:
    headers = {HEADERS: f"Bearer {acme.company.api_key}"}
    answer = await acme.client.get(f"/integrations/{integration_id}", headers=headers)
    stored: dict[str, object] = answer.json()
    return stored


@pytest.mark.parametrize("key", sorted(specs()))
async def test_the_form_shows_the_fields_each_connector_declares(acme: UiTenant, key: str) -> None:
    await acme.sign_in()
    fragment = (
        await acme.client.get("/ui/integrations/new/fields", params={"connector": key})
    ).text
    spec = specs()[key]
    shown = set(re.findall(rf'name="credential\.{key}\.([a-z_]+)" type="(\w+)"', fragment))
    declared = spec.credentials.model_fields if spec.credentials else {}
    assert {name for name, _ in shown} == set(declared)
    for name, kind in shown:
        secret = connector_fields._kind(declared[name].annotation)[0] == "password"
        assert (kind == "password") is secret, name
    settings = set(re.findall(rf'name="setting\.{key}\.([a-z_0-9]+)"', fragment))
    assert settings == set(spec.settings.model_fields if spec.settings else {})
    if not declared:  # a connector declaring no credentials keeps the generic name/value rows
        assert 'name="credential_name_1"' in fragment


async def test_hubspot_settings_typed_on_the_form_are_stored(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    form = {
        "csrf": csrf,
        "connector": "hubspot",
        "name": "HubSpot",
        "language": "en",
        "default_region": "FR",
        "settings_of": "hubspot",
        "setting.hubspot.company_search": "never",
        "setting.hubspot.requests_per_10s": "50",
        "setting.hubspot.create_custom_properties": "1",
        "setting.hubspot.deal_stage": "",
    }
    made = await acme.client.post("/ui/integrations/new", data=form)
    assert made.status_code == 303, made.text
    integration_id = made.headers["location"].split("/")[-1].split("?")[0]
    config = (await _integration(acme, integration_id))["config"]
    assert isinstance(config, dict)
    assert config["company_search"] == "never" and config["requests_per_10s"] == 50
    assert config["create_custom_properties"] is True and "deal_stage" not in config
    page = (await acme.client.get(f"/ui/integrations/{integration_id}")).text
    assert 'value="50"' in page
    edit = {"csrf": csrf, "name": "HubSpot", "settings_of": "hubspot"}
    changed = {**edit, "setting.hubspot.company_search": "always"}
    saved = await acme.client.post(f"/ui/integrations/{integration_id}", data=changed)
    assert saved.status_code == 303, saved.text
    config = (await _integration(acme, integration_id))["config"]
    assert isinstance(config, dict) and config["company_search"] == "always"
    assert "requests_per_10s" not in config, "an emptied field goes back to the default"
    assert config["create_custom_properties"] is False, "an unticked box is false"


async def test_a_setting_the_connector_refuses_is_shown_and_a_secret_never_echoed(
    acme: UiTenant,
) -> None:
    csrf = await acme.sign_in()
    secret = "pat-typed-once-3f9a"
    form = {
        "csrf": csrf,
        "connector": "hubspot",
        "name": "HubSpot",
        "settings_of": "hubspot",
        "setting.hubspot.requests_per_10s": "1",
        "credential.hubspot.access_token": secret,
    }
    refused = await acme.client.post("/ui/integrations/new", data=form)
    assert refused.status_code == 422
    assert "requests_per_10s" in refused.text
    assert secret not in refused.text


async def test_the_selection_grace_window_is_editable(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    url = f"/ui/integrations/{acme.company.integration_id}"
    headers = {HEADERS: f"Bearer {acme.company.api_key}"}
    team = {"name": "Sales", "permissions": ["is_multicrm_sync"]}
    assert (await acme.client.post("/teams", json=team, headers=headers)).status_code == 201
    page = (await acme.client.get(url)).text
    assert 'name="selection_grace_seconds"' in page and 'value="60' in page
    form = {"csrf": csrf, "name": "Local CRM", "manual_offered": "1"}
    saved = await acme.client.post(url, data={**form, "selection_grace_seconds": "30"})
    assert saved.status_code == 303, saved.text
    config = (await _integration(acme, acme.company.integration_id))["config"]
    assert isinstance(config, dict) and config["selection_grace_seconds"] == 30
    for wrong in ("5000", "soon"):
        answer = await acme.client.post(url, data={**form, "selection_grace_seconds": wrong})
        assert answer.status_code == 422
        assert "selection_grace_seconds" in answer.text
    config = (await _integration(acme, acme.company.integration_id))["config"]
    assert isinstance(config, dict) and config["selection_grace_seconds"] == 30
