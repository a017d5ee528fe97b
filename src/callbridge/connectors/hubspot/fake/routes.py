"""The HubSpot fake's routes: every documented path, and the v3 objects' create, read and update.

Search, associations, properties and the account (owners, OAuth) have a module each; the batch
create is ``batches.py``. :class:`Api` is the one endpoint object ``routes()`` serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake import account, associations, batches, properties
from callbridge.connectors.hubspot.fake.gate import NOT_FOUND, error, property_error
from callbridge.connectors.hubspot.fake.refusals import conflict, invalid
from callbridge.connectors.hubspot.fake.search import find
from callbridge.connectors.hubspot.fake.state import (
    CALCULATED_DEAL_COUNT,
    DEAL_COUNT,
    DEFAULT_RETURNED,
    TYPE_IDS,
    HubSpotState,
    object_type,
)

Endpoint = Callable[[Request], Awaitable[Response]]


def routes(state: HubSpotState) -> list[tuple[str, Endpoint, list[str]]]:
    """Return (path, endpoint, methods) for every documented path the fake serves."""
    api = Api(state)
    base = "/crm/v3/objects/{type}"
    v4 = "/crm/v4/objects/{type}/{id}/associations/{to_type}"
    return [
        (base, api.create, ["POST"]),
        (base + "/search", api.search, ["POST"]),
        (base + "/batch/read", api.batch_read, ["POST"]),
        (base + "/batch/create", api.batch_create, ["POST"]),
        (base + "/{id}", api.read, ["GET"]),
        (base + "/{id}", api.patch, ["PATCH"]),
        (v4, api.list_associations, ["GET"]),
        (v4 + "/{to_id}", api.associate, ["PUT"]),
        ("/crm/v3/properties/{type}", api.create_property, ["POST"]),
        ("/crm/v3/properties/{type}/{name}", api.read_property, ["GET"]),
        ("/crm/v3/owners", api.owners, ["GET"]),
        ("/crm/v3/owners/", api.owners, ["GET"]),
        ("/oauth/v1/token", api.token, ["POST"]),
    ]


class Api:
    """Endpoints over one fake account."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state

    def _unknown(self, kind: str, names: Any) -> list[str]:
        return [n for n in names if n not in self.state.properties[kind]]

    def _shown(self, kind: str, stored: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
        names = (wanted or []) + DEFAULT_RETURNED.get(kind, ["hs_object_id", "hs_createdate"])
        props = {n: stored["properties"].get(n) for n in names}
        if DEAL_COUNT in names and kind in CALCULATED_DEAL_COUNT:
            props[DEAL_COUNT] = self.state.deal_count(kind, stored["id"])
        return {k: v for k, v in stored.items() if k != "properties"} | {"properties": props}

    async def create(self, request: Request) -> Response:
        """POST /crm/v3/objects/{type}: validate properties and associations, create: 201."""
        kind = object_type(request.path_params["type"])
        if kind is None:
            return error(404, *NOT_FOUND)
        checked = self.checked(kind, await request.json())
        if isinstance(checked, Response):
            return checked
        stored = self.store(kind, *checked)
        if isinstance(stored, Response):
            return stored
        fault = self.state.take_fault(kind)
        if fault is not None and fault.status is not None:  # stored, and the answer is lost
            return error(fault.status, "An upstream server did not answer in time", "ERROR")
        if fault is not None:
            await asyncio.sleep(fault.hold)
        return JSONResponse(self._shown(kind, stored, list(checked[0])), status_code=201)

    async def batch_create(self, request: Request) -> Response:
        """POST /crm/v3/objects/{type}/batch/create: up to 100 inputs, 201 or 207."""
        return await batches.create(self, request)

    def checked(
        self, kind: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str, int]]] | Response:
        """Return a create input's properties and associations, or the answer refusing it."""
        props = body.get("properties") or {}
        if bad := self._unknown(kind, props):
            return property_error(bad)
        required = {"calls": ["hs_timestamp"], "tasks": ["hs_timestamp"], "deals": ["dealname"]}
        if missing := [n for n in required.get(kind, []) if not props.get(n)]:
            return invalid(f"Missing required properties: {missing}")
        url = props.get("hs_call_recording_url")
        if url and not str(url).startswith("https://"):
            return invalid("hs_call_recording_url: only HTTPS URLs are accepted")
        links = []
        for link in body.get("associations") or []:
            refused = associations.check_link(self.state, kind, link)
            if isinstance(refused, Response):
                return refused
            links.append(refused)
        return props, links

    def store(
        self, kind: str, props: dict[str, Any], links: list[tuple[str, str, int]]
    ) -> dict[str, Any] | Response:
        """Store a checked create with its associations; 409 when a unique value is taken."""
        stored, made = self.state.create(kind, {k: v for k, v in props.items() if v is not None})
        if not made:
            return conflict(kind, stored["id"])
        for to_type, to_id, type_id in links:
            associations.link(self.state, kind, stored["id"], to_type, to_id, type_id)
        return stored

    def shown(self, kind: str, stored: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        """Return an object as HubSpot answers it, with the ``wanted`` properties."""
        return self._shown(kind, stored, wanted)

    def _get(self, request: Request) -> tuple[str, dict[str, Any]] | Response:
        kind = object_type(request.path_params["type"])
        stored = self.state.objects.get(kind or "", {}).get(request.path_params["id"])
        if kind is None or stored is None:
            return error(404, *NOT_FOUND)
        return kind, stored

    async def read(self, request: Request) -> Response:
        """GET /crm/v3/objects/{type}/{id}?properties=a,b[&idProperty=<unique property>].

        A read by a unique property is answered from the objects themselves, not from the
        lagging search index.
        """
        by = request.query_params.get("idProperty")
        found = self._get_by(request, by) if by and by != "hs_object_id" else self._get(request)
        if isinstance(found, Response):
            return found
        wanted = [p for p in request.query_params.get("properties", "").split(",") if p]
        return JSONResponse(self._shown(found[0], found[1], wanted))

    def _get_by(self, request: Request, name: str) -> tuple[str, dict[str, Any]] | Response:
        kind = object_type(request.path_params["type"])
        if kind is None or name not in self.state.unique.get(kind, set()):
            return invalid(
                f"Unable to perform lookup by non-unique {TYPE_IDS.get(kind or '', '?')} "
                f"property {name}"
            )
        holder = self.state.holder(kind, {name: request.path_params["id"]})
        if holder is None:
            return error(404, *NOT_FOUND)
        return kind, self.state.objects[kind][holder]

    async def patch(self, request: Request) -> Response:
        """PATCH /crm/v3/objects/{type}/{id}: update properties, 200."""
        found = self._get(request)
        if isinstance(found, Response):
            return found
        kind, stored = found
        props = (await request.json()).get("properties") or {}
        if bad := self._unknown(kind, props):
            return property_error(bad)
        if (holder := self.state.holder(kind, props, but=stored["id"])) is not None:
            return conflict(kind, holder)
        self.state.update(kind, stored["id"], {k: "" if v is None else v for k, v in props.items()})
        return JSONResponse(self._shown(kind, stored, list(props)))

    async def batch_read(self, request: Request) -> Response:
        """POST /crm/v3/objects/{type}/batch/read by record ids (at most 100 inputs)."""
        kind = object_type(request.path_params["type"]) or ""
        body = await request.json()
        if len(body.get("inputs", [])) > 100:
            return invalid("Too many inputs: the limit is 100")
        found = self.state.objects.get(kind, {})
        wanted = body.get("properties") or []
        results = [
            self._shown(kind, found[str(i["id"])], wanted)
            for i in body.get("inputs", [])
            if str(i["id"]) in found
        ]
        return JSONResponse({"status": "COMPLETE", "results": results})

    async def search(self, request: Request) -> Response:
        """POST /crm/v3/objects/{type}/search: OR of groups, AND of filters, sorted, paged."""
        return await find(self, request)

    async def list_associations(self, request: Request) -> Response:
        """GET /crm/v4/objects/{type}/{id}/associations/{to_type}."""
        return await associations.listed(self.state, request)

    async def associate(self, request: Request) -> Response:
        """PUT /crm/v4/objects/{type}/{id}/associations/{to_type}/{to_id}; the body is an array."""
        return await associations.associate(self.state, request)

    async def create_property(self, request: Request) -> Response:
        """POST /crm/v3/properties/{type}: define a custom property; 409 if it exists."""
        return await properties.create(self.state, request)

    async def read_property(self, request: Request) -> Response:
        """GET /crm/v3/properties/{type}/{name}."""
        return await properties.read(self.state, request)

    async def owners(self, request: Request) -> Response:
        """GET /crm/v3/owners/ (with or without its trailing slash), paged by ``after``."""
        return await account.owners(self.state, request)

    async def token(self, request: Request) -> Response:
        """POST /oauth/v1/token with grant_type=refresh_token: issue a new access token."""
        return await account.token(self.state, request)
