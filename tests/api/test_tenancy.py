"""Walk every route of the OpenAPI document with one company's credentials on another's ids.

The routes come from the application's own OpenAPI document, so a route added later is walked
without editing this test. Each route that takes an id (in its path, query or body) is called
with company A's admin key and A's agent token:
- on B's ids in the path (and, for nested paths, A's outer ids with B's inner ones): 403/404;
- on A's path with B's ids in the query or body: 403/404, or 422 naming the field.
After every request B's rows are compared with their state before, and no answer may carry
one of B's ids. Bodies are built from each operation's JSON schema, so a request is refused
for the foreign id it carries, not for a malformed body. The routes that take no id at all
(``PATCH /company``, ``POST /teams``…) are called once with every field of their body: they act on
the caller's company, so B's rows, its company row included, must not move.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from callbridge.runtime import Runtime
from tests.api.api_tenant import Tenant
from tests.api.tenancy_world import (
    NUMBER,
    World,
    build_world,
    complete_ids,
    second_integration,
    snapshot,
)

# Routes without tenant data or with their own proof: webhooks authenticate by their source's
# signature (tests/api/test_foreign_ids.py sends A's signed webhook naming B's record).
UNWALKED = re.compile(r"^/(healthz|readyz|metrics|webhooks/)")
#: What a path parameter that is not an id of a stored object takes.
FIXED = {"kind": "deals", "provider": "generic"}
#: Body and query fields that name an id, and the kind of object they name.
ID_FIELDS = {
    "integration_id": "integration_id",
    "record_id": "record_id",
    "crm_record_id": "record_id",
    "call_id": "call_id",
    "user_id": "user_id",
    "team_id": "team_id",
    "source_id": "source_id",
    "token_id": "token_id",
    "crm_user_id": "user_id",
}
STREAM_SECONDS = 2.0


@dataclass(frozen=True)
class Attempt:
    """One request of the walk, and which of its ids are the other company's."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    foreign_in_path: bool


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def example(spec: dict[str, Any], schema: dict[str, Any], name: str, ids: dict[str, str]) -> Any:
    """Build a valid value for ``schema``; a field naming an id gets one from ``ids``."""
    schema = _resolve(spec, schema)
    if name in ID_FIELDS:
        return ids[ID_FIELDS[name]]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(spec, s).get("type") != "null"]
            return example(spec, options[0], name, ids)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(spec, schema, ids)
    if kind == "array":
        count = max(1, schema.get("minItems", 0))
        return [example(spec, schema.get("items", {}), name, ids) for _ in range(count)]
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return _text(name)


