"""Company administration answers conflicts and unknown references with 4xx naming the field."""

from __future__ import annotations

from typing import get_args

import pytest

from callbridge.api.admin import ScreenLanguage
from callbridge.ui.i18n import LANGUAGES
from tests.api.api_tenant import Tenant, problems


async def test_duplicate_team_and_user_are_conflicts(acme: Tenant) -> None:
    assert (await acme.client.post("/teams", json={"name": "Sales"})).status_code == 201
    again = await acme.client.post("/teams", json={"name": "Sales"})
    assert again.status_code == 409 and again.json()["detail"].startswith("name:")
    first = await acme.client.post("/users", json={"name": "Ann", "email": "Ann@acme.test"})
    assert first.status_code == 201 and first.json()["email"] == "ann@acme.test"
    clash = await acme.client.post("/users", json={"name": "Ann B", "email": "ann@acme.test"})
    assert clash.status_code == 409 and clash.json()["detail"].startswith("email:")


async def test_unknown_team_is_refused(acme: Tenant, globex: Tenant) -> None:
    team = (await globex.client.post("/teams", json={"name": "Theirs"})).json()
    answer = await acme.client.post("/users", json={"name": "Ann", "team_id": team["id"]})
    assert problems(answer) == {"team_id": f"no team {team['id']} in this company"}


async def test_company_patch_ignores_nulls(acme: Tenant) -> None:
    answer = await acme.client.patch("/company", json={"name": None, "own_numbers": []})
    assert answer.status_code == 200
    assert answer.json()["name"] == "ACME"


def test_the_company_languages_are_the_screens() -> None:
    assert set(get_args(ScreenLanguage)) == set(LANGUAGES)


async def test_the_company_language_is_set_cleared_and_kept_per_company(
    acme: Tenant, globex: Tenant
) -> None:
    assert (await acme.client.get("/company")).json()["language"] is None
    answer = await acme.client.patch("/company", json={"language": "fr"})
    assert answer.status_code == 200 and answer.json()["language"] == "fr"
    kept = await acme.client.patch("/company", json={"name": "ACME SA"})
    assert kept.json()["language"] == "fr", "a field not given stays as it is"
    assert (await globex.client.get("/company")).json()["language"] is None
    cleared = await acme.client.patch("/company", json={"language": None, "name": None})
    assert cleared.json()["language"] is None and cleared.json()["name"] == "ACME SA"


@pytest.mark.parametrize("language", ["de", "FR", "", 3])
async def test_an_unsupported_company_language_is_a_422_naming_it(
    acme: Tenant, language: object
) -> None:
    answer = await acme.client.patch("/company", json={"language": language, "name": "Changed"})
    assert list(problems(answer)) == ["language"]
    company = (await acme.client.get("/company")).json()
    assert company["language"] is None and company["name"] == "ACME", "nothing changed"
