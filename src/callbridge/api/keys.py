"""Admin API keys: a company admin issues, lists and revokes its own company's keys.

A key is shown once, in the answer that creates it; afterwards only its prefix (``cb_…``, the
first 10 characters) is shown. The key a request is made with cannot revoke itself (409): a
company always keeps a working key, and rotating is issue-then-revoke with the new key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, Field

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, sql
from callbridge.web.fields import ID_LENGTH, Name, Storable
from callbridge.web.refusals import AUTHENTICATED, CONFLICT, NOT_FOUND

router = APIRouter(tags=["api keys"], responses=AUTHENTICATED)
KeyId = Annotated[
    Storable, Path(max_length=ID_LENGTH, description="The key's id, from GET /api-keys")
]


class KeyIn(BaseModel):
    """A label for the new key, e.g. who or what uses it."""

    name: Name = "admin"


class KeyShown(BaseModel):
    """An API key as listed: never the key itself, only its prefix."""

    id: str
    name: str
    prefix: str = Field(description="The key's first 10 characters, to tell keys apart")
    created_at: datetime
    revoked_at: datetime | None
    current: bool = Field(description="This is the key the request was made with")


class KeyIssued(BaseModel):
    """A new API key: ``key`` is shown in this answer only, and stored as a SHA-256 hash."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    key: str = Field(description="Send as `Authorization: Bearer cb_…`; not shown again")


_CONFLICT = {**CONFLICT, **NOT_FOUND}
_CONFLICT[409] = {**CONFLICT[409], "description": "The key of the request cannot revoke itself"}


@router.get("/api-keys")
async def list_keys(who: PrincipalDep, runtime: RuntimeDep) -> list[KeyShown]:
    """List the company's API keys, revoked ones included, by prefix."""
    async with runtime.reads() as session:
        rows = await sql.run(session, accounts.list_api_keys, who.company_id)
    return [KeyShown(**row, current=row["id"] == who.key_id) for row in rows]


@router.post("/api-keys", status_code=201)
async def issue_key(who: PrincipalDep, runtime: RuntimeDep, body: KeyIn | None = None) -> KeyIssued:
    """Issue a new admin API key for the company; it is shown once, in this answer."""
    name = body.name if body else "admin"
    async with runtime.sessions.begin() as session:
        issued = await sql.run(
            session, accounts.issue_api_key, who.company_id, name, runtime.clock()
        )
    return KeyIssued(
        id=issued.id,
        name=issued.name,
        prefix=issued.prefix,
        created_at=issued.created_at,
        key=issued.key,
    )


@router.delete("/api-keys/{key_id}", status_code=204, responses=_CONFLICT)
async def revoke_key(key_id: KeyId, who: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Revoke one of the company's keys at once; not the one this request is made with."""
    if key_id == who.key_id:
        raise HTTPException(409, refusal("key_revokes_itself"))
    async with runtime.sessions.begin() as session:
        found = await sql.run(
            session, accounts.revoke_api_key, who.company_id, key_id, runtime.clock()
        )
    if not found:
        raise HTTPException(404, refusal("no_api_key", key_id=key_id))
    return Response(status_code=204)
