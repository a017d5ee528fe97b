"""Employees ↔ CRM users from the UI: set by hand through the API's route, tenancy."""

from __future__ import annotations

from typing import Any

from tests.ui.ui_client import UiTenant


async def _links(tenant: UiTenant) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    path = f"/integrations/{tenant.company.integration_id}/user-links"
    links: list[dict[str, Any]] = (await tenant.client.get(path, headers=headers)).json()
    return links


async def test_an_employee_is_mapped_to_a_crm_user_by_hand(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    await acme.client.post("/ui/users", data={"csrf": csrf, "name": "Ana", "email": "a@x.test"})
    await acme.client.post("/ui/users", data={"csrf": csrf, "name": "Bo", "email": "b@x.test"})
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    staff = {u["name"]: u["id"] for u in (await acme.client.get("/users", headers=headers)).json()}
    url = f"/ui/integrations/{acme.company.integration_id}/people"
    page = await acme.client.get(url)
    assert page.status_code == 200
    assert "Ana" in page.text and "not mapped yet" in page.text
    # The local CRM's users are the company's employees: an unknown id is refused by the API.
    unknown = await acme.client.post(
        f"{url}/{staff['Ana']}", data={"csrf": csrf, "crm_user_id": "u-7"}
    )
    assert unknown.status_code == 422
    assert await _links(acme) == []
    answer = await acme.client.post(
        f"{url}/{staff['Ana']}", data={"csrf": csrf, "crm_user_id": staff["Bo"]}
    )
    assert answer.status_code == 303
    found = [(link["user_id"], link["crm_user_id"], link["source"]) for link in await _links(acme)]
    assert found == [(staff["Ana"], staff["Bo"], "manual")]
    assert "by hand" in (await acme.client.get(url)).text


async def test_another_companys_integration_and_user_are_not_found(
    acme: UiTenant, globex: UiTenant
) -> None:
    theirs = await globex.sign_in()
    await globex.client.post("/ui/users", data={"csrf": theirs, "name": "Them"})
    headers = {"Authorization": f"Bearer {globex.company.api_key}"}
    [them] = (await globex.client.get("/users", headers=headers)).json()
    csrf = await acme.sign_in()
    foreign = f"/ui/integrations/{globex.company.integration_id}/people"
    assert (await acme.client.get(foreign)).status_code == 404
    posted = await acme.client.post(
        f"{foreign}/{them['id']}", data={"csrf": csrf, "crm_user_id": "u-1"}
    )
    assert posted.status_code == 404
    ours = f"/ui/integrations/{acme.company.integration_id}/people/{them['id']}"
    assert (
        await acme.client.post(ours, data={"csrf": csrf, "crm_user_id": "u-1"})
    ).status_code == 404
    assert await _links(globex) == []
