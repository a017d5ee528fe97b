"""Creates that happen once, even when HubSpot's answer is lost after it stored the object.

Every object Callbridge creates carries ``callbridge_key``, a property defined with
``hasUniqueValue: true`` whose value is derived from what the object is for (the call and the
record, or the contact's claim). So:

- a create sent again answers 409 with the existing object's id instead of making a second one;
- an unsure create (timeout, 5xx, crash: its claim row has no id) is looked up with
  ``GET /crm/v3/objects/{type}/{key}?idProperty=callbridge_key``, a read that does not wait for
  the search index. 404 there means the object was never made, so creating it is safe.

A portal where the property cannot be unique (no consent to create properties, the token cannot
define them, the limit of unique properties reached, or someone defined it without uniqueness) is
handled without it: an unsure create is searched for, and an empty search is believed only once
``search_settle_seconds`` have passed since the create was sent (HubSpot's search shows new objects
"after a few moments"); before that the sync is rescheduled, never repeated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callbridge.connectors.hubspot import batch_create, batching, mapping, pressure
from callbridge.connectors.hubspot.client import HubSpotClient, HubSpotRejected
from callbridge.connectors.hubspot.store import Claim, WrittenObjects
from callbridge.errors import AuthFailed, Permanent, RateLimited

OBJECTS = "/crm/v3/objects"
KIND_OF = {"call": "calls", "deal": "deals", "task": "tasks", "note": "notes"}
KIND_OF |= {"contact": "contacts"}
# Where our custom properties go when we create them [UNVERIFIED group names, properties API].
GROUPS = {"calls": "callinformation", "deals": "dealinformation", "contacts": "contactinformation"}
GROUPS |= {"tasks": "taskinformation", "notes": "noteinformation"}
# How long a portal's missing unique key is believed before defining it is tried again.
KEY_RETRY = timedelta(hours=1)
# (integration, object type) → when the unique key was found unavailable, in this process.
_NO_KEY: dict[tuple[str, str], datetime] = {}
_BATCH = "create:"  # batchers of creates, by object type
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


@dataclass(frozen=True)
class Target:
    """One object to create once: its kind, its external id and the record (or phone) it is for."""

    kind: str
    external_id: str
    record_id: str

    @property
    def object_type(self) -> str:
        """Return HubSpot's object type (``calls``, ``contacts``...)."""
        return KIND_OF[self.kind]

    @property
    def key(self) -> str:
        """Return the object's ``callbridge_key`` value."""
        return mapping.object_key(self.kind, self.external_id, self.record_id)


