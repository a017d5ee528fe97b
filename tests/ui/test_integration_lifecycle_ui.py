"""Disable, enable and delete an integration from its page; deletion asks first, tenancy holds."""

from __future__ import annotations

from tests.ui.ui_client import UiTenant


async def _status(acme: UiTenant) -> int | str:
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    answer = await acme.client.get(f"/integrations/{acme.company.integration_id}", headers=headers)
    if answer.status_code != 200:
        return answer.status_code
    status: str = answer.json()["status"]
    return status


async def test_disable_then_enable_from_the_list(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    base = f"/ui/integrations/{acme.company.integration_id}"
    page = await acme.client.get("/ui/integrations")
    assert f'action="{base}/disable"' in page.text
    assert f'href="{base}/delete"' in page.text
    answer = await acme.client.post(f"{base}/disable", data={"csrf": csrf})
    assert answer.status_code == 303
    assert await _status(acme) == "disabled"
    page = await acme.client.get(answer.headers["location"])
    assert f'action="{base}/enable"' in page.text
    assert "Disabled" in page.text and "Done." in page.text
    answer = await acme.client.post(f"{base}/enable", data={"csrf": csrf})
    assert answer.status_code == 303
    assert await _status(acme) == "active"


async def test_delete_asks_first_says_what_is_lost_then_deletes(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    base = f"/ui/integrations/{acme.company.integration_id}"
    confirm = await acme.client.get(f"{base}/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    assert "credentials" in confirm.text and "calls themselves" in confirm.text
    assert await _status(acme) == "active", "showing the confirmation deletes nothing"
    answer = await acme.client.post(f"{base}/delete", data={"csrf": csrf})
    assert answer.status_code == 303
    assert await _status(acme) == 404
    listing = await acme.client.get(answer.headers["location"])
    assert "was deleted" in listing.text


async def test_the_lifecycle_forms_need_the_csrf_token(acme: UiTenant) -> None:
    await acme.sign_in()
    base = f"/ui/integrations/{acme.company.integration_id}"
    for action in ("disable", "delete"):
        answer = await acme.client.post(f"{base}/{action}", data={"csrf": "forged"})
        assert answer.status_code == 403
    assert await _status(acme) == "active"


async def test_another_companys_integration_is_not_found(acme: UiTenant, globex: UiTenant) -> None:
    csrf = await acme.sign_in()
    foreign = f"/ui/integrations/{globex.company.integration_id}"
    assert (await acme.client.get(f"{foreign}/delete")).status_code == 404
    for action in ("disable", "enable", "delete"):
        answer = await acme.client.post(f"{foreign}/{action}", data={"csrf": csrf})
        assert answer.status_code == 404, action
    assert await _status(globex) == "active"
