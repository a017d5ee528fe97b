"""What each telephony provider sends to ``POST /webhooks/{provider}/{source_id}``, for /docs.

One route serves every provider (the URL names it); its OpenAPI operation says, per provider,
the content type, the body and how the delivery is authenticated, so a reader of ``/docs``
knows what Aircall, Ringover, Twilio, 3CX or a generic sender posts. The pages of
``docs/telephony/`` hold the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callbridge.telephony import PROVIDERS

REF = "#/components/schemas/{model}"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Contract:
    """What one provider posts, and how Callbridge checks who sent it."""

    content_type: str
    body: str
    verified_by: str


CONTRACTS = {
    "generic": Contract(
        JSON,
        "one `GenericEvent`, or an array of 1 to 100",
        "Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` "
        "(HMAC-SHA256 with the source's `whsec_` secret)",
    ),
    "aircall": Contract(
        JSON,
        "Aircall's envelope `{resource, event, timestamp, token, data}`",
        "the body's `token` must be the source's webhook token (Aircall signs nothing)",
    ),
    "ringover": Contract(
        JSON,
        "Ringover's envelope `{resource, event, timestamp, data}`",
        "`X-Ringover-Webhook-Signature`: a JWT signed HS512 with the webhook's key",
    ),
    "twilio": Contract(
        FORM,
        "Twilio's call status and recording status callbacks (`CallSid`, `CallStatus`, …)",
        "`X-Twilio-Signature`: Twilio's signature of the public URL and the parameters with "
        "the account's auth token",
    ),
    "3cx": Contract(
        JSON,
        "the call journal the 3CX CRM template posts (`call_type`, `number`, `agent`, …)",
        "the source's API key, sent with Basic authentication (any user name) or as Bearer",
    ),
}
UNKNOWN = Contract(JSON, "see its docs page", "see its docs page")

_OBJECT = {"type": "object", "description": "The call, as the platform documents it"}
_TOKEN = {"type": "string", "description": "The webhook's token"}


def _envelope(title: str, event: str, timestamp: str, **fields: Any) -> dict[str, Any]:
    """Return the schema of a vendor's envelope: resource, event, timestamp, ``fields``, data."""
    properties = {
        "resource": {"type": "string", "example": "call"},
        "event": {"type": "string", "example": event},
        "timestamp": {"type": timestamp, "description": "UNIX seconds"},
        **fields,
        "data": _OBJECT,
    }
    return {
        "title": title,
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }


BODIES: dict[str, list[dict[str, Any]]] = {
    "generic": [
        {"$ref": REF.format(model="GenericEvent")},
        {
            "type": "array",
            "items": {"$ref": REF.format(model="GenericEvent")},
            "minItems": 1,
            "maxItems": 100,
        },
    ],
    "aircall": [_envelope("Aircall webhook", "call.ended", "integer", token=_TOKEN)],
    "ringover": [_envelope("Ringover webhook", "hangup", "number")],
    "3cx": [
        {
            "title": "3CX call journal",
            "type": "object",
            "required": ["call_type", "number"],
            "properties": {
                "call_type": {"enum": ["Inbound", "Outbound", "Missed", "Notanswered"]},
                "number": {"type": "string", "example": "0033612345678"},
                "agent": {"type": "string"},
                "agent_email": {"type": "string"},
                "duration": {"type": "string", "example": "00:01:35"},
                "started_at": {"type": "string"},
                "answered_at": {"type": "string"},
                "ended_at": {"type": "string"},
            },
        }
    ],
}
TWILIO_FORM = {
    "title": "Twilio status callback",
    "type": "object",
    "required": ["CallSid", "AccountSid"],
    "properties": {
        name: {"type": "string"}
        for name in (
            "CallSid",
            "AccountSid",
            "CallStatus",
            "Direction",
            "From",
            "To",
            "ParentCallSid",
            "CallDuration",
            "RecordingSid",
            "RecordingUrl",
            "RecordingStatus",
        )
    },
    "additionalProperties": {"type": "string"},
}
HEADERS = {
    "webhook-id": ("generic", "Unique delivery id (1-255 characters); a repeat is a duplicate."),
    "webhook-timestamp": ("generic", "UNIX seconds; refused when more than 5 minutes away."),
    "webhook-signature": (
        "generic",
        "Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`.",
    ),
    "X-Ringover-Webhook-Signature": ("ringover", "A JWT signed HS512 with the webhook's key."),
    "X-Twilio-Signature": ("twilio", "Twilio's signature of the URL and the parameters."),
}


def contract(provider: str) -> Contract:
    """Return what ``provider`` posts (a provider documented nowhere here: its docs page)."""
    return CONTRACTS.get(provider, UNKNOWN)


def description() -> str:
    """Return the operation's description: one row per registered provider."""
    rows = [
        f"| `{name}` | `{contract(name).content_type}` | {contract(name).body} | "
        f"{contract(name).verified_by} | docs/telephony/{name}.md |"
        for name in sorted(PROVIDERS)
    ]
    return "\n".join(
        [
            "Accept a telephony webhook; 200 only once it and its processing job are committed.",
            "",
            "The URL names the provider. What each one sends:",
            "",
            "| provider | content type | body | verified by | setup |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Refused deliveries (401, 404, 413, 422) are listed with the reason by "
            "`GET /sources/{source_id}/deliveries`.",
        ]
    )


def request_body() -> dict[str, Any]:
    """Return the request body: each registered provider's schema, under its content type."""
    json_bodies = [body for name in sorted(PROVIDERS) for body in BODIES.get(name, [])]
    content: dict[str, Any] = {JSON: {"schema": {"anyOf": json_bodies}}}
    if any(contract(name).content_type == FORM for name in PROVIDERS):
        content[FORM] = {"schema": TWILIO_FORM}
    return {"required": True, "content": content}


def path_parameters() -> list[dict[str, Any]]:
    """Return the path parameters: the registered providers' names, and the source."""
    names = sorted(PROVIDERS)
    return [
        {
            "name": "provider",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": names},
            "description": "The telephony provider (what each sends: the table above).",
        },
        {
            "name": "source_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": "The telephony source, as `POST /sources` returned it.",
        },
    ]


def signature_headers() -> list[dict[str, Any]]:
    """Return the signature headers of the registered providers, each used by one only."""
    return [
        {
            "name": name,
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": f"`{provider}` only: {text}",
        }
        for name, (provider, text) in HEADERS.items()
        if provider in PROVIDERS
    ]
