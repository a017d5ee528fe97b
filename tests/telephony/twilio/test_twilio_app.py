"""Through the app's webhook route into stored calls: signed legs, proxies, refusals (both DBs)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.testing.draining import drain
from tests.telephony.twilio.test_twilio import ANSWERED_CALL, CUSTOMER, LINE, PARENT, params

TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
BASE = "http://callbridge.test"
Sign = Callable[[dict[str, str], str], dict[str, str]]


@asynccontextmanager
async def twilio_app(
    migrated_url: str, tmp_path: Path, peer: str = "127.0.0.1", **values: Any
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, str]]:
    """Yield a runtime, an API client coming from ``peer`` and a Twilio source's webhook path."""
    settings = Settings(data_dir=tmp_path, database_url=migrated_url, **values)
    runtime = Runtime.create(settings)
    try:
        company = await create_company(runtime, "ACME")
        transport = httpx.ASGITransport(app=create_app(runtime), client=(peer, 40123))
        auth = {"Authorization": f"Bearer {company.api_key}"}
        async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=auth) as client:
            source = {"provider": "twilio", "name": "Twilio", "secret": TOKEN}
            created = await client.post("/sources", json=source)
            assert created.status_code == 201, created.text
            yield runtime, client, created.json()["webhook_path"]
    finally:
        await runtime.close()


def signature(values: dict[str, str], url: str) -> dict[str, str]:
    """Return the header Twilio sends for ``values`` posted to ``url``."""
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, values)}


