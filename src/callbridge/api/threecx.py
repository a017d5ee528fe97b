"""3CX: the contact lookup its CRM template calls, and the template an admin downloads for it.

The template (:mod:`callbridge.telephony.threecx_template`) points 3CX at two URLs of a 3CX
source: ``GET /lookups/3cx/{source_id}?number=…`` here, and the telephony webhook
``POST /webhooks/3cx/{source_id}`` for call journals, which goes through the same ingest as every
provider's webhooks (durable, a repeated journal is one call). Users' docs: docs/telephony/3cx.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from callbridge.api.deps import PrincipalDep, RuntimeDep, get_runtime
from callbridge.api.lookups import VENDOR_REFUSALS, caller_matches, split_name, vendor_source
from callbridge.api.source_setup import base_url
from callbridge.domain.record import ObjectType
from callbridge.errors import PayloadError
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, sql
from callbridge.telephony import PROVIDERS
from callbridge.telephony.limits import NUMBER_MAX
from callbridge.telephony.threecx import international
from callbridge.telephony.threecx_template import TemplateFor, render
from callbridge.web.fields import PathId
from callbridge.web.refusals import AUTHENTICATED, NOT_FOUND

PROVIDER = "3cx"
# 3CX lists the matches for the agent to choose from; more than this is noise on a phone.
MAX_CONTACTS = 10

router = APIRouter(tags=["lookups"])


class ThreeCxContact(BaseModel):
    """One matching record, in the fields the template maps onto 3CX's contact."""

    id: str = Field(description="The CRM record's id (3CX's EntityId)")
    first_name: str
    last_name: str
    company: str = Field(description="The record's name when it is an account, else empty")
    email: str = Field(description="Empty: CRM records are matched by number, not e-mail")
    phone: str = Field(description="The caller's number in E.164 as matched")
    url: str = Field(description="The record's page in the CRM when known, else empty")
    type: str = Field(description="The record's type: contact, lead, account, …")


class ThreeCxContacts(BaseModel):
    """Every record matching the number, the automatic rule's pick first; empty if none."""

    contacts: list[ThreeCxContact]


@router.get(
    "/lookups/3cx/{source_id}",
    responses=VENDOR_REFUSALS,
)
async def threecx_contacts(
    source_id: str,
    request: Request,
    number: Annotated[
        str | None,
        Query(description="The caller's number as 3CX passes it: `00`-prefixed or national"),
    ] = None,
) -> ThreeCxContacts:
    """Answer 3CX's contact lookup with the caller's CRM records (``contacts: []`` if none)."""
    runtime = get_runtime(request)
    source = await vendor_source(runtime, source_id, PROVIDER)
    PROVIDERS[PROVIDER].verify(request.headers, b"", source.secrets, runtime.clock())
    raw = _number(number)
    matches = await caller_matches(runtime, source.company_id, raw)
    contacts = []
    for match in matches[:MAX_CONTACTS]:
        record = match.record
        first, last = split_name(record.name)
        account = record.object_type is ObjectType.ACCOUNT
        contacts.append(
            ThreeCxContact(
                id=record.id,
                first_name=first,
                last_name=last,
                company=record.name if account else "",
                email="",
                phone=match.number,
                url="",
                type=record.object_type.value,
            )
        )
    return ThreeCxContacts(contacts=contacts)


def _number(number: str | None) -> str:
    """Return the number to look up, ``00`` read as ``+``; PayloadError naming ``number``."""
    if number is None or not number.strip():
        raise PayloadError("number", "is required: the template sends ?number=[Number]")
    if len(number) > NUMBER_MAX:
        raise PayloadError("number", f"must be at most {NUMBER_MAX} characters")
    if not number.isprintable():
        raise PayloadError("number", "must not contain control characters")
    return international(number) or ""


@router.get(
    "/sources/{source_id}/3cx-template",
    tags=["admin"],
    response_class=Response,
    responses={
        **AUTHENTICATED,
        **NOT_FOUND,
        200: {
            "description": "The CRM template XML to upload in 3CX (docs/telephony/3cx.md)",
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def threecx_template(
    source_id: PathId, request: Request, who: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """Download the 3CX CRM template of a 3CX source, its URLs and API key filled in."""
    async with runtime.reads() as session:
        source = await sql.run(session, accounts.get_source, source_id, who.company_id)
    if source is None or source["provider"] != PROVIDER:
        raise HTTPException(404, refusal("no_provider_source", provider="3cx", source_id=source_id))
    keys = runtime.box.open(source["secrets_encrypted"])
    assert isinstance(keys, list) and keys
    base = base_url(request, runtime.settings)  # as the source's setup shows its URL
    template = TemplateFor(
        name=source["name"],
        lookup_url=f"{base}/lookups/3cx/{source_id}",
        journal_url=f"{base}/webhooks/3cx/{source_id}",
        api_key=str(keys[0]),
    )
    filename = f"callbridge-3cx-{source_id}.xml"
    return Response(
        render(template),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
