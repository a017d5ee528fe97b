"""Agent-scoped tokens: an admin issues one per user; the dialer acts as that user with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from callbridge.api.deps import PrincipalDep, RuntimeDep, get_runtime
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, agent_tokens, sql
from callbridge.storage.accounts import AGENT_TOKEN_PREFIX, authenticate
from callbridge.storage.tables import users
from callbridge.web.fields import Name, PathId
from callbridge.web.refusals import AUTHENTICATED, NOT_FOUND

router = APIRouter(tags=["agents"], responses={**AUTHENTICATED, **NOT_FOUND})
_bearer = HTTPBearer(
    auto_error=False, description="An agent token (`Bearer cba_…`) or the company API key"
)


TOKEN_PREFIX = AGENT_TOKEN_PREFIX


@dataclass(frozen=True)
class Actor:
    """Who calls a dialer route: an agent (by token) or an admin (token or company API key)."""

    company_id: str
    user_id: str | None
    name: str
    is_admin: bool
    permissions: tuple[str, ...] | None  # None: an admin needs no team permission

    def may_act_on(self, owner_id: str | None) -> bool:
        """Tell whether the actor may see or change something owned by ``owner_id``."""
        return self.is_admin or (owner_id is not None and owner_id == self.user_id)


class TokenIn(BaseModel):
    """A label for the token, e.g. the device it is for."""

    name: Name = "dialer"


class TokenIssued(BaseModel):
    """A new agent token: ``token`` is shown in this answer only, and stored as a hash."""

    id: str
    user_id: str
    name: str
    token: str = Field(description="Send as `Authorization: Bearer cba_…`; not shown again")


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Authenticate an agent token or the company API key, or answer 401."""
    if credentials is None:
        raise HTTPException(
            401,
            refusal("missing_token"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    runtime = get_runtime(request)
    raw = credentials.credentials
    async with runtime.reads() as session:
        if raw.startswith(TOKEN_PREFIX):
            agent = await sql.run(session, agent_tokens.agent_of, raw)
            if agent is not None:
                admin = agent.role == "admin"
                return Actor(
                    agent.company_id,
                    agent.user_id,
                    agent.name,
                    admin,
                    None if admin else agent.permissions,
                )
        else:
            principal = await sql.run(session, authenticate, raw)
            if principal is not None:
                return Actor(principal.company_id, None, "admin (API key)", True, None)
    raise HTTPException(
        401,
        refusal("unknown_token"),
        headers={"WWW-Authenticate": "Bearer"},
    )


ActorDep = Annotated[Actor, Depends(get_actor)]


async def _user_in_company(runtime: Any, company_id: str, user_id: str) -> None:
    async with runtime.reads() as session:
        found = await sql.run(session, accounts.get_row, users, company_id, user_id)
    if found is None:
        raise HTTPException(404, refusal("no_user", user_id=user_id))


@router.post("/users/{user_id}/tokens", status_code=201)
async def create_token(
    user_id: PathId, who: PrincipalDep, runtime: RuntimeDep, body: TokenIn | None = None
) -> TokenIssued:
    """Issue an agent token for a user; it is shown once, in this answer, and stored hashed."""
    await _user_in_company(runtime, who.company_id, user_id)
    name = body.name if body else "dialer"
    async with runtime.sessions.begin() as session:
        token_id, raw = await sql.run(
            session, agent_tokens.create_token, who.company_id, user_id, name, runtime.clock()
        )
    return TokenIssued(id=token_id, user_id=user_id, name=name, token=raw)


@router.delete("/users/{user_id}/tokens/{token_id}", status_code=204)
async def revoke_token(
    user_id: PathId, token_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """Revoke an agent token at once."""
    async with runtime.sessions.begin() as session:
        found = await sql.run(
            session, agent_tokens.revoke_token, who.company_id, user_id, token_id, runtime.clock()
        )
    if not found:
        raise HTTPException(404, refusal("no_token", token_id=token_id, user_id=user_id))
    return Response(status_code=204)