async def post(
    client: httpx.AsyncClient, path: str, values: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    """Post a form as Twilio does."""
    form = {"content-type": "application/x-www-form-urlencoded", **headers}
    return await client.post(path, content=urlencode(values).encode(), headers=form)


async def calls(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Return the company's stored calls."""
    listed: list[dict[str, Any]] = (await client.get("/calls")).json()["calls"]
    return listed


async def test_parent_and_child_legs_make_one_stored_call_with_its_agent(
    migrated_url: str, tmp_path: Path
) -> None:
    async with twilio_app(migrated_url, tmp_path) as (runtime, client, path):
        alice = {"name": "Alice", "email": "alice@example.com", "telephony_user_id": "client:alice"}
        user = await client.post("/users", json=alice)
        assert user.status_code == 201, user.text
        deliveries = [params(name) for name in ANSWERED_CALL] * 2
        random.Random(15).shuffle(deliveries)
        answers = [await post(client, path, v, signature(v, BASE + path)) for v in deliveries]
        assert [a.status_code for a in answers] == [200] * len(deliveries), answers[0].text
        assert sum(a.json()["duplicate"] for a in answers) == len(ANSWERED_CALL)
        await drain(runtime)
        [call] = await calls(client)
    assert call["provider_call_id"] == PARENT
    assert (call["state"], call["direction"], call["duration"]) == ("ended", "incoming", 95)
    assert (call["from_number"], call["to_number"]) == (CUSTOMER, LINE)
    assert call["user_id"] == user.json()["id"]  # client:alice, mapped to Alice


async def test_a_trusted_proxys_forwarded_url_verifies(migrated_url: str, tmp_path: Path) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "calls.example.com"}
    values = params("parent_inbound_canceled")
    async with twilio_app(migrated_url, tmp_path, "10.1.2.3", trusted_proxies="10.0.0.0/8") as (
        runtime,
        client,
        path,
    ):
        public = f"https://calls.example.com{path}"
        source_id = path.rsplit("/", 1)[1]
        shown = await client.get(f"/sources/{source_id}", headers=forwarded)
        assert shown.json()["setup"]["webhook_url"] == public  # the URL to paste is the one checked
        answer = await post(client, path, values, {**forwarded, **signature(values, public)})
        assert answer.status_code == 200, answer.text
        await drain(runtime)
        [call] = await calls(client)
    assert call["state"] == "missed"


async def test_an_untrusted_peers_forwarded_headers_are_ignored(
    migrated_url: str, tmp_path: Path
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "calls.example.com"}
    values = params("parent_inbound_canceled")
    async with twilio_app(migrated_url, tmp_path, "203.0.113.9", trusted_proxies="10.0.0.0/8") as (
        _,
        client,
        path,
    ):
        spoofed = await post(
            client,
            path,
            values,
            {**forwarded, **signature(values, f"https://calls.example.com{path}")},
        )
        as_received = await post(
            client, path, values, {**forwarded, **signature(values, BASE + path)}
        )
    assert spoofed.status_code == 401
    assert spoofed.json()["error"] == "invalid_signature"
    assert f"{BASE}{path}" in spoofed.json()["message"]  # the URL checked, to fix the setup
    assert as_received.status_code == 200


async def test_public_url_is_the_signed_url(migrated_url: str, tmp_path: Path) -> None:
    values = params("parent_inbound_canceled")
    async with twilio_app(migrated_url, tmp_path, public_url="https://cb.example.org/tel/") as (
        _,
        client,
        path,
    ):
        public = f"https://cb.example.org/tel{path}"
        as_received = await post(client, path, values, signature(values, BASE + path))
        published = await post(client, path, values, signature(values, public))
    assert as_received.status_code == 401
    assert published.status_code == 200, published.text


async def test_refusals_store_nothing(migrated_url: str, tmp_path: Path) -> None:
    values = params("child_completed")
    async with twilio_app(migrated_url, tmp_path) as (runtime, client, path):
        url = BASE + path
        missing = await post(client, path, values, {})
        tampered = await post(client, path, {**values, "CallDuration": "1"}, signature(values, url))
        bad = {**values, "Timestamp": "yesterday"}
        malformed = await post(client, path, bad, signature(bad, url))
        skipped = params("recording_absent")
        ignored = await post(client, path, skipped, signature(skipped, url))
        other = params("parent_inbound_canceled")  # then one delivery that is stored
        assert (await post(client, path, other, signature(other, url))).status_code == 200
        await drain(runtime)
        stored = [call["provider_call_id"] for call in await calls(client)]
    assert [missing.status_code, tampered.status_code] == [401, 401]
    assert (malformed.status_code, malformed.json()["field"]) == (422, "Timestamp")
    assert ignored.status_code == 200
    assert ignored.json()["ignored"].startswith("Twilio's recording status 'absent'")
    assert stored == [other["CallSid"]]  # nothing of the refused call


async def test_the_source_says_what_to_paste_where_in_twilio(
    migrated_url: str, tmp_path: Path
) -> None:
    async with twilio_app(migrated_url, tmp_path, public_url="https://cb.example.org") as (
        _,
        client,
        path,
    ):
        source_id = path.rsplit("/", 1)[1]
        shown = (await client.get(f"/sources/{source_id}")).json()["setup"]
    url = f"https://cb.example.org{path}"
    assert (shown["webhook_url"], shown["docs"]) == (url, "docs/telephony/twilio.md")
    steps = "\n".join(shown["steps"])
    assert f'statusCallback="{url}"' in steps
    assert 'statusCallbackEvent="initiated ringing answered completed"' in steps
    assert f'recordingStatusCallback="{url}"' in steps
    assert "Auth Token" in steps and f"POST /sources/{source_id}/secrets" in steps


TRICKY = [
    "",
    " ",
    "\x00",
    "\x7f\t",
    "é🙂",
    "x" * 300,
    "y" * 5000,
    "client:",
    "client:" + "é" * 120,
    "sip:+14155550100@acme.sip.twilio.com;transport=tls",
    "+1" + "5" * 120,
    "-1",
    "1e9",
    "604801",
    "NaN",
    "Fri, 11 Apr 2125 10:00:00 +0000",
    "Sat, 01 Jan 0001 00:00:00 +1400",
    "completed",
    "in-progress",
    "no-answer",
    "RecordVerb",
    "http://[::1",
]


async def test_signed_mutated_forms_are_stored_or_refused_never_a_500(
    migrated_url: str, tmp_path: Path
) -> None:
    """Fixtures with fields changed or dropped, signed: 200 or 422, what is stored processable."""
    names = sorted(path.stem for path in (Path(__file__).parent / "fixtures").glob("*.json"))
    draw = random.Random(20261206)
    async with twilio_app(migrated_url, tmp_path) as (runtime, client, path):
        statuses = []
        for _ in range(150):
            values = params(draw.choice(names))
            for field in draw.sample(sorted(values), draw.randint(1, 3)):
                if draw.random() < 0.2:
                    del values[field]
                else:
                    values[field] = draw.choice(TRICKY)
            answer = await post(client, path, values, signature(values, BASE + path))
            assert answer.status_code in (200, 422), (values, answer.text)
            statuses.append(answer.status_code)
        ok = params("parent_inbound_canceled")  # at least one call to fold
        assert (await post(client, path, ok, signature(ok, BASE + path))).status_code == 200
        await drain(runtime)
        listed = await client.get("/calls", params={"limit": 500})
        dead = (await client.get("/jobs/dead")).json()
    assert listed.status_code == 200
    assert dead == []  # what was accepted was processable
    assert statuses.count(200) and statuses.count(422)
