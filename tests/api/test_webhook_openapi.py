"""The webhook route's OpenAPI says what each registered provider sends, and how it is checked."""

from __future__ import annotations

from typing import Any

import pytest

from callbridge.api.app import create_app
from callbridge.api.webhook_docs import CONTRACTS, FORM, HEADERS, JSON
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.telephony import PROVIDERS

PATH = "/webhooks/{provider}/{source_id}"


@pytest.fixture(scope="module")
def operation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    runtime = Runtime.create(Settings(data_dir=tmp_path_factory.mktemp("hooks"), database_url=None))
    found: dict[str, Any] = create_app(runtime).openapi()["paths"][PATH]["post"]
    return found


def test_every_registered_provider_is_documented(operation: dict[str, Any]) -> None:
    assert set(PROVIDERS) <= set(CONTRACTS), "add the new provider to api/webhook_docs.py"
    [provider] = [p for p in operation["parameters"] if p["name"] == "provider"]
    assert provider["schema"]["enum"] == sorted(PROVIDERS)
    for name in PROVIDERS:
        contract = CONTRACTS[name]
        row = f"| `{name}` | `{contract.content_type}` | {contract.body} | {contract.verified_by}"
        assert row in operation["description"]
    assert "GET /sources/{source_id}/deliveries" in operation["description"]


def test_each_content_type_and_signature_header_is_documented(operation: dict[str, Any]) -> None:
    content = operation["requestBody"]["content"]
    types = {CONTRACTS[name].content_type for name in PROVIDERS}
    assert set(content) == types
    assert len(content[JSON]["schema"]["anyOf"]) >= len([t for t in PROVIDERS if t != "twilio"])
    if FORM in types:
        assert "CallSid" in content[FORM]["schema"]["properties"]
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    for name, (provider, _) in HEADERS.items():
        if provider in PROVIDERS:
            assert headers.pop(name)["description"].startswith(f"`{provider}` only")
    assert headers == {}
