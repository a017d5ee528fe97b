"""What to paste where in a telephony platform's console, per provider, for a source."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, Field

from callbridge.api.public_url import public_base
from callbridge.settings import Settings
from callbridge.telephony import PROVIDERS

DOCS = "docs/telephony/{provider}.md"
CHECK = (
    "Make a test call, then read GET /sources/{source_id}/deliveries: every delivery, accepted, "
    "ignored or refused, with the reason (a bad {secret} is a refused 401)."
)

#: Each provider's steps; ``{url}``, ``{source_id}`` and ``{docs}`` are filled in.
STEPS: dict[str, tuple[str, ...]] = {
    "generic": (
        "POST each call event as JSON to {url} (the schema: {docs}#schema).",
        "Sign each delivery with the source's secret (whsec_…, shown once) as Standard Webhooks "
        "do: the webhook-id, webhook-timestamp and webhook-signature headers ({docs}#signing).",
        "To change the secret, POST /sources/{source_id}/secrets: the answer holds the new one; "
        "the previous one keeps working until the next rotation.",
        CHECK.replace("{secret}", "signature"),
    ),
    "aircall": (
        "In the Aircall dashboard, open the webhooks page and add a webhook (or edit yours).",
        "Paste {url} as the webhook's URL.",
        "Tick the call events of {docs}#events (at least call.created, call.answered, "
        "call.hungup and call.ended), then save.",
        "The webhook's token is this source's secret: when Aircall shows another token, send it "
        'with POST /sources/{source_id}/secrets {{"secret": "<the token>"}}.',
        CHECK.replace("{secret}", "token"),
    ),
    "ringover": (
        "In the Ringover dashboard, open the webhooks settings (developer section).",
        "Enable the call and after-call events of {docs}#events and paste {url} as each one's URL.",
        "The call events' signature key is this source's secret: when Ringover gives another "
        'key, send it with POST /sources/{source_id}/secrets {{"secret": "<the key>"}}.',
        CHECK.replace("{secret}", "signature"),
    ),
}
OTHER = (
    "Paste {url} where the platform asks for its webhook URL; the steps are in {docs}.",
    "The platform's secret is this source's secret: when the platform gives another one, send "
    'it with POST /sources/{source_id}/secrets {{"secret": "…"}}.',
    CHECK.replace("{secret}", "secret"),
)

#: What each platform calls the secret a source keeps, for the messages that ask for it.
SECRET_NAMES = {
    "aircall": "Aircall's webhook token, as the webhook's page shows it",
    "ringover": "the signature key of Ringover's call events' webhooks",
    "twilio": "the Twilio account's auth token",
    "3cx": "the API key set in the 3CX CRM template",
}


def secret_name(provider: str) -> str:
    """Return what the platform calls a source's secret."""
    return SECRET_NAMES.get(provider, f"the secret {provider} signs its webhooks with")


class SourceSetup(BaseModel):
    """Where the platform sends its webhooks, and how to set it up there."""

    webhook_url: str = Field(
        description="The URL to paste in the platform's console: CALLBRIDGE_PUBLIC_URL (else "
        "this request's base URL) followed by the webhook path"
    )
    docs: str = Field(description="The provider's setup page, step by step")
    steps: list[str]


def base_url(request: Request, settings: Settings) -> str:
    """Return the address platforms reach Callbridge at: the setting, else this request's.

    The same address webhook signatures are checked against (a trusted proxy's forwarded
    scheme and host included: ``api/public_url.py``).
    """
    return public_base(request.scope, request.headers, settings)


def setup(provider: str, source_id: str, base: str) -> SourceSetup:
    """Return what to paste where for a source of ``provider``."""
    url = f"{base}/webhooks/{provider}/{source_id}"
    docs = DOCS.format(provider=provider)
    # A provider module may bring its own steps (format strings as above) as ``setup_steps``.
    steps = STEPS.get(provider) or getattr(PROVIDERS.get(provider), "setup_steps", None) or OTHER
    filled = [step.format(url=url, docs=docs, source_id=source_id) for step in steps]
    return SourceSetup(webhook_url=url, docs=docs, steps=filled)
