"""The company's language: the screens' default when the user picked none; per company."""

from __future__ import annotations

import pytest
from markupsafe import escape

from tests.ui.ui_client import UiTenant

HEADING = {
    "en": "<h1>Integrations</h1>",
    "fr": "<h1>Intégrations</h1>",
    "es": "<h1>Integraciones</h1>",
}


async def _heading_language(tenant: UiTenant, browser: str = "en") -> str:
    page = await tenant.client.get("/ui/integrations", headers={"Accept-Language": browser})
    [language] = [code for code, heading in HEADING.items() if heading in page.text]
    return language


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_the_companys_language_is_the_default_of_its_screens(
    acme: UiTenant, globex: UiTenant, language: str
) -> None:
    csrf = await acme.sign_in()
    await globex.sign_in()
    assert await _heading_language(acme) == "en", "no company language: the browser's"
    saved = await acme.client.post("/ui/company", data={"csrf": csrf, "language": language})
    assert saved.status_code == 303
    assert await _heading_language(acme, browser="en") == language
    assert await _heading_language(globex) == "en", "another company's screens are unchanged"
    picked = "es" if language == "fr" else "fr"
    await acme.client.get(f"/ui/language/{picked}")
    assert await _heading_language(acme) == picked, "the user's pick wins over the company's"


async def test_none_goes_back_to_the_browsers_language(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    await acme.client.post("/ui/company", data={"csrf": csrf, "language": "fr"})
    assert 'value="fr" lang="fr" selected' in (await acme.client.get("/ui/company")).text
    await acme.client.post("/ui/company", data={"csrf": csrf, "language": ""})
    assert await _heading_language(acme, browser="es") == "es"


async def test_an_unknown_language_or_a_forged_form_is_refused(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    refused = await acme.client.post("/ui/company", data={"csrf": csrf, "language": "de"})
    assert refused.status_code == 422
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    api = await acme.client.patch("/company", json={"language": "de"}, headers=headers)
    [problem] = api.json()["detail"]
    assert problem["loc"] == ["body", "language"]
    assert escape(f"language: {problem['msg']}") in refused.text, "the route's own refusal"
    forged = await acme.client.post("/ui/company", data={"csrf": "forged", "language": "fr"})
    assert forged.status_code == 403
    assert await _heading_language(acme) == "en"
