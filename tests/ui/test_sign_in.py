"""Signing in and out of the UI: the API's key check, the session cookie, CSRF on every form."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.ui.mount import mount
from tests.ui.ui_client import UiTenant, csrf_of


async def test_pages_need_a_session(acme: UiTenant) -> None:
    answer = await acme.client.get("/ui/integrations")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in"


async def test_sign_in_sets_an_httponly_lax_cookie_and_opens_the_screens(acme: UiTenant) -> None:
    form = await acme.client.get("/ui/sign-in")
    answer = await acme.client.post(
        "/ui/sign-in", data={"csrf": csrf_of(form.text), "key": acme.company.api_key}
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "cb_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=" in cookie
    assert acme.company.api_key not in cookie
    page = await acme.client.get("/ui/integrations")
    assert page.status_code == 200
    assert "Local CRM" in page.text or "local" in page.text


async def test_a_wrong_key_is_refused_with_the_apis_message(acme: UiTenant) -> None:
    form = await acme.client.get("/ui/sign-in")
    answer = await acme.client.post(
        "/ui/sign-in", data={"csrf": csrf_of(form.text), "key": "cb_not-a-key"}
    )
    assert answer.status_code == 401
    assert "unknown or revoked API key" in answer.text
    assert "cb_session" not in answer.headers.get("set-cookie", "")


async def test_sign_in_without_the_forms_token_is_refused(acme: UiTenant) -> None:
    await acme.client.get("/ui/sign-in")
    answer = await acme.client.post(
        "/ui/sign-in", data={"csrf": "forged", "key": acme.company.api_key}
    )
    assert answer.status_code == 403
    assert "cb_session" not in answer.headers.get("set-cookie", "")


async def test_a_forged_post_without_the_session_token_changes_nothing(acme: UiTenant) -> None:
    await acme.sign_in()
    integration = acme.company.integration_id
    forged = await acme.client.post(
        f"/ui/integrations/{integration}", data={"name": "Forged", "csrf": "wrong"}
    )
    assert forged.status_code == 403
    page = await acme.client.get(f"/ui/integrations/{integration}")
    assert "Forged" not in page.text


async def test_a_forged_session_cookie_is_not_a_session(acme: UiTenant) -> None:
    acme.client.cookies.set("cb_session", "eyJjIjoiYSJ9.forged.sig", path="/ui")
    answer = await acme.client.get("/ui/integrations")
    assert answer.status_code == 303


async def test_sign_out_ends_the_session(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    answer = await acme.client.post("/ui/sign-out", data={"csrf": csrf})
    assert answer.status_code == 303
    assert (await acme.client.get("/ui/integrations")).status_code == 303


async def test_revoking_the_key_signs_its_sessions_out(acme: UiTenant) -> None:
    await acme.sign_in()
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    issued = await acme.client.post("/api-keys", headers=headers, json={"name": "other"})
    other = {"Authorization": f"Bearer {issued.json()['key']}"}
    keys = (await acme.client.get("/api-keys", headers=other)).json()
    first = next(k for k in keys if not k["current"])
    assert (await acme.client.delete(f"/api-keys/{first['id']}", headers=other)).status_code == 204
    assert (await acme.client.get("/ui/integrations")).status_code == 303


def test_cookies_are_secure_when_the_server_is_public_over_https(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, public_url="https://cb.example")
    client = TestClient(mount(create_app(Runtime.create(settings))))
    answer = client.get("/ui/sign-in")
    assert "secure" in answer.headers["set-cookie"].lower()
    plain = TestClient(mount(create_app(Runtime.create(Settings(data_dir=tmp_path / "p")))))
    assert "secure" not in plain.get("/ui/sign-in").headers["set-cookie"].lower()
