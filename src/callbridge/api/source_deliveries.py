"""A source's recent deliveries, accepted, ignored or refused, to debug a setup without logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.said_models import StoredSaid
from callbridge.domain.said import Code, Said
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, sql
from callbridge.storage.deliveries import DeliveryEventRow, events_of, recent
from callbridge.web.fields import Limit, Offset, PathId
from callbridge.web.refusals import NOT_FOUND

router = APIRouter(tags=["sources"])

DUPLICATE = Said(Code.DUPLICATE_DELIVERY)
Outcome = Literal["accepted", "ignored", "duplicate", "refused"]
#: Every outcome a delivery can have (the screen labels each: ``ui/labels.py``).
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
#: Every kind of refusal a source's log can hold (``ingest/deliveries.py``, ``api/app.py``).
REFUSAL_KINDS = (
    "invalid_signature",
    "invalid_payload",
    "unknown_source",
    "too_large",
)


class DeliveryEventShown(BaseModel):
    """An event a delivery brought, and the call it went to."""

    event_id: str
    kind: str = Field(description="Callbridge's event kind (docs/telephony/generic.md#events)")
    provider_call_id: str = Field(description="The platform's id of the call")
    call_id: str | None = Field(description="Callbridge's call (GET /calls/{id}); None: not yet")


class DeliveryShown(BaseModel):
    """One delivery to the source: what the sender was answered, and why."""

    outcome: Outcome = Field(
        description="accepted: stored; ignored: answered 2xx but nothing to fold (reason says "
        "why); duplicate: its events were stored before; refused: answered 4xx, nothing stored"
    )
    received_at: datetime
    status: int = Field(description="The HTTP status the sender got")
    reason: str | None = Field(
        description="Why it was ignored, or the message a refused sender got (what to fix)"
    )
    reason_code: StoredSaid = Field(
        default=None,
        description="Why it was ignored or a duplicate, as a code and its parameters (null for "
        "a refusal, or a delivery stored before codes existed)",
    )
    error: str | None = Field(description="A refusal's kind: " + ", ".join(REFUSAL_KINDS))
    field: str | None = Field(description="The field a 422 named")
    delivery_id: str | None = Field(
        description="A stored delivery's id: its webhook-id header, else the body's SHA-256"
    )
    body_excerpt: str | None = Field(
        description="A refused body's first 500 characters, secrets redacted (stored "
        "deliveries show their events instead)"
    )
    events: list[DeliveryEventShown]


class DeliveryList(BaseModel):
    """A page of a source's deliveries, newest first."""

    deliveries: list[DeliveryShown]


@router.get("/sources/{source_id}/deliveries", responses=NOT_FOUND)
async def list_deliveries(
    source_id: PathId,
    who: PrincipalDep,
    runtime: RuntimeDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryList:
    """List the source's recent deliveries, newest first: accepted, ignored and refused.

    Refusals are the last 50 of the source (a flood is recorded a few a second).
    """
    async with runtime.reads() as session:
        if await sql.run(session, accounts.get_source, source_id, who.company_id) is None:
            raise HTTPException(404, refusal("no_source", source_id=source_id))
        rows = await sql.run(session, recent, who.company_id, source_id, limit, offset)
        stored = [row["id"] for row in rows if row["origin"] == "stored"]
        events = await sql.run(session, events_of, who.company_id, stored)
    return DeliveryList(deliveries=[_shown(row, events) for row in rows])


def _shown(row: dict[str, Any], events: list[DeliveryEventRow]) -> DeliveryShown:
    """Return one row of the combined list as the answer shows it."""
    if row["origin"] == "refused":
        return DeliveryShown(
            outcome="refused",
            received_at=row["received_at"],
            status=row["status"],
            reason=row["message"],
            error=row["error"],
            field=row["field"],
            delivery_id=None,
            body_excerpt=row["body_excerpt"],
            events=[],
        )
    brought = [
        DeliveryEventShown.model_validate(e) for e in events if e["delivery_id"] == row["id"]
    ]
    outcome: Outcome = (
        "accepted" if brought else "ignored" if row["ignored_reason"] else "duplicate"
    )
    return DeliveryShown(
        outcome="accepted" if brought else outcome,
        received_at=row["received_at"],
        status=200,
        reason=row["ignored_reason"] or (None if brought else DUPLICATE),
        reason_code=row.get("ignored_code") or (None if brought else DUPLICATE.stored()),
        error=None,
        field=None,
        delivery_id=row["delivery_id"],
        body_excerpt=None,
        events=brought,
    )
