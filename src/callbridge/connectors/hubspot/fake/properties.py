"""The HubSpot fake's properties API: define a custom property, read a definition."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake.gate import NOT_FOUND, error
from callbridge.connectors.hubspot.fake.refusals import invalid
from callbridge.connectors.hubspot.fake.state import HubSpotState, object_type


async def create(state: HubSpotState, request: Request) -> Response:
    """POST /crm/v3/properties/{type}: define a custom property; 409 if it exists.

    ``hasUniqueValue: true`` makes HubSpot refuse a second object with the same value; an
    object type holds at most ``unique_limit`` such properties.
    """
    kind = object_type(request.path_params["type"]) or ""
    body = await request.json()
    if body["name"] in state.properties.get(kind, set()):
        return error(409, f"A property named '{body['name']}' already exists.", "CONFLICT")
    unique = state.unique.setdefault(kind, set())
    if body.get("hasUniqueValue") and len(unique) >= state.unique_limit:
        return invalid(
            f"{kind} already have the maximum of {state.unique_limit} unique value properties"
        )
    state.properties[kind].add(body["name"])
    if body.get("hasUniqueValue"):
        unique.add(body["name"])
    definition = {"type": "string", "hasUniqueValue": False} | body
    state.definitions[(kind, body["name"])] = definition
    return JSONResponse(definition, status_code=201)


async def read(state: HubSpotState, request: Request) -> Response:
    """GET /crm/v3/properties/{type}/{name}."""
    kind = object_type(request.path_params["type"]) or ""
    name = request.path_params["name"]
    if name not in state.properties.get(kind, set()):
        return error(404, *NOT_FOUND)
    unique = name in state.unique.get(kind, set())
    default = {"name": name, "type": "string", "hasUniqueValue": unique}
    return JSONResponse(state.definitions.get((kind, name), default))
