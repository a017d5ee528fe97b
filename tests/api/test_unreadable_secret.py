"""A source's secret sealed with a key the server lacks: its webhooks are a clear 503, not a 500.

The operator changed CALLBRIDGE_SECRET_KEY without keeping the old key: the delivery is refused
(nothing stored, the sender retries) with a message saying what to do, logged once per source;
once the source's secret is rotated, the same delivery is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update

from callbridge.crypto import SecretBox
from callbridge.runtime import Runtime
from callbridge.storage.tables import call_events, telephony_sources
from callbridge.testing.webhooks import generic_event, signed
from tests.api.api_tenant import Tenant

SENDS = 3


async def _seal_with_another_key(runtime: Runtime, tenant: Tenant, source_id: str) -> None:
    other = SecretBox([Fernet.generate_key().decode()]).seal(["whsec_other"])
    async with runtime.engine.begin() as conn:
        await conn.execute(
            update(telephony_sources)
            .where(telephony_sources.c.id == source_id)
            .where(telephony_sources.c.company_id == tenant.company.company_id)
            .values(secrets_encrypted=other)
        )
    runtime.sources.forget(source_id)


async def _events(runtime: Runtime, tenant: Tenant) -> int:
    mine = call_events.c.company_id == tenant.company.company_id
    async with runtime.engine.connect() as conn:
        counted = await conn.execute(select(func.count()).select_from(call_events).where(mine))
        return int(counted.scalar_one())


async def test_an_unreadable_secret_is_a_503_saying_what_to_do(
    api_runtime: Runtime, acme: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    created = await acme.client.post("/sources", json={"name": "Moved server"})
    source_id, secret = created.json()["id"], created.json()["secret"]
    await _seal_with_another_key(api_runtime, acme, source_id)
    event = generic_event("call.ringing", "key-1", direction="incoming", to="+14155550100")
    body, headers = signed(secret, event)
    path = f"/webhooks/generic/{source_id}"
    with caplog.at_level(logging.ERROR, logger="callbridge.storage.source_cache"):
        for _ in range(SENDS):
            api_runtime.sources.clock = _later(api_runtime.sources.clock)  # past the cache's TTL
            answer = await acme.client.post(path, content=body, headers=headers)
            assert answer.status_code == 503, answer.text
            said = answer.json()
            assert said["code"] == "source_secret_unreadable"
            assert said["params"] == {"source_id": source_id}
            assert "CALLBRIDGE_SECRET_KEY" in said["detail"]
            assert "rotate" in said["detail"] and source_id in said["detail"]
    logged = [r for r in caplog.records if source_id in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert await _events(api_runtime, acme) == 0
    rotated = await acme.client.post(f"/sources/{source_id}/secrets")
    assert rotated.status_code == 201, rotated.text
    body, headers = signed(rotated.json()["secret"], event)
    answer = await acme.client.post(path, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    assert await _events(api_runtime, acme) == 1


def _later(clock: Callable[[], float]) -> Callable[[], float]:
    """Return a clock an hour ahead of ``clock``, so each send reads the source again."""
    return lambda: clock() + 3600.0