class OnceCreator:
    """Create objects under a claim, with the unique key, and recover unsure creates."""

    def __init__(
        self,
        client: HubSpotClient,
        written: WrittenObjects,
        clock: Callable[[], datetime],
        integration_id: str,
    ) -> None:
        self.client = client
        self.written = written
        self.clock = clock
        self.integration_id = integration_id

    async def create(self, target: Target, props: dict[str, str], links: list[Any]) -> str:
        """Create the object once: a retry returns the first one, found by its unique key."""
        with pressure.inside(self.integration_id):
            return await self._create(target, props, links)

    async def _create(self, target: Target, props: dict[str, str], links: list[Any]) -> str:
        batched = await self._paid(target)
        keyed = self.has_key(target.object_type)
        claim = await self.written.claim_new(
            target.kind, target.external_id, target.record_id, keyed
        )
        if claim is not None:  # a create was started before: its object, or an unsure one
            if claim.object_id:
                return claim.object_id
            if found := await self.recover(target, claim):
                return found
            batched = await self._paid(target)
            await self._claim(target)  # keyed asked again: the recovery may have lost the key
        try:
            if batched:
                created = await self._batched(target, props, links)
            else:
                created = await self._post(target, props, links)
        except (AuthFailed, Permanent, RateLimited):
            # Refused (by HubSpot, or by our budget after a 400) before anything was made; only
            # an unknown outcome (timeout, 5xx, crash) leaves the claim for a retry to look up.
            await self.written.drop(target.kind, target.external_id, target.record_id)
            raise
        await self.written.save(target.kind, target.external_id, target.record_id, created)
        return created

    async def _paid(self, target: Target) -> bool:
        """Take the create's token, or tell that the create joins a batch (which pays for it).

        Under load, with no token of its own reserved, the create joins a batch (which pays
        and waits for its own token); else the create's token first: refused by our own budget,
        it leaves no claim to look up.
        """
        batched = self.client.prepaid == 0 and batching.coalescing(
            self.client, _BATCH + target.object_type
        )
        if not batched:
            await self.client.ensure_prepaid(1)
        return batched

    async def _batched(self, target: Target, props: dict[str, str], links: list[Any]) -> str:
        """Create the object in a batch with other syncs' creates of its type.

        A conflict on the key is an earlier create's object; any other refusal of the input is
        left to the single create (it defines missing properties, tells a 400 from a 409).
        """
        sent = dict(props)
        if self.has_key(target.object_type):
            sent[mapping.UNIQUE_KEY] = target.key
        kind = target.object_type
        send = functools.partial(batch_create.create, kind)
        batch: batching.Batcher[batch_create.Input, str]
        batch = batching.batcher(self.client, _BATCH + kind, send)
        try:
            return await batch.submit(self.client, batch_create.Input(target.key, sent, links))
        except HubSpotRejected as err:
            if err.status == 409 and err.category == "CONFLICT":
                return await self._holder(target, err)
            await self.client.ensure_prepaid(1)
            return await self._post(target, props, links)

    async def _claim(self, target: Target) -> None:
        """Claim (or restamp) the target, saying whether its create carries the key."""
        keyed = self.has_key(target.object_type)
        await self.written.claim(target.kind, target.external_id, target.record_id, keyed)

    async def claim_of(self, target: Target) -> Claim | None:
        """Return the target's claim row, if a create was ever started."""
        return await self.written.get(target.kind, target.external_id, target.record_id)

    async def recover(self, target: Target, claim: Claim) -> str | None:
        """Return the object an unsure create made, or None when it surely made nothing."""
        found: str | None = None
        if claim.keyed:
            try:
                found = await self._read_by_key(target)
            except HubSpotRejected as err:
                if err.status != 400:  # 400: the key is not a unique property here
                    raise
                self._lose_key(target.object_type)
            else:
                if found is None:  # a read by a unique property is never stale
                    return None
        if found is None:
            found = await self._search(target)
        if found is None:
            self._wait_for_search(target, claim)
            return None
        await self.written.save(target.kind, target.external_id, target.record_id, found)
        return found

    async def _read_by_key(self, target: Target) -> str | None:
        path = f"{OBJECTS}/{target.object_type}/{target.key}"
        params = {"idProperty": mapping.UNIQUE_KEY}
        try:
            found = await self.client.request("GET", path, params=params)
        except HubSpotRejected as err:
            if err.status == 404:
                return None
            raise
        return str(found["id"])

    def _wait_for_search(self, target: Target, claim: Claim) -> None:
        """Refuse to believe an empty search until HubSpot's index has had time to show it."""
        settle = self.client.config.search_settle_seconds
        waited = (self.clock() - claim.created_at).total_seconds()
        if waited < settle:
            raise RateLimited(
                f"HubSpot lost its answer to creating a {target.kind} and its search may not "
                f"show it yet (no unique {mapping.UNIQUE_KEY} property in this portal): looking "
                f"again in {settle - waited:.0f} s rather than creating it twice",
                settle - waited,
            )

    async def _search(self, target: Target) -> str | None:
        """Search for an object we created, by our external and record ids (contacts: phone)."""
        if target.kind == "contact":
            filters = [{"propertyName": "phone", "operator": "EQ", "value": target.record_id}]
        else:
            filters = [
                {
                    "propertyName": mapping.EXTERNAL_ID,
                    "operator": "EQ",
                    "value": target.external_id,
                },
                {"propertyName": mapping.RECORD_ID, "operator": "EQ", "value": target.record_id},
            ]
        body = {"filterGroups": [{"filters": filters}], "limit": 1}
        path = f"{OBJECTS}/{target.object_type}/search"
        try:
            found = await self.client.request("POST", path, json=body, search=True)
        except HubSpotRejected as err:
            if "PROPERTY_DOESNT_EXIST" in err.codes:  # never written anything yet
                return None
            raise
        results = found.get("results") or []
        return str(results[0]["id"]) if results else None

    async def _post(
        self, target: Target, props: dict[str, str], links: list[Any], retry: bool = True
    ) -> str:
        """POST the object with its key; create our missing custom properties once."""
        sent = dict(props)
        if self.has_key(target.object_type):
            sent[mapping.UNIQUE_KEY] = target.key
        body = {"properties": sent, "associations": links}
        try:
            created = await self.client.request(
                "POST", f"{OBJECTS}/{target.object_type}", json=body
            )
        except HubSpotRejected as err:
            if err.status == 409 and err.category == "CONFLICT":
                return await self._holder(target, err)
            ours = [n for n in err.names if n.startswith(("callbridge_", "utm_"))]
            if not retry or "PROPERTY_DOESNT_EXIST" not in err.codes or ours != err.names:
                raise
            await self._define_missing(target.object_type, ours, err)
            if mapping.UNIQUE_KEY in sent and not self.has_key(target.object_type):
                await self._claim(target)  # the create is sent again without the key
            return await self._post(target, props, links, retry=False)
        return str(created["id"])

    async def _holder(self, target: Target, err: HubSpotRejected) -> str:
        """Return the id of the object holding our key (sent before, its answer lost)."""
        named = _EXISTING_ID.search(err.message)
        if named:
            return named.group(1)
        found = await self._read_by_key(target)
        if found is None:
            raise Permanent(
                f"HubSpot refused a {target.kind} as a duplicate: {err.message}"
            ) from err
        return found

    async def _define_missing(
        self, object_type: str, names: list[str], err: HubSpotRejected
    ) -> None:
        """Define our missing properties (with the admin's consent); the key may stay missing."""
        others = [n for n in names if n != mapping.UNIQUE_KEY]
        if not self.client.config.create_custom_properties:
            if others:
                raise Permanent(
                    f"HubSpot {object_type} lack the properties {', '.join(others)}: turn on "
                    "create_custom_properties in the integration, or create them in HubSpot"
                ) from err
            self._lose_key(object_type)
            return
        await self.client.ensure_prepaid(len(names) + 1)  # the definitions, the create again
        for name in others:
            await self._define(object_type, name)
        if mapping.UNIQUE_KEY in names and not await self._define_key(object_type):
            self._lose_key(object_type)

    async def _define(self, object_type: str, name: str, **extra: Any) -> None:
        body = {"name": name, "label": name.replace("_", " ").title(), "type": "string"}
        body |= {"fieldType": "text", "groupName": GROUPS[object_type], **extra}
        try:
            await self.client.request("POST", f"/crm/v3/properties/{object_type}", json=body)
        except HubSpotRejected as err:
            if err.status != 409:  # 409: another worker defined it first
                raise

    async def _define_key(self, object_type: str) -> bool:
        """Define the unique key; False when this portal refuses (limit, scope, object type)."""
        try:
            await self._define(object_type, mapping.UNIQUE_KEY, hasUniqueValue=True)
        except (HubSpotRejected, AuthFailed):  # 400 or 403: work on without it
            return False
        return True

    def has_key(self, object_type: str) -> bool:
        """Tell whether creates of this type carry the key (not known to be unavailable)."""
        lost = _NO_KEY.get((self.integration_id, object_type))
        return lost is None or self.clock() - lost > KEY_RETRY

    def _lose_key(self, object_type: str) -> None:
        _NO_KEY[(self.integration_id, object_type)] = self.clock()
