"""Telephony webhooks: verify, store durably with their jobs, then answer 2xx."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from callbridge.api import webhook_docs
from callbridge.api.deps import get_runtime
from callbridge.api.public_url import public_url
from callbridge.ingest import ingest, refuse_oversized
from callbridge.refusal_codes import refusal
from callbridge.runtime.metrics import WEBHOOKS
from callbridge.telephony.generic import GenericEvent
from callbridge.web.refusals import Message

REF = "#/components/schemas/{model}"
GENERIC_SCHEMA = GenericEvent.model_json_schema(ref_template=REF, mode="validation")


#: Documented on the route by ``api/app.py`` (the handler reads the raw request itself).
PATH_PARAMETERS = webhook_docs.path_parameters()
SIGNATURE_HEADERS = webhook_docs.signature_headers()

router = APIRouter(tags=["webhooks"])


class WebhookAnswer(BaseModel):
    """The answer to an accepted delivery."""

    accepted: int
    duplicate: bool
    ignored: str | None = None


class SignatureRefused(BaseModel):
    """A delivery whose signature is missing, stale or wrong."""

    error: Literal["invalid_signature"]
    message: str


class SourceRefused(BaseModel):
    """A delivery to a source that does not exist."""

    error: Literal["unknown_source"]
    message: str


class PayloadRefused(BaseModel):
    """A delivery that is not a valid event: ``field`` names the one at fault."""

    error: Literal["invalid_payload"]
    field: str
    message: str


async def _read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing it with 413 as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, refusal("body_too_large", limit=limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, refusal("body_too_large", limit=limit))
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/webhooks/{provider}/{source_id}",
    response_model=WebhookAnswer,
    responses={
        401: {
            "model": SignatureRefused,
            "description": "bad or missing signature (Aircall: token; 3CX: API key)",
        },
        404: {
            "model": SourceRefused,
            "description": "no source of this provider has this id",
        },
        413: {"model": Message, "description": "body over 1 MiB"},
        503: {
            "model": Message,
            "description": "the server cannot read this source's secret (its "
            "CALLBRIDGE_SECRET_KEY lacks the key it was saved with): send again later",
        },
        422: {
            "model": PayloadRefused,
            "description": "invalid JSON, a missing or ill-typed field, or a value outside its "
            "documented limit (docs/telephony/generic.md#limits); `field` names it",
        },
    },
    description=webhook_docs.description(),
    openapi_extra={"requestBody": webhook_docs.request_body()},
)
async def receive(request: Request) -> Response:
    """Accept a telephony webhook; 200 only once it and its processing job are committed."""
    # The hottest route: no parameter for FastAPI to extract and validate (the two path
    # parameters are documented in PATH_PARAMETERS), no dependency, no response model (the
    # answer's three fields; WebhookAnswer documents the same shape): each cost more than that.
    provider, source_id = request.path_params["provider"], request.path_params["source_id"]
    runtime = get_runtime(request)
    limit = runtime.settings.max_body_bytes
    try:
        body = await _read_limited(request, limit)
    except HTTPException:
        await refuse_oversized(runtime, source_id, provider, limit)
        raise
    url = public_url(request.scope, request.headers, runtime.settings)
    result = await ingest(runtime, source_id, request.headers, body, provider=provider, url=url)
    WEBHOOKS.labels(
        provider=provider, outcome="duplicate" if result.duplicate else "accepted"
    ).inc()
    answer = {"accepted": result.accepted, "duplicate": result.duplicate, "ignored": result.ignored}
    return Response(json.dumps(answer), media_type="application/json")