def _object(spec: dict[str, Any], schema: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    wanted = set(schema.get("required", ())) | {p for p in properties if p in ID_FIELDS}
    return {p: example(spec, properties[p], p, ids) for p in sorted(wanted)}


def _text(name: str) -> str:
    if "number" in name or "phone" in name:
        return NUMBER
    if "email" in name:
        return "walker@walk.test"
    return {"connector": "local", "default_region": "US", "language": "en"}.get(name, "walk")


def path_ids(spec: dict[str, Any]) -> set[str]:
    """Return the names of the ids the document's paths take."""
    return {
        p["name"]
        for operations in spec["paths"].values()
        for operation in operations.values()
        for p in operation.get("parameters", [])
        if p["in"] == "path" and p["name"] not in FIXED
    }


def attempts(spec: dict[str, Any], mine: dict[str, str], theirs: dict[str, str]) -> Iterator[Any]:
    """Yield every request of the walk: each route, with the other company's ids placed."""
    for path, operations in spec["paths"].items():
        if UNWALKED.match(path):
            continue
        for method, operation in operations.items():
            yield from _route_attempts(spec, path, method, operation, mine, theirs)


def _route_attempts(
    spec: dict[str, Any],
    path: str,
    method: str,
    operation: dict[str, Any],
    mine: dict[str, str],
    theirs: dict[str, str],
) -> Iterator[Attempt]:
    params = operation.get("parameters", [])
    in_path = [p["name"] for p in params if p["in"] == "path" and p["name"] not in FIXED]
    query_ids = [p for p in params if p["in"] == "query" and p["name"] in ID_FIELDS]
    content = operation.get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema")

    def build(path_ids: dict[str, str], ids: dict[str, str], foreign: bool) -> Attempt:
        url = path.format(**{**FIXED, **{n: path_ids[n] for n in in_path}})
        query = {p["name"]: ids[ID_FIELDS[p["name"]]] for p in query_ids}
        needed = [p for p in params if p["in"] == "query" and p.get("required")]
        query |= {p["name"]: example(spec, p["schema"], p["name"], ids) for p in needed}
        body = None if body_schema is None else example(spec, body_schema, "body", ids)
        return Attempt(method.upper(), url, query, body, foreign)

    # Their ids in the path: every non-empty set of path parameters taken from them.
    for size in range(1, len(in_path) + 1):
        for names in itertools.combinations(in_path, size):
            path_ids = {n: (theirs if n in names else mine)[n] for n in in_path}
            yield build(path_ids, theirs, True)
    # My path, their ids in the query or the body.
    if query_ids or (body_schema is not None and _names_ids(spec, body_schema)):
        yield build(mine, theirs, False)


def _names_ids(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    text = repr(_expand(spec, schema, depth=4))
    return any(f"'{name}'" in text for name in ID_FIELDS)


def _expand(spec: dict[str, Any], schema: Any, depth: int) -> Any:
    if depth == 0 or not isinstance(schema, dict):
        return schema
    schema = _resolve(spec, schema)
    return {k: _expand(spec, v, depth - 1) for k, v in schema.items()}


async def _send(client: httpx.AsyncClient, attempt: Attempt, headers: dict[str, str]) -> Any:
    request = client.request(
        attempt.method, attempt.path, params=attempt.query, json=attempt.body, headers=headers
    )
    try:  # a stream that starts would never end: its start is the failure
        return await asyncio.wait_for(request, STREAM_SECONDS)
    except TimeoutError:
        return None


async def test_no_route_lets_one_company_reach_anothers_rows(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    a = await build_world(api_runtime, acme, "acme")
    b = await build_world(api_runtime, globex, "globex")
    spec = acme.client._transport.app.openapi()  # type: ignore[attr-defined]
    wanted = path_ids(spec)
    await complete_ids(api_runtime, a, wanted)
    await complete_ids(api_runtime, b, wanted)
    before = await snapshot(api_runtime, b)
    failures: list[str] = []
    walked = 0
    for attempt in attempts(spec, a.ids, b.ids):
        for who, headers in (("admin key", a.admin), ("agent token", a.agent)):
            walked += 1
            answer = await _send(acme.client, attempt, headers)
            problem = _judge(attempt, answer, b)
            if problem is None and await snapshot(api_runtime, b) != before:
                problem = "changed the other company's rows"
                before = await snapshot(api_runtime, b)
            if problem:
                failures.append(f"{attempt.method} {attempt.path} {attempt.query} "
                                f"{attempt.body} as A's {who}: {problem}")  # fmt: skip
    assert walked > 50, f"the walk made only {walked} requests: is the OpenAPI document empty?"
    assert not failures, "\n".join(failures)


def unscoped_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (method, path, operation) of every walked route that takes no id at all."""
    for path, operations in spec["paths"].items():
        if UNWALKED.match(path):
            continue
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if any(p["in"] == "path" and p["name"] not in FIXED for p in params):
                continue
            if any(p["name"] in ID_FIELDS for p in params) or (
                schema is not None and _names_ids(spec, schema)
            ):
                continue  # walked above with the other company's ids in the query or body
            yield method, path, operation


def _every_field(spec: dict[str, Any], operation: dict[str, Any], ids: dict[str, str]) -> Any:
    """Build a body giving every field of the operation's schema (None when it takes none)."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    properties = _resolve(spec, schema).get("properties", {})
    return {name: example(spec, field, name, ids) for name, field in properties.items()}


async def test_no_route_without_ids_reaches_another_companys_rows(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    """A route naming no id (``PATCH /company``, ``POST /teams``…) acts on the caller's company.

    Each is called with every field of its body, with A's admin key and agent token; B's rows,
    its company row included, stay as they were and no answer names one of B's ids.
    """
    a = await build_world(api_runtime, acme, "acme")
    b = await build_world(api_runtime, globex, "globex")
    spec = acme.client._transport.app.openapi()  # type: ignore[attr-defined]
    before = await snapshot(api_runtime, b)
    failures: list[str] = []
    walked = set()
    for method, path, operation in unscoped_operations(spec):
        attempt = Attempt(method.upper(), path, {}, _every_field(spec, operation, a.ids), False)
        walked.add(f"{attempt.method} {path}")
        for who, headers in (("admin key", a.admin), ("agent token", a.agent)):
            answer = await _send(acme.client, attempt, headers)
            if answer is None:
                continue  # an event stream of A's own: nothing of B's to carry
            sent = f"{attempt.method} {path} {attempt.body} as A's {who}"
            # a job id is a small integer, found in any text: the uuids are what can leak
            leaked = [v for v in b.ids.values() if len(v) > 8 and v in answer.text]
            if answer.status_code >= 500 or leaked:
                failures.append(f"{sent}: {answer.status_code} {leaked} {answer.text[:200]}")
            if await snapshot(api_runtime, b) != before:
                failures.append(f"{sent}: changed the other company's rows")
                before = await snapshot(api_runtime, b)
    assert {"PATCH /company", "POST /teams"} <= walked, walked
    assert not failures, "\n".join(failures)


def _judge(attempt: Attempt, answer: Any, theirs: World) -> str | None:
    """Say what is wrong with an answer to a request carrying the other company's ids."""
    if answer is None:
        return "the event stream started"
    allowed = {401, 403, 404} if attempt.foreign_in_path else {401, 403, 404, 422}
    if answer.status_code not in allowed:
        return f"answered {answer.status_code}: {answer.text[:300]}"
    sent = f"{attempt.path} {attempt.query} {attempt.body}"
    leaked = [v for v in theirs.ids.values() if v in answer.text and v not in sent]
    if leaked:
        return f"the answer names the other company's ids {leaked}"
    return None


async def test_no_route_lets_one_integration_reach_anothers_records(
    api_runtime: Runtime, acme: Tenant
) -> None:
    a = await build_world(api_runtime, acme, "acme")
    other = await second_integration(acme)
    spec = acme.client._transport.app.openapi()  # type: ignore[attr-defined]
    await complete_ids(api_runtime, a, path_ids(spec))
    theirs = {**a.ids, **other}
    before = await snapshot(api_runtime, a, other["integration_id"])
    failures: list[str] = []
    for attempt in attempts(spec, a.ids, theirs):
        sent = f"{attempt.path} {attempt.query} {attempt.body}"
        own = (a.ids["integration_id"], a.ids["record_id"])
        if not (any(v in sent for v in other.values()) and any(v in sent for v in own)):
            continue  # ids of one integration only: the company's own, nothing to refuse
        answer = await _send(acme.client, attempt, a.admin)
        if answer is None or answer.status_code not in {403, 404, 422}:
            status = "a stream" if answer is None else f"{answer.status_code} {answer.text[:200]}"
            failures.append(f"{attempt.method} {attempt.path} {attempt.body}: {status}")
        if await snapshot(api_runtime, a, other["integration_id"]) != before:
            failures.append(f"{attempt.method} {attempt.path}: changed the other integration")
            before = await snapshot(api_runtime, a, other["integration_id"])
    assert not failures, "\n".join(failures)
