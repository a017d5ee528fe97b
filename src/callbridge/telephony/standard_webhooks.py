"""Standard Webhooks signatures (https://www.standardwebhooks.com): verify, sign, make secrets.

A delivery carries three headers: ``webhook-id`` (unique per message, kept across retries),
``webhook-timestamp`` (UNIX seconds) and ``webhook-signature``, a space-separated list of
``v1,<base64 HMAC-SHA256>`` entries computed over ``f"{id}.{timestamp}.{body}"`` with the key
decoded from a ``whsec_<base64>`` secret. Several entries and several secrets allow rotation.

Written here rather than taken from the ``standardwebhooks`` package: it is a few lines of
``hmac``, and the errors must tell the sender exactly what to fix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as secrets_module
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from callbridge.errors import SignatureError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = timedelta(minutes=5)
_SIGNATURE_VERSION = "v1"
_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def generate_secret() -> str:
    """Return a new random secret: ``whsec_`` and the base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(24)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header value for one message signed with one secret."""
    return f"{_SIGNATURE_VERSION},{_signature(_key(secret), msg_id, str(timestamp), body)}"


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: datetime,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Check a delivery's Standard Webhooks signature; raise SignatureError saying what is wrong.

    ``now`` must be timezone-aware. Any ``v1`` entry of the header matching any of ``secrets``
    passes, so a sender may sign with an old and a new secret while they are rotated.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id, timestamp, signature_header = (_header(lowered, name) for name in _HEADERS)
    _check_timestamp(timestamp, now, tolerance)
    if not secrets:
        raise SignatureError(
            "no webhook secret is configured for this source: create one and give it to the sender"
        )
    candidates = _signatures(signature_header)
    for position, secret in enumerate(secrets, start=1):
        expected = _signature(_key(secret, position), msg_id, timestamp, body).encode("ascii")
        # compare_digest against every entry, so timing says nothing about which one was close.
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise SignatureError(
        f"webhook-signature matches none of the {len(secrets)} secret(s) of this source: check "
        "that the sender signs with this source's secret, over the exact bytes of the body "
        "(no re-encoding by a proxy), as base64(HMAC-SHA256(key, id.timestamp.body))"
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    """Return a required header's value or raise SignatureError naming it."""
    value = headers.get(name, "").strip()
    if not value:
        raise SignatureError(
            f"{name} header is missing: sign deliveries with the Standard Webhooks scheme "
            "(headers webhook-id, webhook-timestamp, webhook-signature)"
        )
    return value


def _check_timestamp(timestamp: str, now: datetime, tolerance: timedelta) -> None:
    """Raise SignatureError when the timestamp is not an integer or too far from ``now``."""
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError(
            f"webhook-timestamp must be whole UNIX seconds, got {timestamp[:40]!r}: "
            "send int(time.time()) of the moment of signing"
        )
    skew = int(timestamp) - int(now.timestamp())
    limit = int(tolerance.total_seconds())
    if abs(skew) > limit:
        side = "ahead of" if skew > 0 else "behind"
        raise SignatureError(
            f"webhook-timestamp is {abs(skew)} s {side} server time; tolerance is {limit} s: "
            "check the sender's clock (NTP), and sign each delivery when it is sent, not queued"
        )


def _signatures(header: str) -> list[bytes]:
    """Return the base64 signatures of the ``v1`` entries of a ``webhook-signature`` header."""
    found = []
    for entry in header.split():
        version, _, value = entry.partition(",")
        if version == _SIGNATURE_VERSION and value:
            found.append(value.encode("ascii", errors="replace"))
    if not found:
        raise SignatureError(
            "webhook-signature has no 'v1,<base64>' entry: only symmetric v1 signatures "
            "(HMAC-SHA256) are accepted"
        )
    return found


def _key(secret: str, position: int = 1) -> bytes:
    """Decode the key bytes of a ``whsec_<base64>`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as err:
        raise SignatureError(
            f"secret #{position} of this source is not a valid whsec_<base64> secret: "
            "generate a new one"
        ) from err
    if not key:
        raise SignatureError(f"secret #{position} of this source is empty: generate a new one")
    return key


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    """Return base64(HMAC-SHA256(key, id.timestamp.body))."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode("ascii")
