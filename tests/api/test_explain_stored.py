"""Explaining a stored call answers the decision its sync made and would make again."""

from __future__ import annotations

from typing import Any

import pytest

from callbridge.connectors.local.connector import LocalConnector
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import CrmRecord
from callbridge.errors import Transient
from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.api.api_tenant import Tenant
from tests.api.tenancy_world import NUMBER


async def _synced_call(runtime: Runtime, tenant: Tenant, call_id: str) -> dict[str, Any]:
    for event in call_sequence(call_id, "incoming", NUMBER, answered=False):
        body, headers = signed(tenant.company.source_secret, event)
        await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)
    listed = (await tenant.client.get("/calls")).json()["calls"]
    call = next(c for c in listed if c["provider_call_id"] == call_id)
    page: dict[str, Any] = (await tenant.client.get(f"/calls/{call['id']}")).json()
    return page


async def test_a_stored_call_is_explained_as_its_sync_decided(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    page = await _synced_call(api_runtime, acme, "c-explained")
    [sync] = page["syncs"]
    integration = acme.company.integration_id
    path = f"/integrations/{integration}/calls/{page['id']}/explain"

    explained = await acme.client.get(path)

    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["scenario"] == sync["scenario"]
    assert body["matrix_version"] == sync["matrix_version"]
    again = (await acme.client.get(f"/calls/{page['id']}")).json()
    assert again["syncs"] == page["syncs"] and again["actions"] == page["actions"]  # wrote nothing
    foreign = await globex.client.get(
        f"/integrations/{globex.company.integration_id}/calls/{page['id']}/explain"
    )
    assert foreign.status_code == 404
    missing = await acme.client.get(f"/integrations/{integration}/calls/no-such-call/explain")
    assert missing.status_code == 404 and "no call" in missing.json()["detail"]


async def test_a_crm_failing_during_explain_is_a_502_saying_to_try_again(
    api_runtime: Runtime, acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = await _synced_call(api_runtime, acme, "c-crm-down")
    integration = acme.company.integration_id

    async def down(self: LocalConnector, phone: PhoneNumber) -> list[CrmRecord]:
        raise Transient("connection reset")

    monkeypatch.setattr(LocalConnector, "find_by_phone", down)
    stored = await acme.client.get(f"/integrations/{integration}/calls/{page['id']}/explain")
    events = call_sequence("c-crm-down-2", "incoming", NUMBER, answered=True)
    dry = await acme.client.post(f"/integrations/{integration}/explain", json={"events": events})
    for answer in (stored, dry):
        assert answer.status_code == 502, answer.text
        assert "connection reset" in answer.json()["detail"]
        assert "try again" in answer.json()["detail"]
