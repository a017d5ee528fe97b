"""A source shows what to paste where: its webhook URL and its platform's setup steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callbridge.api.source_setup import setup
from callbridge.runtime import Runtime
from callbridge.telephony import PROVIDERS
from tests.api.api_tenant import Tenant

ROOT = Path(__file__).parents[2]


async def _create(tenant: Tenant, provider: str) -> dict[str, Any]:
    body = {"provider": provider, "name": provider, "secret": "a-vendor-secret-1"}
    if provider == "generic":
        del body["secret"]
    created = await tenant.client.post("/sources", json=body)
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_created_and_shown_with_the_url_to_paste(acme: Tenant, provider: str) -> None:
    created = await _create(acme, provider)
    source_id = created["id"]
    url = f"http://callbridge.test/webhooks/{provider}/{source_id}"
    assert created["setup"] == {
        "webhook_url": url,
        "docs": f"docs/telephony/{provider}.md",
        "steps": created["setup"]["steps"],
    }
    steps = created["setup"]["steps"]
    assert any(url in step for step in steps)
    assert any(f"/sources/{source_id}/deliveries" in step for step in steps)
    assert any(f"/sources/{source_id}/secrets" in step for step in steps)
    shown = await acme.client.get(f"/sources/{source_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["setup"] == created["setup"]
    assert shown.json()["provider"] == provider
    assert "secret" not in shown.json() and "secrets_encrypted" not in shown.json()


async def test_the_public_url_setting_wins(acme: Tenant, api_runtime: Runtime) -> None:
    base = "https://calls.example.com/cb"
    api_runtime.settings = api_runtime.settings.model_copy(update={"public_url": base + "/"})
    created = await _create(acme, "aircall")
    expected = f"{base}/webhooks/aircall/{created['id']}"
    assert created["setup"]["webhook_url"] == expected


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_each_provider_links_a_docs_page_that_exists(provider: str) -> None:
    shown = setup(provider, "s-1", "https://cb.example")
    assert (ROOT / shown.docs).is_file(), shown.docs
    assert all("{" not in step or '{"secret"' in step for step in shown.steps), shown.steps
