"""Disable, enable and delete an integration from its page; deletion asks first, tenancy holds."""

from __future__ import annotations

import html
import uuid

import pytest
from sqlalchemy import update

from callbridge.api import integration_lifecycle as lifecycle_api
from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.storage.tables import call_syncs
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
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


async def test_deleting_a_missing_integration_shows_the_apis_404(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    missing = str(uuid.uuid4())
    answer = await acme.client.post(f"/ui/integrations/{missing}/delete", data={"csrf": csrf})
    assert answer.status_code == 404
    assert f"no integration {missing} in this company" in answer.text
    assert "Nothing was deleted" not in answer.text, "not the confirmation's conflict"


async def test_an_integration_deleted_meanwhile_shows_the_apis_404_not_a_conflict(
    acme: UiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another admin deleted it after this one's confirmation: the route answers 404."""
    csrf = await acme.sign_in()
    integration = acme.company.integration_id

    async def gone(*_args: object) -> None:
        return None  # what remove() answers once the integration is no more

    monkeypatch.setattr(lifecycle_api, "remove", gone)
    answer = await acme.client.post(f"/ui/integrations/{integration}/delete", data={"csrf": csrf})
    assert answer.status_code == 404
    assert f"no integration {integration} in this company" in answer.text


async def test_deleting_while_a_sync_runs_shows_the_apis_409_and_what_to_do(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    csrf = await acme.sign_in()
    company, integration = acme.company.company_id, acme.company.integration_id
    for event in call_sequence("c-run", "incoming", "+14155550141", answered=True):
        body, headers = signed(acme.company.source_secret, event)
        await ingest(ui_runtime, acme.company.source_id, headers, body)
    await drain(ui_runtime)
    mine = (call_syncs.c.company_id == company, call_syncs.c.integration_id == integration)
    async with ui_runtime.sessions.begin() as session:
        running = (
            update(call_syncs).where(*mine).values(status="running", updated_at=ui_runtime.clock())
        )
        await session.execute(running)
    base = f"/ui/integrations/{integration}"
    answer = await acme.client.post(f"{base}/delete", data={"csrf": csrf})
    assert answer.status_code == 409
    assert "Nothing was deleted" in answer.text
    assert html.escape(f"POST /integrations/{integration}/disable") in answer.text
    assert await _status(acme) == "active"
