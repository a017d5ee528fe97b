"""The HubSpot fake's search: POST /crm/v3/objects/{type}/search, its limits and its filters.

An OR of filter groups, each an AND of filters; string values compare case-insensitively, sorted
and paged as HubSpot documents it; an object is found only once the lagging index has it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake.refusals import invalid
from callbridge.connectors.hubspot.fake.state import (
    MAX_FILTERS,
    MAX_FILTERS_PER_GROUP,
    MAX_GROUPS,
    HubSpotState,
    object_type,
    token_matches,
)


class Api(Protocol):
    """What a search needs of the fake's routes (``routes.Api``): the account, how it shows one."""

    state: HubSpotState

    def shown(self, kind: str, stored: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        """Return an object as HubSpot answers it, with the ``wanted`` properties."""


async def find(api: Api, request: Request) -> Response:
    """POST /crm/v3/objects/{type}/search: OR of groups, AND of filters, sorted, paged."""
    kind = object_type(request.path_params["type"]) or ""
    raw = await request.body()
    if len(raw) > 3000:
        return invalid("The request body may be at most 3000 characters")
    body = json.loads(raw)
    groups = body.get("filterGroups") or []
    sizes = [len(g.get("filters") or []) for g in groups]
    if (
        len(groups) > MAX_GROUPS
        or any(s > MAX_FILTERS_PER_GROUP for s in sizes)
        or sum(sizes) > MAX_FILTERS
    ):
        return invalid(
            f"Too many filters: at most {MAX_GROUPS} filterGroups, {MAX_FILTERS_PER_GROUP} "
            f"filters per group and {MAX_FILTERS} filters in total"
        )
    limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
    if limit > 200 or after + limit > 10_000:
        return invalid("limit may be at most 200, and paging stops at 10,000 results")
    hits = [
        o
        for o in api.state.objects.get(kind, {}).values()
        if _matches(o, groups) and api.state.searchable(kind, o["id"])
    ]
    for sort in reversed(body.get("sorts") or []):
        name, desc = _sort(sort)
        hits.sort(key=lambda o: o["properties"].get(name) or "", reverse=desc)
    page = hits[after : after + limit]
    answer: dict[str, Any] = {"total": len(hits)}
    answer["results"] = [api.shown(kind, o, body.get("properties")) for o in page]
    if after + limit < len(hits):
        answer["paging"] = {"next": {"after": str(after + limit)}}
    return JSONResponse(answer)


def _sort(sort: Any) -> tuple[str, bool]:
    if isinstance(sort, str):
        return sort.lstrip("-"), sort.startswith("-")
    return sort["propertyName"], sort.get("direction") == "DESCENDING"


def _matches(stored: dict[str, Any], groups: list[dict[str, Any]]) -> bool:
    if stored.get("archived"):
        return False
    if not groups:
        return True
    props = stored["properties"]
    return any(all(_test(props, f) for f in g.get("filters") or []) for g in groups)


def _test(props: dict[str, Any], rule: dict[str, Any]) -> bool:
    """Apply one filter; string values compare case-insensitively, as HubSpot does."""
    value = props.get(rule["propertyName"])
    wanted = str(rule.get("value", "")).lower()
    return _OPERATORS[rule["operator"]](value, (value or "").lower(), wanted, rule)


# operator → test of (stored value, its lower case, the filter's value in lower case, the filter)
_Check = Callable[[Any, str, str, dict[str, Any]], bool]
_OPERATORS: dict[str, _Check] = {
    "EQ": lambda value, text, wanted, _: value is not None and text == wanted,
    "NEQ": lambda _, text, wanted, __: text != wanted,
    "IN": lambda value, _, __, rule: value is not None and value in rule.get("values", []),
    "NOT_IN": lambda value, _, __, rule: value not in rule.get("values", []),
    "HAS_PROPERTY": lambda value, *_: bool(value),
    "NOT_HAS_PROPERTY": lambda value, *_: not value,
    "CONTAINS_TOKEN": lambda value, text, wanted, _: (
        value is not None and token_matches(text, wanted)
    ),
    "NOT_CONTAINS_TOKEN": lambda value, text, wanted, _: (
        value is None or not token_matches(text, wanted)
    ),
    "GT": lambda value, text, wanted, _: value is not None and text > wanted,
    "GTE": lambda value, text, wanted, _: value is not None and text >= wanted,
    "LT": lambda value, text, wanted, _: value is not None and text < wanted,
    "LTE": lambda value, text, wanted, _: value is not None and text <= wanted,
}
