"""Caller lookups: phone systems ask who is calling, answered from the company's CRM records.

The lookup is the syncs' own: each active integration of the source's company is searched with
the number read in the integration's default region (the company's own numbers and extensions
are nobody), and the records found are ordered by the automatic rule, its pick first. A source
answers only from its own company's integrations. A CRM that fails or is slow counts as having
no match: a phone system waiting on the answer must never get a 5xx for it.

Ringover's ``call/contact`` webhook is answered here; 3CX's lookup is in :mod:`.threecx`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from callbridge.api.deps import get_runtime
from callbridge.api.webhooks import PayloadRefused, SignatureRefused, SourceRefused
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import ConnectorError, PayloadError, UnknownSource
from callbridge.rules.automatic_pick import pick
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import accounts, integrations, units, users
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.source_cache import Source
from callbridge.telephony import PROVIDERS
from callbridge.telephony.limits import Identifier, PhoneText
from callbridge.telephony.payloads import VendorSchema, json_object, load_json, validate
from callbridge.telephony.ringover import RingoverEnvelope
from callbridge.web.refusals import Message

log = logging.getLogger(__name__)
# Phone systems wait on the answer while the phone rings: a slower CRM counts as no match.
SEARCH_SECONDS = 4.0
VENDOR_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": SignatureRefused, "description": "missing or wrong key or signature"},
    404: {"model": SourceRefused, "description": "no such source of this provider"},
    422: {"model": PayloadRefused, "description": "a malformed request; `field` names it"},
}

router = APIRouter(tags=["lookups"])


@dataclass(frozen=True)
class Match:
    """A record matching the caller, and the integration (CRM) it is in."""

    integration: IntegrationRow
    record: CrmRecord
    number: str  # the caller's number in E.164, as read in the integration's region


async def vendor_source(runtime: Runtime, source_id: str, provider: str) -> Source:
    """Return the source of ``provider``; UnknownSource (404) for any other id."""
    source = await runtime.sources.get(runtime.reads, runtime.box, source_id)
    if source is None or source.provider != provider:
        raise UnknownSource(f"no {provider} source {source_id}: check the URL in {provider}")
    return source


async def caller_matches(runtime: Runtime, company_id: str, raw: str | None) -> list[Match]:
    """Return the company's records matching ``raw``, the automatic rule's pick first."""
    if not raw:
        return []

    def read(db: Connection) -> tuple[list[IntegrationRow], list[str], list[str]]:
        rows = integrations.list_integrations(db, company_id, active_only=True)
        company = accounts.get_company(db, company_id)
        own = list(company["own_numbers"] or []) if company is not None else []
        return rows, own, users.extensions(db, company_id)

    rows, own, extensions = await units.read(runtime.engine, read)

    async def search(row: IntegrationRow) -> list[Match]:
        number = normalize(raw, row["default_region"], own_numbers=own, extensions=extensions)
        if not isinstance(number, PhoneNumber):
            return []
        try:
            async with asyncio.timeout(SEARCH_SECONDS):
                records = await connector_for(runtime, row).find_by_phone(number)
        except (ConnectorError, TimeoutError):  # one CRM down must not hide the others
            log.warning("caller lookup failed in integration %s", row["id"], exc_info=True)
            return []
        return [Match(row, record, number.e164) for record in records]

    found = await asyncio.gather(*(search(row) for row in rows))
    matches = [match for in_one in found for match in in_one]
    best = pick([m.record for m in matches]).records
    first = [m for m in matches if best and m.record is best[0]]
    return first[:1] + [m for m in matches if not first or m is not first[0]]


def split_name(name: str) -> tuple[str, str]:
    """Split a record's display name into a first name and the rest, for vendors that ask."""
    first, _, rest = name.strip().partition(" ")
    return first, rest.strip()


class RingoverContactQuery(VendorSchema):
    """``call/contact``'s ``data``: the call Ringover wants a contact name for."""

    call_id: Identifier
    direction: Literal["inbound", "outbound"]
    from_number: PhoneText | None = None
    to_number: PhoneText | None = None


class RingoverContact(BaseModel):
    """The contact Ringover shows for the call; ``{}`` when no record matches the number."""

    uuid: str | None = Field(None, description="The CRM record's id")
    firstname: str | None = None
    lastname: str | None = None
    company: str | None = Field(None, description="The record's name when it is an account")
    url: str | None = Field(None, description="The record's page in the CRM, when known")
    data: dict[str, str] | None = Field(None, description="The CRM, record type and match count")
    is_shared: bool | None = None


def ringover_number(body: bytes, now: datetime) -> str | None:
    """Return the external party of a ``call/contact`` request, ``+`` restored; 4xx if not one."""
    document = json_object(load_json(body))
    envelope = validate(RingoverEnvelope, document, now)
    if (envelope.resource, envelope.event) != ("call", "contact"):
        raise PayloadError(
            "event",
            f"expected call/contact, got {envelope.resource}/{envelope.event}: point only "
            "Ringover's contact webhook at this URL (call events go to /webhooks/ringover/…)",
        )
    query = validate(RingoverContactQuery, envelope.data, now, "data")
    digits = query.from_number if query.direction == "inbound" else query.to_number
    if not digits:
        return None
    return "+" + digits if digits.isascii() and digits.isdigit() else digits


@router.post(
    "/lookups/ringover/{source_id}",
    response_model=RingoverContact,
    response_model_exclude_none=True,
    responses={
        **VENDOR_REFUSALS,
        413: {"model": Message, "description": "body over CALLBRIDGE_MAX_BODY_BYTES"},
    },
)
async def ringover_contact(source_id: str, request: Request) -> RingoverContact:
    """Answer Ringover's ``call/contact`` webhook with the caller's CRM record, or ``{}``."""
    runtime = get_runtime(request)
    source = await vendor_source(runtime, source_id, "ringover")
    body = await request.body()
    now = runtime.clock()
    PROVIDERS["ringover"].verify(request.headers, body, source.secrets, now)
    matches = await caller_matches(runtime, source.company_id, ringover_number(body, now))
    if not matches:
        return RingoverContact()
    best = matches[0]
    first, last = split_name(best.record.name)
    account = best.record.object_type is ObjectType.ACCOUNT
    return RingoverContact(
        uuid=best.record.id,
        firstname=first,
        lastname=last,
        company=best.record.name if account else None,
        data={
            "crm": best.integration["name"],
            "type": best.record.object_type.value,
            "matches": str(len(matches)),
        },
        is_shared=True,
    )
