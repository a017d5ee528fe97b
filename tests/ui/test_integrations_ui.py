"""The integrations screens: health, the settings form saved through the API's rules, tenancy."""

from __future__ import annotations

import httpx

from tests.ui.ui_client import UiTenant


async def _stored(acme: UiTenant) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    answer = await acme.client.get(f"/integrations/{acme.company.integration_id}", headers=headers)
    stored: dict[str, object] = answer.json()
    return stored


async def test_the_list_shows_each_integration_and_its_health(acme: UiTenant) -> None:
    await acme.sign_in()
    page = await acme.client.get("/ui/integrations")
    assert page.status_code == 200
    assert f"/ui/integrations/{acme.company.integration_id}" in page.text
    assert "Active" in page.text


async def test_a_paused_integration_shows_its_reason_the_fix_and_resumes(acme: UiTenant) -> None:
    from callbridge.storage import integrations as repo
    from callbridge.storage import sql

    transport = acme.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    runtime = transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            repo.update_integration,
            acme.company.company_id,
            acme.company.integration_id,
            runtime.clock(),
            status="paused",
            status_reason="CRM refused the credentials: token expired",
        )
    csrf = await acme.sign_in()
    page = await acme.client.get("/ui/integrations")
    assert "Paused" in page.text
    assert "token expired" in page.text
    assert "resume" in page.text.lower()
    answer = await acme.client.post(
        f"/ui/integrations/{acme.company.integration_id}/resume", data={"csrf": csrf}
    )
    assert answer.status_code == 303
    assert (await _stored(acme))["status"] == "active"


async def test_saving_the_settings_stores_them(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    form = await acme.client.get(f"/ui/integrations/{acme.company.integration_id}")
    for policy in ("all", "incoming", "outgoing", "missed", "answered", "none"):
        assert f'value="{policy}"' in form.text
    answer = await acme.client.post(
        f"/ui/integrations/{acme.company.integration_id}",
        data={
            "csrf": csrf,
            "name": "Sales CRM",
            "creation_policy": "missed",
            "name_template": "{default} {phone}",
            "language": "fr",
            "default_region": "FR",
        },
    )
    assert answer.status_code == 303
    saved = await acme.client.get(answer.headers["location"])
    assert "Saved" in saved.text
    stored = await _stored(acme)
    assert stored["name"] == "Sales CRM"
    assert stored["creation_policy"] == "missed"
    assert stored["name_template"] == "{default} {phone}"
    assert stored["language"] == "fr"
    assert stored["default_region"] == "FR"


async def test_the_apis_refusal_is_shown_and_nothing_is_saved(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    answer = await acme.client.post(
        f"/ui/integrations/{acme.company.integration_id}",
        data={"csrf": csrf, "name": "Renamed", "default_region": "ZZ", "language": "en"},
    )
    assert answer.status_code == 422
    assert "unknown region" in answer.text
    assert (await _stored(acme))["name"] != "Renamed"


async def test_the_name_preview_follows_the_template_and_language(acme: UiTenant) -> None:
    await acme.sign_in()
    url = f"/ui/integrations/{acme.company.integration_id}/preview"
    answer = await acme.client.get(
        url, params={"name_template": "{default} ({phone})", "language": "es"}
    )
    assert answer.status_code == 200
    assert "Nuevo contacto Callbridge (+33 6 12 34 56 78)" in answer.text
    empty = await acme.client.get(url, params={"name_template": "", "language": "fr"})
    assert "Nouveau contacto" not in empty.text
    assert "Nouveau contact Callbridge" in empty.text


async def test_another_companys_integration_is_not_found(acme: UiTenant, globex: UiTenant) -> None:
    csrf = await acme.sign_in()
    foreign = globex.company.integration_id
    for url in (f"/ui/integrations/{foreign}", f"/ui/integrations/{foreign}/preview"):
        assert (await acme.client.get(url)).status_code == 404
    posted = await acme.client.post(
        f"/ui/integrations/{foreign}", data={"csrf": csrf, "name": "Taken over"}
    )
    assert posted.status_code == 404
    resumed = await acme.client.post(f"/ui/integrations/{foreign}/resume", data={"csrf": csrf})
    assert resumed.status_code == 404


async def test_manual_selection_is_offered_once_a_team_has_the_permission(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    url = f"/ui/integrations/{acme.company.integration_id}"
    before = await acme.client.get(url)
    assert 'name="select_contact_manually"' not in before.text
    assert "grant it in Teams and users" in before.text
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    team = {"name": "Sales", "permissions": ["is_multicrm_sync"]}
    assert (await acme.client.post("/teams", json=team, headers=headers)).status_code == 201
    offered = await acme.client.get(url)
    assert 'name="select_contact_manually"' in offered.text
    form = {"csrf": csrf, "name": "Local CRM", "manual_offered": "1"}
    on = await acme.client.post(url, data={**form, "select_contact_manually": "1"})
    assert on.status_code == 303
    config = (await _stored(acme))["config"]
    assert isinstance(config, dict) and config["select_contact_manually"] is True
    assert "checked" in (await acme.client.get(url)).text.split('id="manual"')[1][:80]
    assert (await acme.client.post(url, data=form)).status_code == 303
    config = (await _stored(acme))["config"]
    assert isinstance(config, dict) and config["select_contact_manually"] is False


async def test_a_crm_is_connected_from_the_screen(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    assert (await acme.client.get("/ui/integrations/new")).status_code == 200
    form = {"csrf": csrf, "connector": "local", "name": "Second CRM", "language": "es"}
    made = await acme.client.post("/ui/integrations/new", data={**form, "default_region": "ES"})
    assert made.status_code == 303, made.text
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    listed = (await acme.client.get("/integrations", headers=headers)).json()
    [second] = [i for i in listed if i["name"] == "Second CRM"]
    assert (second["connector"], second["language"], second["default_region"]) == (
        "local",
        "es",
        "ES",
    )
    assert made.headers["location"] == f"/ui/integrations/{second['id']}?saved=1"
    unknown = await acme.client.post(
        "/ui/integrations/new", data={**form, "connector": "nocrm", "name": "X"}
    )
    assert unknown.status_code == 422
    assert "connector" in unknown.text


async def test_credentials_typed_on_the_settings_page_are_stored_never_shown(
    acme: UiTenant,
) -> None:
    csrf = await acme.sign_in()
    url = f"/ui/integrations/{acme.company.integration_id}"
    secret = "s3cret-value-typed-once"
    form = {"csrf": csrf, "name": "Local CRM", "credential_name_1": "token"}
    answer = await acme.client.post(url, data={**form, "credential_value_1": secret})
    assert answer.status_code == 303, answer.text  # the local CRM's check accepts any
    assert (await _stored(acme))["has_credentials"] is True
    assert secret not in (await acme.client.get(url)).text
    assert secret not in answer.text
