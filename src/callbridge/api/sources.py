"""Telephony sources: create one, show what to paste where, rotate its secret."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, StrictBool

from callbridge.api import source_deliveries
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.source_setup import SourceSetup, base_url, secret_name, setup
from callbridge.crypto import SecretBox
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, sql
from callbridge.storage.tables import telephony_sources
from callbridge.telephony import PROVIDERS
from callbridge.telephony.standard_webhooks import generate_secret
from callbridge.web.fields import Name, PathId, Storable
from callbridge.web.refusals import AUTHENTICATED, NOT_FOUND, refuse

router = APIRouter(tags=["sources"], responses=AUTHENTICATED)
VendorSecret = Annotated[Storable, Field(min_length=8, max_length=1000)]


class SourceIn(BaseModel):
    """A generic telephony source: Callbridge generates its signing secret."""

    provider: Literal["generic"] = "generic"
    name: Name


class VendorSourceIn(BaseModel):
    """A vendor's telephony source: the platform makes the webhook secret, pasted here."""

    provider: Literal[tuple(sorted(set(PROVIDERS) - {"generic"}))]  # type: ignore[valid-type]
    name: Name
    secret: VendorSecret = Field(
        description="The platform's webhook secret: Aircall's webhook token, Ringover's "
        "signature key, the Twilio account's Auth Token (docs/telephony/)"
    )


class SecretRotation(BaseModel):
    """A new secret for a source: the platform's for a vendor source; none for a generic one."""

    secret: VendorSecret | None = Field(
        default=None,
        description="Required for a vendor source (the platform makes it: Aircall's webhook "
        "token, Ringover's signature key, …); refused for a generic source, whose new secret "
        "Callbridge generates",
    )
    keep_previous: StrictBool = Field(
        default=True,
        description="Keep the previous secret working until the next rotation, while the "
        "platform switches; false: only the new secret works from now on",
    )


class SourceShown(BaseModel):
    """A telephony source (never its signing secrets)."""

    id: str
    company_id: str
    provider: str
    name: str
    created_at: datetime


class SourceDetail(SourceShown):
    """A telephony source with what to paste where in its platform's console."""

    setup: SourceSetup


class SourceCreated(BaseModel):
    """A new telephony source: ``secret`` is shown in this answer only."""

    id: str
    provider: str
    name: str
    secret: str = Field(
        description="The signing secret (`whsec_…`, or the platform's as sent); not shown again"
    )
    webhook_path: str = Field(description="Where the platform sends its webhooks")
    setup: SourceSetup


class SecretRotated(BaseModel):
    """A source's new signing secret, shown in this answer only."""

    id: str
    secret: str = Field(description="The new signing secret (the platform's, as sent)")
    previous_kept: bool = Field(description="The previous secret works until the next rotation")


@router.post("/sources", status_code=201)
async def create_source(
    body: SourceIn | VendorSourceIn, request: Request, who: PrincipalDep, runtime: RuntimeDep
) -> SourceCreated:
    """Register a telephony source; its signing secret is shown once, in this answer."""
    secret = body.secret if isinstance(body, VendorSourceIn) else generate_secret()
    async with runtime.sessions.begin() as session:
        source_id = await sql.run(
            session,
            accounts.create_source,
            who.company_id,
            body.provider,
            body.name,
            runtime.box.seal([secret]),
            runtime.clock(),
        )
    return SourceCreated(
        id=source_id,
        provider=body.provider,
        name=body.name,
        secret=secret,
        webhook_path=f"/webhooks/{body.provider}/{source_id}",
        setup=setup(body.provider, source_id, base_url(request, runtime.settings)),
    )


@router.get("/sources")
async def list_sources(who: PrincipalDep, runtime: RuntimeDep) -> list[SourceShown]:
    """List telephony sources (never their secrets)."""
    async with runtime.reads() as session:
        rows = await sql.run(session, accounts.list_rows, telephony_sources, who.company_id)
    return [SourceShown.model_validate(row) for row in rows]


@router.get("/sources/{source_id}", responses=NOT_FOUND)
async def read_source(
    source_id: PathId, request: Request, who: PrincipalDep, runtime: RuntimeDep
) -> SourceDetail:
    """Show a source and what to paste where in its platform's console (never its secrets)."""
    async with runtime.reads() as session:
        row = await sql.run(session, accounts.get_source, source_id, who.company_id)
    if row is None:
        raise HTTPException(404, refusal("no_source", source_id=source_id))
    shown = setup(row["provider"], source_id, base_url(request, runtime.settings))
    return SourceDetail.model_validate({**row, "setup": shown})


@router.post("/sources/{source_id}/secrets", status_code=201, responses=NOT_FOUND)
async def rotate_secret(
    source_id: PathId,
    who: PrincipalDep,
    runtime: RuntimeDep,
    body: SecretRotation | None = None,
) -> SecretRotated:
    """Give a source a new secret; the previous one keeps working until the next rotation.

    A generic source's secret is generated here; a vendor source takes the platform's new one.
    """
    rotation = body or SecretRotation()
    async with runtime.sessions.begin() as session:
        source = await sql.run(session, accounts.get_source, source_id, who.company_id)
        if source is None:
            raise HTTPException(404, refusal("no_source", source_id=source_id))
        secret = _new_secret(source["provider"], rotation)
        kept = _readable(runtime.box, source["secrets_encrypted"])
        previous = [old for old in kept[:1] if old != secret] if rotation.keep_previous else []
        sealed = runtime.box.seal([secret, *previous])
        await sql.run(
            session,
            accounts.change_row,
            telephony_sources,
            who.company_id,
            source_id,
            {"secrets_encrypted": sealed},
        )
    runtime.sources.forget(source_id)
    return SecretRotated(id=source_id, secret=secret, previous_kept=bool(previous))


def _readable(box: SecretBox, sealed: bytes) -> list[str]:
    """Return a source's secrets; none when sealed with a key the server lacks (then replaced)."""
    try:
        kept = box.open(sealed)
    except ValueError:  # the way out of a lost CALLBRIDGE_SECRET_KEY: the old one cannot be kept
        return []
    assert isinstance(kept, list)
    return kept


def _new_secret(provider: str, rotation: SecretRotation) -> str:
    """Return the source's new secret: generated, or the platform's; 422 naming ``secret``."""
    if provider == "generic":
        if rotation.secret is not None:
            raise refuse(("body", "secret"), refusal("generated_secret"))
        return generate_secret()
    if rotation.secret is None:
        needed = refusal("secret_required", provider=provider, secret_name=secret_name(provider))
        raise refuse(("body", "secret"), needed)
    return rotation.secret


router.include_router(source_deliveries.router)
