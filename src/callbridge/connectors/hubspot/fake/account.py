"""The HubSpot fake's account: its owners (users) and the refresh of its OAuth access tokens."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.connectors.hubspot.fake.state import HubSpotState


async def owners(state: HubSpotState, request: Request) -> Response:
    """GET /crm/v3/owners/ (with or without its trailing slash), paged by ``after``."""
    limit = int(request.query_params.get("limit", 100))
    after = int(request.query_params.get("after") or 0)
    email = request.query_params.get("email")
    found = [o for o in state.owners if not email or o.get("email") == email]
    answer: dict[str, Any] = {"results": found[after : after + limit]}
    if after + limit < len(found):
        answer["paging"] = {"next": {"after": str(after + limit)}}
    return JSONResponse(answer)


async def token(state: HubSpotState, request: Request) -> Response:
    """POST /oauth/v1/token with grant_type=refresh_token: issue a new access token."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    client, refresh = str(form.get("client_id")), str(form.get("refresh_token"))
    if (
        form.get("grant_type") != "refresh_token"
        or state.oauth_clients.get(client) != form.get("client_secret")
        or refresh not in state.refresh_tokens
    ):
        return JSONResponse(
            {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"},
            status_code=400,
        )
    access = f"oauth-{secrets.token_hex(8)}"
    state.tokens.add(access)
    answer = {"access_token": access, "refresh_token": refresh, "expires_in": 1800}
    return JSONResponse(answer | {"token_type": "bearer"})
