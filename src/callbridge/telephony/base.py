"""The adapter protocol every telephony provider implements, and what its parser returns.

An adapter is one module under ``telephony/`` registered in :data:`callbridge.telephony.PROVIDERS`
under the name that is also its URL segment (``POST /webhooks/{name}/{source_id}``)::

    class AcmeAdapter:
        name = "acme"

        def verify(self, headers, body, secrets, now, url="") -> None:
            ...  # raise SignatureError unless the delivery is signed with one of ``secrets``

        def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
            ...  # raise PayloadError naming the bad field; ignore non-call events with a reason

The API calls ``verify`` on the raw body before anything else (``url`` is the public URL the
platform posted to, for platforms that sign it: Twilio), then ``parse``; both are pure and
synchronous (no I/O), so they are tested on fixtures alone. ``parse`` enforces the limits of
:mod:`callbridge.telephony.limits` (build the schema from its types), so whatever it returns can
be stored, folded and synced: a delivery is acknowledged only after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callbridge.domain.event import CallEvent


@dataclass(frozen=True)
class ParsedDelivery:
    """What one webhook delivery said: its call events, and why the rest was ignored."""

    events: tuple[CallEvent, ...]
    # Reason the delivery (or part of it) holds events we know and skip; answered 2xx all the same.
    ignored: str | None = None


class TelephonyAdapter(Protocol):
    """A telephony platform's webhooks: check who sent them, then read their call events."""

    name: str

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Sequence[str],
        now: datetime,
        url: str = "",
    ) -> None:
        """Raise SignatureError unless the delivery is authentic and fresh at ``now``.

        ``url`` is the public URL the delivery was posted to (scheme, host, path and query).
        """
        ...

    def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
        """Return the call events of a verified body; raise PayloadError on a malformed one.

        ``now`` is the server's time, which bounds the accepted event times.
        """
        ...
