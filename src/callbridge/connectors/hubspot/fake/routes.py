"""The HubSpot fake's routes: objects, search, batch read, associations, properties, owners."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake import batches
from callbridge.connectors.hubspot.fake.gate import NOT_FOUND, error, property_error
from callbridge.connectors.hubspot.fake.state import (
    ASSOCIATION_TYPES,
    CALCULATED_DEAL_COUNT,
    DEAL_COUNT,
    DEFAULT_RETURNED,
    MAX_FILTERS,
    MAX_FILTERS_PER_GROUP,
    MAX_GROUPS,
    TYPE_IDS,
    HubSpotState,
    object_type,
    token_matches,
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


def _invalid(message: str) -> JSONResponse:
    return error(400, message, "VALIDATION_ERROR")


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
            return _invalid(f"Missing required properties: {missing}")
        url = props.get("hs_call_recording_url")
        if url and not str(url).startswith("https://"):
            return _invalid("hs_call_recording_url: only HTTPS URLs are accepted")
        links = []
        for link in body.get("associations") or []:
            refused = self._check_link(kind, link)
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
            self._link(kind, stored["id"], to_type, to_id, type_id)
        return stored

    def shown(self, kind: str, stored: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        """Return an object as HubSpot answers it, with the ``wanted`` properties."""
        return self._shown(kind, stored, wanted)

    def _check_link(self, kind: str, link: dict[str, Any]) -> tuple[str, str, int] | Response:
        to_id = str(link["to"]["id"])
        for spec in link["types"]:
            type_id = int(spec["associationTypeId"])
            for to_type, ids in ASSOCIATION_TYPES.items():
                if to_type[0] == kind and type_id in ids:
                    if to_id not in self.state.objects.get(to_type[1], {}):
                        return error(404, f"{to_type[1]} {to_id} not found", "OBJECT_NOT_FOUND")
                    return to_type[1], to_id, type_id
            return _invalid(f"association type id {type_id} doesn't exist for {kind}")
        return _invalid("an association needs at least one type")

    def _link(self, kind: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        self.state.associations.add((kind, from_id, to_type, to_id, type_id))
        back = next(iter(ASSOCIATION_TYPES.get((to_type, kind), {0})))
        self.state.associations.add((to_type, to_id, kind, from_id, back))

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
            return _invalid(
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
            return _invalid("Too many inputs: the limit is 100")
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
        kind = object_type(request.path_params["type"]) or ""
        raw = await request.body()
        if len(raw) > 3000:
            return _invalid("The request body may be at most 3000 characters")
        body = json.loads(raw)
        groups = body.get("filterGroups") or []
        sizes = [len(g.get("filters") or []) for g in groups]
        if (
            len(groups) > MAX_GROUPS
            or any(s > MAX_FILTERS_PER_GROUP for s in sizes)
            or sum(sizes) > MAX_FILTERS
        ):
            return _invalid(
                f"Too many filters: at most {MAX_GROUPS} filterGroups, {MAX_FILTERS_PER_GROUP} "
                f"filters per group and {MAX_FILTERS} filters in total"
            )
        limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
        if limit > 200 or after + limit > 10_000:
            return _invalid("limit may be at most 200, and paging stops at 10,000 results")
        hits = [
            o
            for o in self.state.objects.get(kind, {}).values()
            if _matches(o, groups) and self.state.searchable(kind, o["id"])
        ]
        for sort in reversed(body.get("sorts") or []):
            name, desc = _sort(sort)
            hits.sort(key=lambda o: o["properties"].get(name) or "", reverse=desc)
        page = hits[after : after + limit]
        answer: dict[str, Any] = {"total": len(hits)}
        answer["results"] = [self._shown(kind, o, body.get("properties")) for o in page]
        if after + limit < len(hits):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return JSONResponse(answer)

    async def list_associations(self, request: Request) -> Response:
        """GET /crm/v4/objects/{type}/{id}/associations/{to_type}."""
        kind = object_type(request.path_params["type"]) or ""
        to_type = object_type(request.path_params["to_type"]) or ""
        links = [a for a in self.state.associations if a[:2] == (kind, request.path_params["id"])]
        results: dict[str, list[dict[str, Any]]] = {}
        for link in links:
            if link[2] == to_type:
                spec = {"category": "HUBSPOT_DEFINED", "typeId": link[4], "label": None}
                results.setdefault(link[3], []).append(spec)
        items = [{"toObjectId": int(k), "associationTypes": v} for k, v in results.items()]
        return JSONResponse({"results": items})

    async def associate(self, request: Request) -> Response:
        """PUT /crm/v4/objects/{type}/{id}/associations/{to_type}/{to_id}; the body is an array."""
        params = request.path_params
        kind, to_type = object_type(params["type"]), object_type(params["to_type"])
        specs = await request.json()
        if kind is None or to_type is None or not isinstance(specs, list):
            return _invalid("the body must be an array of association types")
        for object_kind, object_id in ((kind, params["id"]), (to_type, params["to_id"])):
            if object_id not in self.state.objects.get(object_kind, {}):
                return error(404, f"{object_kind} {object_id} not found", "OBJECT_NOT_FOUND")
        for spec in specs:
            type_id = int(spec["associationTypeId"])
            if type_id not in ASSOCIATION_TYPES.get((kind, to_type), set()):
                return _invalid(
                    f"association type id {type_id} doesn't exist between {kind} and {to_type}"
                )
            self._link(kind, params["id"], to_type, params["to_id"], type_id)
        answer = {"fromObjectTypeId": TYPE_IDS[kind], "fromObjectId": int(params["id"])}
        answer |= {"toObjectTypeId": TYPE_IDS[to_type], "toObjectId": int(params["to_id"])}
        return JSONResponse(answer | {"labels": []}, status_code=201)

    async def create_property(self, request: Request) -> Response:
        """POST /crm/v3/properties/{type}: define a custom property; 409 if it exists.

        ``hasUniqueValue: true`` makes HubSpot refuse a second object with the same value; an
        object type holds at most ``unique_limit`` such properties.
        """
        kind = object_type(request.path_params["type"]) or ""
        body = await request.json()
        if body["name"] in self.state.properties.get(kind, set()):
            return error(409, f"A property named '{body['name']}' already exists.", "CONFLICT")
        unique = self.state.unique.setdefault(kind, set())
        if body.get("hasUniqueValue") and len(unique) >= self.state.unique_limit:
            return _invalid(
                f"{kind} already have the maximum of {self.state.unique_limit} unique value "
                "properties"
            )
        self.state.properties[kind].add(body["name"])
        if body.get("hasUniqueValue"):
            unique.add(body["name"])
        definition = {"type": "string", "hasUniqueValue": False} | body
        self.state.definitions[(kind, body["name"])] = definition
        return JSONResponse(definition, status_code=201)

    async def read_property(self, request: Request) -> Response:
        """GET /crm/v3/properties/{type}/{name}."""
        kind = object_type(request.path_params["type"]) or ""
        name = request.path_params["name"]
        if name not in self.state.properties.get(kind, set()):
            return error(404, *NOT_FOUND)
        unique = name in self.state.unique.get(kind, set())
        default = {"name": name, "type": "string", "hasUniqueValue": unique}
        return JSONResponse(self.state.definitions.get((kind, name), default))

    async def owners(self, request: Request) -> Response:
        """GET /crm/v3/owners/ (with or without its trailing slash), paged by ``after``."""
        limit = int(request.query_params.get("limit", 100))
        after = int(request.query_params.get("after") or 0)
        email = request.query_params.get("email")
        owners = [o for o in self.state.owners if not email or o.get("email") == email]
        answer: dict[str, Any] = {"results": owners[after : after + limit]}
        if after + limit < len(owners):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return JSONResponse(answer)

    async def token(self, request: Request) -> Response:
        """POST /oauth/v1/token with grant_type=refresh_token: issue a new access token."""
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client, refresh = str(form.get("client_id")), str(form.get("refresh_token"))
        if (
            form.get("grant_type") != "refresh_token"
            or self.state.oauth_clients.get(client) != form.get("client_secret")
            or refresh not in self.state.refresh_tokens
        ):
            return JSONResponse(
                {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"},
                status_code=400,
            )
        access = f"oauth-{secrets.token_hex(8)}"
        self.state.tokens.add(access)
        answer = {"access_token": access, "refresh_token": refresh, "expires_in": 1800}
        return JSONResponse(answer | {"token_type": "bearer"})


def conflict(kind: str, holder: str) -> JSONResponse:
    """Return the 409 of a create or update whose unique value another object holds.

    Shaped like HubSpot's documented duplicate-contact answer (CRM objects API): the message names
    the existing object's id [UNVERIFIED for custom unique properties].
    """
    return error(409, f"{kind} already exists. Existing ID: {holder}", "CONFLICT")


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
    operator, wanted = rule["operator"], str(rule.get("value", "")).lower()
    text = (value or "").lower()
    checks: dict[str, Callable[[], bool]] = {
        "EQ": lambda: value is not None and text == wanted,
        "NEQ": lambda: text != wanted,
        "IN": lambda: value is not None and value in rule.get("values", []),
        "NOT_IN": lambda: value not in rule.get("values", []),
        "HAS_PROPERTY": lambda: bool(value),
        "NOT_HAS_PROPERTY": lambda: not value,
        "CONTAINS_TOKEN": lambda: value is not None and token_matches(text, wanted),
        "NOT_CONTAINS_TOKEN": lambda: value is None or not token_matches(text, wanted),
        "GT": lambda: value is not None and text > wanted,
        "GTE": lambda: value is not None and text >= wanted,
        "LT": lambda: value is not None and text < wanted,
        "LTE": lambda: value is not None and text <= wanted,
    }
    return checks[operator]()
