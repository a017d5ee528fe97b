"""Over real HTTP: each bad-input class gets its status and changes nothing; a 2xx is never lost."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from callbridge.testing.webhooks import call_sequence, generic_event, signed, signed_headers
from tests.e2e.e2e_server import Server, make_server, wait_synced

pytestmark = pytest.mark.slow


def _post(server: Server, body: bytes, headers: dict[str, str], source: str | None = None) -> Any:
    return httpx.post(
        f"{server.url}/webhooks/generic/{source or server.company.source_id}",
        content=body,
        headers=headers,
        timeout=10,
    )


def _signed_raw(server: Server, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    return signed_headers(server.company.source_secret, body, msg_id="msg_raw", timestamp=timestamp)


def _cases(server: Server) -> list[tuple[str, int, bytes, dict[str, str], str | None]]:
    caller: dict[str, Any] = {"direction": "incoming", "from": "+14155550134"}
    good = generic_event("call.ringing", "bad-1", **caller)
    body, headers = signed(server.company.source_secret, good)
    missing = json.dumps({**good, "call": {"direction": "incoming"}}).encode()
    typed = json.dumps({**good, "call": {"id": "x", "duration": "long"}}).encode()
    huge = json.dumps({**good, "call": {"id": "x", "notes": "n" * 1_100_000}}).encode()
    wrong = {**headers, "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    no_signature = {k: v for k, v in headers.items() if k != "webhook-signature"}
    return [
        ("invalid JSON", 422, b"{not json", _signed_raw(server, b"{not json"), None),
        ("missing call.id", 422, missing, _signed_raw(server, missing), None),
        ("ill-typed call.duration", 422, typed, _signed_raw(server, typed), None),
        ("wrong signature", 401, body, wrong, None),
        ("missing signature", 401, body, no_signature, None),
        ("stale timestamp", 401, body, _signed_raw(server, body, int(time.time()) - 600), None),
        ("future timestamp", 401, body, _signed_raw(server, body, int(time.time()) + 600), None),
        ("unknown source", 404, body, headers, "00000000-0000-0000-0000-000000000000"),
        ("body over 1 MiB", 413, huge, _signed_raw(server, huge), None),
    ]


async def test_every_bad_input_class_gets_its_status_and_changes_nothing(server: Server) -> None:
    answers = {
        name: _post(server, body, headers, source)
        for name, _, body, headers, source in _cases(server)
    }
    expected = {name: status for name, status, *_ in _cases(server)}
    assert {name: a.status_code for name, a in answers.items()} == expected
    assert answers["missing call.id"].json()["field"] == "call.id"
    assert answers["ill-typed call.duration"].json()["field"] == "call.duration"
    assert "tolerance" in answers["stale timestamp"].json()["message"]
    async with server.client() as client:
        assert (await client.get("/calls")).json()["calls"] == []
        assert (await client.get("/jobs/dead")).json() == []


async def test_an_accepted_call_survives_sigkill_right_after_the_2xx(
    database_url: str, tmp_path: Path
) -> None:
    server = await make_server(database_url, tmp_path)
    server.start()
    try:
        async with server.client() as client:
            for event in call_sequence("killed-1", "incoming", "+14155550142", answered=True):
                assert (await server.send(client, event)).status_code == 200
            server.kill(signal.SIGKILL)  # nothing may be held only in memory
            server.start()
            [detail] = await wait_synced(client, "killed-1")
            records = (await client.get(server.records_path)).json()["records"]
        assert detail["syncs"][0]["status"] == "done"
        assert [r["phones"] for r in records] == [["+14155550142"]]
    finally:
        server.kill(signal.SIGTERM)


async def test_api_requires_a_valid_key(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get("/calls")).status_code == 401
        bad = await anonymous.get("/calls", headers={"Authorization": "Bearer cb_nope"})
        assert bad.status_code == 401
        assert "callbridge company key create" in bad.json()["detail"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json"])
async def test_probes_and_spec(server: Server, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get(path)).status_code == 200
