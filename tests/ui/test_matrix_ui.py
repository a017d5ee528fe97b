"""The scenario matrix screen: shown as a table, saved as a new version through the API's route."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.ui.ui_client import UiTenant

DRAFT = re.compile(r'<textarea id="matrix"[^>]*>([^<]*)</textarea>')


async def _matrix(tenant: UiTenant) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    path = f"/integrations/{tenant.company.integration_id}/matrix"
    shown: dict[str, Any] = (await tenant.client.get(path, headers=headers)).json()
    return shown


async def test_the_matrix_is_shown_and_a_new_version_saved(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    url = f"/ui/integrations/{acme.company.integration_id}/matrix"
    page = await acme.client.get(url)
    assert page.status_code == 200
    assert "incoming, new client, missed" in page.text
    found = DRAFT.search(page.text)
    assert found
    matrix = json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    matrix["deal"]["name_template"] = "Appel de {phone}"
    saved = await acme.client.post(url, data={"csrf": csrf, "matrix": json.dumps(matrix)})
    assert saved.status_code == 303, saved.text
    stored = await _matrix(acme)
    assert stored["version"] == 1
    assert stored["matrix"]["deal"]["name_template"] == "Appel de {phone}"


async def test_a_wrong_matrix_is_refused_naming_where(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    url = f"/ui/integrations/{acme.company.integration_id}/matrix"
    not_json = await acme.client.post(url, data={"csrf": csrf, "matrix": "{nope"})
    assert not_json.status_code == 422
    assert "not JSON" in not_json.text
    bad = {"rules": [{"name": "x", "when": {"direction": "sideways"}, "actions": []}]}
    refused = await acme.client.post(url, data={"csrf": csrf, "matrix": json.dumps(bad)})
    assert refused.status_code == 422
    assert "rules" in refused.text
    assert "sideways" in refused.text  # the typed draft is kept
    assert (await _matrix(acme))["version"] == 0


async def test_another_companys_matrix_is_not_found(acme: UiTenant, globex: UiTenant) -> None:
    csrf = await acme.sign_in()
    url = f"/ui/integrations/{globex.company.integration_id}/matrix"
    assert (await acme.client.get(url)).status_code == 404
    posted = await acme.client.post(url, data={"csrf": csrf, "matrix": "{}"})
    assert posted.status_code == 404
    assert (await _matrix(globex))["version"] == 0
