"""With the access log off by default, every refused request is still logged with its reason."""

from __future__ import annotations

import logging

import pytest

from callbridge.testing.webhooks import generic_event, signed
from tests.api.api_tenant import Tenant


async def test_a_webhook_with_a_bad_signature_is_logged_with_why(
    acme: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    body, headers = signed("whsec_" + "A" * 32, generic_event("call.ringing", "c1"))
    path = f"/webhooks/generic/{acme.company.source_id}"
    with caplog.at_level(logging.INFO, logger="callbridge.api"):
        answer = await acme.client.post(path, content=body, headers=headers)
    assert answer.status_code == 401
    [record] = [r for r in caplog.records if r.name == "callbridge.api"]
    assert record.levelno == logging.WARNING
    assert f"refused POST {path}" in record.getMessage()
    assert "signature" in record.getMessage()


async def test_a_refused_api_request_is_logged(
    acme: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="callbridge.api"):
        answer = await acme.client.get("/calls/no-such-call")
    assert answer.status_code == 404
    messages = [r.getMessage() for r in caplog.records if r.name == "callbridge.api"]
    assert messages == ["refused GET /calls/no-such-call: 404 " + answer.json()["detail"]]
