"""Hostile input on every API field that reaches a database: a 2xx or a 4xx naming it, never 500.

Hypothesis sends NUL, lone surrogates (valid JSON: ``"\\ud800"``), emoji, right-to-left text and
strings of thousands of characters into names, phones, ids and filters; integers far past 2^63
into ``offset`` and ``limit``; NaN and Infinity (Python's JSON reads them) into a phone list and
free-form JSON. Bodies are encoded by hand (ASCII-escaped JSON), query and path values as the
UTF-8 bytes an attacker would send, so nothing is cleaned up on the way. On SQLite and
PostgreSQL: every refusal is a 4xx with the documented shape, and whatever was accepted can be
read back (no stored value breaks a later list).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import sql
from callbridge.storage.integrations import get_integration
from tests.api.api_tenant import Tenant

ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates and NUL included
POISON = st.sampled_from(["\x00", "\ud800", "\udfff", "\u202e", "\U0001f600", "\ufeff"])
STRINGS = st.one_of(
    st.text(ANY_CHARACTER, max_size=30),
    st.text(ANY_CHARACTER, min_size=90, max_size=1200),
    st.tuples(st.text(max_size=10), POISON, st.text(max_size=10)).map("".join),
)
INTEGERS = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([2**31, 2**63, 2**63 - 1]))
NOT_FINITE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"])
JSON = {"content-type": "application/json"}


def _escaped(value: str) -> str:
    """Return ``value`` as a URL component: its UTF-8 bytes, surrogates passed through."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


async def _send(client: httpx.AsyncClient, method: str, url: str, body: Any = None) -> Any:
    """Send ``body`` as ASCII-escaped JSON and check the answer's shape; return it."""
    content = None if body is None else json.dumps(body)
    answer = await client.request(method, url, content=content, headers=JSON)
    return _checked(answer)


def _checked(answer: httpx.Response) -> httpx.Response:
    """Assert the answer is no server error and, when a refusal, has the documented shape."""
    assert answer.status_code < 500, (answer.request.url, answer.text)
    if answer.status_code == 422:
        for problem in answer.json()["detail"]:
            assert problem["loc"][0] in ("body", "query", "path"), problem
            assert isinstance(problem["msg"], str) and isinstance(problem["type"], str)
    elif answer.status_code >= 400:
        assert isinstance(answer.json()["detail"], str), answer.text
    return answer


async def _everything_still_reads(tenant: Tenant) -> None:
    """Every list the company has still answers 200: nothing accepted poisoned a row."""
    records = f"/integrations/{tenant.company.integration_id}/records"
    for path in ("/company", "/teams", "/users", "/sources", "/integrations", "/calls", records):
        answer = await tenant.client.get(path)
        assert answer.status_code == 200, (path, answer.text)


@settings(max_examples=30)
@given(text=STRINGS)
async def test_strings_are_stored_as_sent_or_refused(acme: Tenant, text: str) -> None:
    client, integration = acme.client, acme.company.integration_id
    team = await _send(client, "POST", "/teams", {"name": text})
    if team.status_code == 201:
        assert text in [t["name"] for t in (await client.get("/teams")).json()]
    await _send(client, "POST", "/users", {"name": text, "extension": text[:20]})
    await _send(client, "PATCH", "/company", {"name": text, "own_numbers": [text]})
    record = {"name": text, "phones": [text], "owner": text}
    created = await _send(client, "POST", f"/integrations/{integration}/records", record)
    if created.status_code == 201:
        assert created.json()["name"] == text
    await _send(client, "POST", "/sources", {"name": text})
    await _send(client, "POST", "/integrations", {"connector": "local", "name": text})
    await _send(client, "POST", "/dialer/intents", {"number": text, "crm_record_id": text})
    await _send(client, "POST", "/users/x/tokens", {"name": text})
    await _everything_still_reads(acme)


