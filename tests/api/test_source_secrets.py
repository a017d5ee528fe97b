"""Rotating a source's signing secret: the new one and the one before verify, older ones not.

The rotation's update names its company (the suite's SQL audit checks it), and a foreign or
unknown source is a 404 that rotates nothing.
"""

from __future__ import annotations

from callbridge.testing.webhooks import generic_event, signed
from tests.api.api_tenant import Tenant

ROTATIONS = 4


async def _verifies(tenant: Tenant, source_id: str, secret: str) -> bool:
    event = generic_event("call.ringing", "rot-1", direction="incoming", to="+14155550100")
    body, headers = signed(secret, event)
    path = f"/webhooks/generic/{source_id}"
    answer = await tenant.client.post(path, content=body, headers=headers)
    assert answer.status_code in (200, 401), answer.text
    if answer.status_code == 401:
        assert answer.json()["error"] == "invalid_signature"
    return answer.status_code == 200


async def test_each_rotation_keeps_the_previous_secret_only(acme: Tenant) -> None:
    created = await acme.client.post("/sources", json={"name": "Rotated"})
    assert created.status_code == 201, created.text
    source_id, secrets = created.json()["id"], [created.json()["secret"]]
    for _ in range(ROTATIONS):
        rotated = await acme.client.post(f"/sources/{source_id}/secrets")
        assert rotated.status_code == 201, rotated.text
        assert rotated.json()["id"] == source_id
        secrets.append(rotated.json()["secret"])
        verified = [await _verifies(acme, source_id, secret) for secret in secrets]
        assert verified == [False] * (len(secrets) - 2) + [True, True]


async def test_a_foreign_source_is_not_rotated(acme: Tenant, globex: Tenant) -> None:
    theirs = await globex.client.post("/sources", json={"name": "Theirs"})
    source_id, secret = theirs.json()["id"], theirs.json()["secret"]
    for unknown in (source_id, "00000000-0000-0000-0000-000000000000"):
        answer = await acme.client.post(f"/sources/{unknown}/secrets")
        assert answer.status_code == 404, answer.text
        assert answer.json() == {
            "detail": f"no source {unknown} in this company",
            "code": "no_source",
            "params": {"source_id": unknown},
        }
    assert await _verifies(globex, source_id, secret)
