"""Twilio Voice: call status callbacks and recording status callbacks, signed over the URL.

Twilio posts form-encoded parameters (``application/x-www-form-urlencoded``) and signs the full
URL it posted to plus every parameter with the account's Auth Token (``X-Twilio-Signature``);
bodies sent as JSON are signed through a ``bodySHA256`` query parameter instead. Both are checked
with Twilio's own :class:`twilio.request_validator.RequestValidator`::

    CallSid=CA…&ParentCallSid=CA…&CallStatus=in-progress&Direction=outbound-dial&To=client:alice…

A call through ``<Dial>`` is two legs: the parent (the caller's leg, or the one the API placed)
and a child (``ParentCallSid``, ``Direction=outbound-dial``) per party dialed. Every event of a
child leg carries its parent's ``CallSid`` as call id, so the legs fold into one call; how each
leg's statuses map is in :mod:`callbridge.telephony.twilio.legs`. Users' docs:
``docs/telephony/twilio.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from twilio.request_validator import (  # type: ignore[import-untyped]
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from callbridge.domain.event import CallEvent, EventKind
from callbridge.errors import PayloadError, SignatureError
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.payloads import (
    event_id,
    header,
    ignored_reason,
    json_object,
    load_json,
    validate,
)
from callbridge.telephony.twilio.legs import (
    STATUSES,
    TwilioCall,
    TwilioRecording,
    TwilioRecordingStatus,
    call_event,
)

# Twilio sends some forty parameters; a form with more fields than this is no Twilio callback.
MAX_FIELDS = 200
# Callbacks Twilio may post to the same URL that are not about a call's progress.
_OTHER_CALLBACKS = {
    "TranscriptionStatus": "Twilio's transcription callback",
    "ConferenceSid": "Twilio's conference status callback",
    "StatusCallbackEvent": "Twilio's conference or participant callback",
    "Digits": "Twilio's <Gather> action",
    "AnsweredBy": "Twilio's answering machine detection callback",
}


class _Form(dict[str, list[str]]):
    """Form parameters with every value sent, read by RequestValidator through ``getlist``."""

    def getlist(self, name: str) -> list[str]:
        """Return every value sent for ``name``."""
        return self[name]


class TwilioAdapter:
    """Twilio Voice's status and recording callbacks, signed with the account's Auth Token."""

    name = "twilio"
    # What to paste where (format strings: ``{url}``, ``{docs}``, ``{source_id}``).
    setup_steps = (
        "In Twilio, set {url} (HTTP POST) as the call status callback: in your TwiML, "
        'statusCallback="{url}" on each <Number>, <Client> and <Sip> of <Dial>; for the '
        "caller's leg, the number's (or TwiML App's) \"Call status changes\" URL ({docs}#setup).",
        'Subscribe every event: statusCallbackEvent="initiated ringing answered completed" '
        "(Twilio sends only completed by default).",
        'For recordings, recordingStatusCallback="{url}" on <Dial record="…"> and <Record>.',
        "This source's secret is the account's Auth Token: after rotating it in Twilio, send the "
        'new one with POST /sources/{source_id}/secrets {{"secret": "<the token>"}}.',
        "Twilio signs the exact URL it posts to: {url} must be the address Twilio reaches "
        "(set CALLBRIDGE_PUBLIC_URL; {docs}#behind-a-reverse-proxy).",
        "Map each Client identity or SIP user to its user: set that user's telephony_user_id "
        'to it, exactly as Twilio writes it ("client:alice"), with PATCH /users/<user id> '
        "({docs}#agents).",
        "Make a test call, then read GET /sources/{source_id}/deliveries: every delivery, "
        "accepted, ignored or refused, with the reason (a bad signature is a refused 401).",
    )

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Sequence[str],
        now: datetime,
        url: str = "",
    ) -> None:
        """Check ``X-Twilio-Signature`` over ``url`` and the body with the source's tokens."""
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
        if not url:
            raise SignatureError("no public URL to check X-Twilio-Signature against")
        algorithm = get_signature_algorithm(header(headers, SIGNATURE_SETTINGS_HEADER))
        if algorithm.upper() not in (HMAC_SHA1, HMAC_SHA256):
            raise SignatureError(f"{SIGNATURE_SETTINGS_HEADER} names {algorithm!r}, unsupported")
        params = _signed_params(body, url)
        for secret in secrets:
            if RequestValidator(secret).validate(url, params, signature, algorithm):
                return
        raise SignatureError(
            f"{SIGNATURE_HEADER} is not this source's Auth Token's signature of {url}: if the "
            "token is right, the URL set in Twilio differs (CALLBRIDGE_PUBLIC_URL, or a proxy "
            "missing from CALLBRIDGE_TRUSTED_PROXIES; docs/telephony/twilio.md)"
        )

    def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
        """Read one callback; skip, with the reason, those that say nothing Callbridge logs."""
        moment = now or datetime.now(UTC)
        params = _params(body)
        if "RecordingStatus" in params:
            return _recording(params, moment)
        if "CallStatus" in params:
            call = validate(TwilioCall, params, moment)
            if call.CallStatus not in STATUSES:
                what = f"Twilio's CallStatus {call.CallStatus!r}"
                return ParsedDelivery((), ignored_reason(what))
            ids = event_id(f"call.{call.CallStatus}", params)
            return ParsedDelivery((call_event(ids, call, moment),))
        if not params.get("AccountSid"):
            raise PayloadError("AccountSid", "Field required: this is no Twilio callback")
        other = next((what for key, what in _OTHER_CALLBACKS.items() if key in params), None)
        return ParsedDelivery((), ignored_reason(other or "A Twilio callback without CallStatus"))


def _signed_params(body: bytes, url: str) -> _Form | str:
    """Return what Twilio signed besides the URL: the form, or the raw JSON body's text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SignatureError("the body is not UTF-8, so Twilio did not sign it") from err
    if "bodySHA256" in parse_qs(urlsplit(url).query):
        return text
    form = _Form()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except ValueError as err:
        raise SignatureError(f"the body is not form data Twilio signed: {err}") from err
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def _params(body: bytes) -> dict[str, Any]:
    """Decode the callback's parameters: form-encoded, or a JSON object (``bodySHA256``)."""
    if body.lstrip()[:1] == b"{":
        return json_object(load_json(body))
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except UnicodeDecodeError as err:
        raise PayloadError("body", f"is not UTF-8 form data: {err.reason}") from err
    except ValueError as err:
        raise PayloadError("body", f"is not form data Callbridge reads: {err}") from err
    params: dict[str, Any] = {}
    for name, value in pairs:
        if params.setdefault(name, value) != value:
            raise PayloadError(name, "is sent twice with different values")
    return params


def _recording(params: Mapping[str, Any], now: datetime) -> ParsedDelivery:
    """Map a recording status callback: a completed recording lands on its call."""
    status = validate(TwilioRecordingStatus, params, now)
    if status.RecordingStatus != "completed":
        what = f"Twilio's recording status {status.RecordingStatus!r} (only completed is)"
        return ParsedDelivery((), ignored_reason(what))
    recording = validate(TwilioRecording, params, now)
    kind = EventKind.VOICEMAIL if recording.RecordingSource == "RecordVerb" else EventKind.RECORDING
    at = recording.finished_at() or now
    event = CallEvent(
        event_id(f"recording.{status.RecordingStatus}", params),
        recording.ParentCallSid or recording.CallSid,
        kind,
        at,
        recording_url=str(recording.RecordingUrl),
    )
    return ParsedDelivery((event,))