@settings(max_examples=30)
@given(text=STRINGS)
async def test_query_and_path_values_are_answered_or_refused(acme: Tenant, text: str) -> None:
    client, value = acme.client, _escaped(text)
    records = f"/integrations/{acme.company.integration_id}/records"
    for url in (
        f"{records}/search?phone={value}",
        f"/calls?number={value}",
        f"/calls?since={value}",
        f"/calls/{value}",
        f"/integrations/{value}",
        f"{records}/{value}",
        f"/integrations/{value}/matrix",
        f"/dialer/candidates?number={value}",
    ):
        _checked(await client.get(url))
    await _send(client, "DELETE", f"{records}/{value}")
    await _send(client, "POST", f"/jobs/dead/{value}/replay")


@settings(max_examples=30)
@given(number=INTEGERS, other=INTEGERS)
async def test_integers_past_every_column_are_refused(
    acme: Tenant, number: int, other: int
) -> None:
    client = acme.client
    records = f"/integrations/{acme.company.integration_id}/records"
    for path in ("/calls", records):
        answer = _checked(await client.get(f"{path}?offset={number}&limit={other}"))
        assert answer.status_code == (200 if 0 <= number <= 10**6 and 1 <= other <= 500 else 422)
    _checked(await client.post(f"/jobs/dead/{number}/replay"))
    body = {"number": "+14155550100", "window_seconds": number, "user_id": "x"}
    await _send(client, "POST", "/dialer/intents", body)


@settings(max_examples=10)
@given(literal=NOT_FINITE)
async def test_not_finite_numbers_are_refused(acme: Tenant, literal: str) -> None:
    integration = f"/integrations/{acme.company.integration_id}"
    for method, url, raw in (
        ("PATCH", "/company", f'{{"own_numbers": [{literal}]}}'),
        ("PATCH", integration, f'{{"config": {{"x": [{literal}]}}}}'),
        ("POST", f"{integration}/records", f'{{"name": "n", "phones": [{literal}]}}'),
        ("PUT", f"{integration}/matrix", f'{{"rules": [{literal}]}}'),
        ("POST", f"{integration}/explain", f'{{"events": [{{"duration": {literal}}}]}}'),
    ):
        answer = _checked(await acme.client.request(method, url, content=raw, headers=JSON))
        assert answer.status_code == 422, (url, answer.text)
    await _everything_still_reads(acme)


@settings(max_examples=6)
@given(extra=st.integers(1, 4096), chunked=st.booleans())
async def test_a_body_over_the_limit_is_refused_with_413(
    acme: Tenant, extra: int, chunked: bool
) -> None:
    limit = 1024 * 1024  # CALLBRIDGE_MAX_BODY_BYTES's default
    body = json.dumps({"name": "x" * (limit + extra)}).encode()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    content: Any = pieces() if chunked else body
    answer = await acme.client.post("/teams", content=content, headers=JSON)
    assert answer.status_code == 413 and "larger than" in _checked(answer).json()["detail"]
    fits = await _send(acme.client, "POST", "/teams", {"name": "fits", "permissions": ["x"]})
    assert fits.status_code in (201, 409)


CONFIG_KEYS = st.sampled_from(["select_contact_manually", "selection_grace_seconds", "x", ""])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**65), 2**65) | st.floats() | STRINGS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(STRINGS, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=30)
@given(config=st.dictionaries(CONFIG_KEYS | STRINGS, JSON_VALUES, max_size=3))
async def test_an_accepted_config_builds_the_connector(
    acme: Tenant, api_runtime: Runtime, config: dict[str, Any]
) -> None:
    integration = acme.company.integration_id
    answer = await _send(acme.client, "PATCH", f"/integrations/{integration}", {"config": config})
    if answer.status_code == 422:
        assert [p["loc"][:2] for p in answer.json()["detail"]] == [["body", "config"]]
        return
    assert answer.status_code == 200, answer.text
    async with api_runtime.reads() as session:
        stored = await sql.run(session, get_integration, acme.company.company_id, integration)
    assert stored is not None and stored["config"] == config
    connector_for(api_runtime, stored)  # every sync of the integration builds it so
