"""One phone search for many numbers: an ``IN`` filter per phone property, split back per number.

A single lookup sends, per phone property, one filter group (``IN`` on the searchable national
digits, ``EQ`` on the raw E.164). A coalesced one sends the same groups with every waiting
number's values in one ``IN`` each, as many numbers as fit in HubSpot's 3,000-character body
(and at most ``MAX_VALUES`` values a filter); the results are split back per number by the very
filters its single search would have applied, so each lookup sees what it would have seen
alone. Should HubSpot not return the calculated properties asked for, a record goes to every
number of the batch and the connector's own check of its numbers (``_matching``) sorts them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from callbridge.connectors.hubspot import batching, mapping
from callbridge.connectors.hubspot.client import HubSpotClient
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import CrmRecord

OBJECTS = "/crm/v3/objects"
MAX_BODY = 3000  # characters of a search request's body [DOC search-the-crm]
MAX_VALUES = 100  # values of one IN filter [UNVERIFIED: a conservative cap]
PAGE = 200  # the largest page a search returns
CALCULATED = {
    "contacts": ["hs_searchable_calculated_phone_number", "hs_searchable_calculated_mobile_number"],
    "companies": ["hs_searchable_calculated_phone_number"],
}
RAW = {"contacts": ["phone", "mobilephone"], "companies": ["phone"]}
PROPERTIES = {"contacts": mapping.CONTACT_PROPERTIES, "companies": mapping.COMPANY_PROPERTIES}

Lookup = tuple[PhoneNumber, str]  # the caller's number and the integration's default region
Found = list[tuple[CrmRecord, bool]]


def groups_of(kind: str, phone: PhoneNumber, region: str) -> list[Any]:
    """Return the filter groups a single lookup of ``phone`` sends (``mapping.phone_groups``)."""
    return mapping.phone_groups(phone, CALCULATED[kind], RAW[kind], region)


def values_of(kind: str, lookup: Lookup) -> dict[str, set[str]]:
    """Return, per property, the values the single lookup of ``lookup`` filters on."""
    values: dict[str, set[str]] = {}
    for group in groups_of(kind, *lookup):
        for rule in group["filters"]:
            found = rule.get("values") or [rule["value"]]
            values.setdefault(rule["propertyName"], set()).update(found)
    return values


def wanted(kind: str, lookups: Sequence[Lookup]) -> dict[str, list[str]]:
    """Return, per property, the values the single lookups of ``lookups`` filter on."""
    values: dict[str, set[str]] = {}
    for lookup in lookups:
        for name, found in values_of(kind, lookup).items():
            values.setdefault(name, set()).update(found)
    return {name: sorted(found) for name, found in values.items()}


def body(kind: str, lookups: Sequence[Lookup], after: int = 0) -> dict[str, Any]:
    """Return the coalesced search: one ``IN`` filter group per phone property."""
    return _body(kind, wanted(kind, lookups), after)


def _body(kind: str, values: dict[str, list[str]], after: int) -> dict[str, Any]:
    groups = [
        {"filters": [{"propertyName": name, "operator": "IN", "values": found}]}
        for name, found in values.items()
    ]
    props = PROPERTIES[kind] + CALCULATED[kind]
    found: dict[str, Any] = {"filterGroups": groups, "properties": props, "limit": PAGE}
    return found | ({"after": str(after)} if after else {})


def fitting(kind: str, lookups: Sequence[Lookup]) -> int:
    """Return how many of the first lookups fit in one search (at least one).

    The body is measured as it grows, each lookup's filters built once: ``json.dumps`` writes
    ``", "`` before every value but a list's first, and before every group but the first.
    """
    merged = values_of(kind, lookups[0])
    size = len(json.dumps(_body(kind, {n: sorted(v) for n, v in merged.items()}, 10_000)))
    count = 1
    for lookup in lookups[1:]:
        values = values_of(kind, lookup)
        fresh = {name: found - merged.get(name, set()) for name, found in values.items()}
        if any(len(merged.get(n, ())) + len(f) > MAX_VALUES for n, f in fresh.items()):
            break
        size += sum(_growth(name, found, name not in merged) for name, found in fresh.items())
        if size > MAX_BODY:
            break
        for name, found in fresh.items():
            merged.setdefault(name, set()).update(found)
        count += 1
    return count


def _growth(name: str, fresh: set[str], new_group: bool) -> int:
    """Return the characters ``fresh`` values add to a body (in a new group, if ``new_group``)."""
    grown = sum(len(json.dumps(value)) + 2 for value in fresh)
    if new_group and fresh:
        empty = {"filters": [{"propertyName": name, "operator": "IN", "values": []}]}
        grown += len(json.dumps(empty))  # its ", " before it, none before its first value
    return grown


def belongs(item: dict[str, Any], kind: str, groups: list[Any]) -> bool:
    """Tell whether the single search with these filter groups would have returned this result."""
    props = item.get("properties") or {}
    if not all(name in props for name in CALCULATED[kind]):
        return True  # not shown: the connector's check of the numbers decides
    for group in groups:
        rule = group["filters"][0]
        value = props.get(rule["propertyName"])
        if value is None:
            continue
        if rule["operator"] == "IN" and value in rule["values"]:
            return True
        if rule["operator"] == "EQ" and str(value).lower() == str(rule["value"]).lower():
            return True
    return False


async def search(
    kind: str, client: HubSpotClient, lookups: list[Lookup]
) -> tuple[int, list[Found]]:
    """Search the first lookups that fit in one body (every page); return them split back."""
    taken = fitting(kind, lookups)
    batch = lookups[:taken]
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        await batching.pay(client, searches=1)
        page = await client.request(
            "POST", f"{OBJECTS}/{kind}/search", json=body(kind, batch, after), paid=True
        )
        items += page.get("results") or []
        after_raw = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after_raw:
            break
        after = int(after_raw)
    if not items:  # unknown numbers, the common case under load: nothing to split
        return taken, [[] for _ in batch]
    records = [(item, mapping.record_from(kind, item), mapping.has_deals(item)) for item in items]
    split = []
    for phone, region in batch:
        groups = groups_of(kind, phone, region)
        split.append([(r, d) for item, r, d in records if belongs(item, kind, groups)])
    return taken, split


async def contacts(client: HubSpotClient, lookups: list[Lookup]) -> tuple[int, list[Found]]:
    """Send one coalesced contacts search."""
    return await search("contacts", client, lookups)


async def companies(client: HubSpotClient, lookups: list[Lookup]) -> tuple[int, list[Found]]:
    """Send one coalesced companies search."""
    return await search("companies", client, lookups)
