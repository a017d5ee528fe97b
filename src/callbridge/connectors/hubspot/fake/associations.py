"""The HubSpot fake's associations: the links a create carries, v4's list and PUT.

Every link is stored with its reverse (HubSpot associates both ways); a type id must be one
HubSpot defines between the two object types (``state.ASSOCIATION_TYPES``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake.gate import error
from callbridge.connectors.hubspot.fake.refusals import invalid
from callbridge.connectors.hubspot.fake.state import (
    ASSOCIATION_TYPES,
    TYPE_IDS,
    HubSpotState,
    object_type,
)


def check_link(
    state: HubSpotState, kind: str, link: dict[str, Any]
) -> tuple[str, str, int] | Response:
    """Return a create's association as (to type, to id, type id), or the answer refusing it."""
    to_id = str(link["to"]["id"])
    for spec in link["types"]:
        type_id = int(spec["associationTypeId"])
        for to_type, ids in ASSOCIATION_TYPES.items():
            if to_type[0] == kind and type_id in ids:
                if to_id not in state.objects.get(to_type[1], {}):
                    return error(404, f"{to_type[1]} {to_id} not found", "OBJECT_NOT_FOUND")
                return to_type[1], to_id, type_id
        return invalid(f"association type id {type_id} doesn't exist for {kind}")
    return invalid("an association needs at least one type")


def link(
    state: HubSpotState, kind: str, from_id: str, to_type: str, to_id: str, type_id: int
) -> None:
    """Store an association and its reverse."""
    state.associations.add((kind, from_id, to_type, to_id, type_id))
    back = next(iter(ASSOCIATION_TYPES.get((to_type, kind), {0})))
    state.associations.add((to_type, to_id, kind, from_id, back))


async def listed(state: HubSpotState, request: Request) -> Response:
    """GET /crm/v4/objects/{type}/{id}/associations/{to_type}."""
    kind = object_type(request.path_params["type"]) or ""
    to_type = object_type(request.path_params["to_type"]) or ""
    links = [a for a in state.associations if a[:2] == (kind, request.path_params["id"])]
    results: dict[str, list[dict[str, Any]]] = {}
    for found in links:
        if found[2] == to_type:
            spec = {"category": "HUBSPOT_DEFINED", "typeId": found[4], "label": None}
            results.setdefault(found[3], []).append(spec)
    items = [{"toObjectId": int(k), "associationTypes": v} for k, v in results.items()]
    return JSONResponse({"results": items})


async def associate(state: HubSpotState, request: Request) -> Response:
    """PUT /crm/v4/objects/{type}/{id}/associations/{to_type}/{to_id}; the body is an array."""
    params = request.path_params
    kind, to_type = object_type(params["type"]), object_type(params["to_type"])
    specs = await request.json()
    if kind is None or to_type is None or not isinstance(specs, list):
        return invalid("the body must be an array of association types")
    for object_kind, object_id in ((kind, params["id"]), (to_type, params["to_id"])):
        if object_id not in state.objects.get(object_kind, {}):
            return error(404, f"{object_kind} {object_id} not found", "OBJECT_NOT_FOUND")
    for spec in specs:
        type_id = int(spec["associationTypeId"])
        if type_id not in ASSOCIATION_TYPES.get((kind, to_type), set()):
            return invalid(
                f"association type id {type_id} doesn't exist between {kind} and {to_type}"
            )
        link(state, kind, params["id"], to_type, params["to_id"], type_id)
    answer = {"fromObjectTypeId": TYPE_IDS[kind], "fromObjectId": int(params["id"])}
    answer |= {"toObjectTypeId": TYPE_IDS[to_type], "toObjectId": int(params["to_id"])}
    return JSONResponse(answer | {"labels": []}, status_code=201)
