"""Request dependencies: the runtime and the authenticated company."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callbridge.refusal_codes import refusal
from callbridge.runtime import Runtime
from callbridge.storage import sql
from callbridge.storage.accounts import Principal, authenticate, is_agent_token

_bearer = HTTPBearer(auto_error=False, description="A company API key: `Bearer cb_…`")


async def runtime_of(request: Request) -> Runtime:
    """Return the process runtime stored on the app (async: FastAPI runs sync ones in a thread)."""
    return get_runtime(request)


def get_runtime(request: Request) -> Runtime:
    """Return the process runtime stored on the app."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the company API key, or answer 401 saying how to get one.

    An agent token (``cba_…``) is known but not enough here: 403 says the route needs the key.
    """
    if credentials is None:
        raise HTTPException(
            401,
            refusal("missing_api_key"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    runtime = get_runtime(request)
    async with runtime.reads() as session:
        principal = await sql.run(session, authenticate, credentials.credentials)
        agent = principal is None and await sql.run(
            session, is_agent_token, credentials.credentials
        )
    if agent:
        raise HTTPException(403, refusal("agent_token_not_key"))
    if principal is None:
        raise HTTPException(
            401,
            refusal("unknown_api_key"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
