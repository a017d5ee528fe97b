"""Pre-signed, realistic webhook deliveries of every telephony provider, for the benchmarks.

Each builder yields deliveries (body, headers) forever, a few events per call, fresh call ids,
signed as the platform signs them (shapes copied from the e2e tests and docs/telephony/).
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

import jwt
from twilio.request_validator import RequestValidator

from bench.ingest import prepared_deliveries

Delivery = tuple[bytes, dict[str, str]]
SECRETS = {
    "aircall": "4d7f1c2b9e0a4f6d8c3b5a7e9f1d2c4b",
    "ringover": "rk_" + "9e2c4a6f1b3d5e7a" * 4,
    "twilio": "3c9a7e5f1b2d4c6e8a0b2d4f6a8c0e1f",
    "3cx": "k3cx_" + "4b7d1e9a2c5f8036" * 3,
}
LINE = "+14155550100"
_JSON = {"content-type": "application/json"}


def _numbers() -> Iterator[tuple[int, str, float]]:
    """Yield (fresh call number, customer phone, start time an hour or so ago) per call."""
    base = random.randrange(10**9, 2 * 10**9)
    start = time.time() - 3600
    for n in itertools.count():
        yield base + n, f"+1212555{n % 10_000:04d}", start + n * 0.5


def _aircall(secret: str, _url: str) -> Iterator[Delivery]:
    """Aircall: created, answered, ended envelopes of an inbound call (token in the body)."""
    agent = {"id": 456123, "name": "Claire Martin", "email": "claire.martin@example.com"}
    for call_id, phone, start in _numbers():
        at = int(start)
        call: dict[str, Any] = {
            "id": call_id,
            "direct_link": f"https://api.aircall.io/v1/calls/{call_id}",
            "direction": "inbound",
            "status": "initial",
            "started_at": at,
            "answered_at": None,
            "ended_at": None,
            "duration": 0,
            "raw_digits": phone,
            "user": None,
            "number": {"id": 98765, "digits": LINE},
            "comments": [],
            "tags": [],
        }
        talk = {**call, "status": "answered", "answered_at": at + 9, "user": agent}
        done = {**talk, "status": "done", "ended_at": at + 104, "duration": 104}
        for event, moment, data in (
            ("call.created", at, call),
            ("call.answered", at + 9, talk),
            ("call.ended", at + 134, done),
        ):
            document = {"resource": "call", "event": event, "timestamp": moment, "data": data}
            yield json.dumps({**document, "token": secret}).encode(), dict(_JSON)


def _ringover(secret: str, _url: str) -> Iterator[Delivery]:
    """Ringover: ringing, answered, hangup of an inbound call, each with its own HS512 JWT."""
    user = {"user_id": 123456789, "firstname": "Jean", "lastname": "Dupont", "email": "j@ex.com"}
    for call_id, phone, start in _numbers():
        call = {
            "id": f"5762-{call_id}",
            "call_id": call_id,
            "channel_id": 7340032412,
            "start_time": start,
            "direction": "inbound",
            "from_number": phone.lstrip("+"),
            "to_number": LINE.lstrip("+"),
            "is_internal": 0,
            "is_anonymous": 0,
            "is_ivr": 0,
            "user": user,
            "status": "ringing",
        }
        answered, hangup = start + 8.25, start + 121.5
        talk = {**call, "status": "answered", "answered_time": answered}
        for event, moment, data in (
            ("ringing", start, call),
            ("answered", answered, talk),
            ("hangup", hangup, {**talk, "status": "hangup", "hangup_time": hangup}),
        ):
            document = {"resource": "call", "event": event, "timestamp": moment, "data": data}
            token = jwt.encode({"iat": int(time.time())}, secret, algorithm="HS512")
            yield json.dumps(document).encode(), {**_JSON, "X-Ringover-Webhook-Signature": token}


def _twilio(secret: str, url: str) -> Iterator[Delivery]:
    """Twilio: ringing, in-progress, completed status callbacks, signed over the public URL."""
    validator = RequestValidator(secret)
    account = "AC" + "0123456789abcdef" * 2
    for n, phone, start in _numbers():
        common = {
            "AccountSid": account,
            "ApiVersion": "2010-04-01",
            "CallSid": f"CA{n:032x}",
            "Direction": "inbound",
            "From": phone,
            "Caller": phone,
            "To": LINE,
            "Called": LINE,
            "CallbackSource": "call-progress-events",
        }
        for status, at, more in (
            ("ringing", start, {}),
            ("in-progress", start + 1, {}),
            ("completed", start + 130, {"CallDuration": "130"}),
        ):
            values = {**common, "CallStatus": status, "Timestamp": formatdate(at), **more}
            headers = {
                "content-type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": validator.compute_signature(url, values),
            }
            yield urlencode(values).encode(), headers


def _threecx(secret: str, _url: str) -> Iterator[Delivery]:
    """3CX: one call journal per call (its only delivery), the API key by Basic."""
    auth = base64.b64encode(f"callbridge:{secret}".encode()).decode()
    headers = {**_JSON, "Authorization": f"Basic {auth}"}

    def iso(at: float) -> str:
        return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    for _, phone, start in _numbers():
        journal = {
            "call_type": "Inbound",
            "number": "001" + phone[2:],
            "agent": "101",
            "agent_email": "ann@example.com",
            "agent_first_name": "Ann",
            "agent_last_name": "Lee",
            "duration": "00:01:42",
            "started_at": iso(start),
            "answered_at": iso(start + 7),
            "ended_at": iso(start + 109),
        }
        yield json.dumps(journal).encode(), dict(headers)


def _generic(secret: str, _url: str) -> Iterator[Delivery]:
    """The generic schema: ringing, answered, ended, Standard Webhooks signatures."""
    while True:
        yield from prepared_deliveries(secret, 300)


BUILDERS: dict[str, Callable[[str, str], Iterator[Delivery]]] = {
    "generic": _generic,
    "aircall": _aircall,
    "ringover": _ringover,
    "twilio": _twilio,
    "3cx": _threecx,
}
