"""Refused deliveries remembered per source for its admin: redacted, bounded and throttled.

A sender that gets a 401, 404, 413 or 422 is told why in the answer; the admin sees the same in
``GET /sources/{id}/deliveries`` without reading server logs. The log keeps no header (where
the generic and Ringover signatures travel) and no secret: values of keys that look like one
(Aircall's ``token``) and the source's own secrets are replaced before the excerpt is cut.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from callbridge.runtime import Runtime
from callbridge.storage import sql
from callbridge.storage.deliveries import WebhookRefusalRow, record_refusal
from callbridge.storage.source_cache import Source

log = logging.getLogger(__name__)

#: Characters of the body kept, and of the message the sender got.
EXCERPT_CHARS = 500
MESSAGE_CHARS = 1000
REDACTED = "[redacted]"
# A JSON string value under a key naming a secret ("token", "webhook_secret", "api_key", …),
# its closing quote optional: a body cut or malformed mid-token is redacted all the same.
_SECRET_KEY = r"[\w.-]*(?:token|secret|password|signature|api_?key)[\w.-]*"
_JSON_SECRET = re.compile(rf'("{_SECRET_KEY}"\s*:\s*")(?:[^"\\]|\\.)*', re.IGNORECASE)
_FORM_SECRET = re.compile(rf"((?:^|&){_SECRET_KEY}=)[^&]*", re.IGNORECASE)


def excerpt(body: bytes, secrets: Sequence[str]) -> str:
    """Return the start of ``body`` as text with every secret in it replaced."""
    text = body.decode("utf-8", errors="replace")
    text = _JSON_SECRET.sub(rf"\1{REDACTED}", text)
    text = _FORM_SECRET.sub(rf"\1{REDACTED}", text)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return bounded(text, EXCERPT_CHARS)


def bounded(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters, storable anywhere (no NUL for PostgreSQL)."""
    return text.replace("\x00", "\ufffd")[:limit]


@dataclass
class RefusalBudget:
    """A token bucket per source: a flood of bad deliveries costs a few writes, not one each."""

    burst: float = 20.0
    per_second: float = 1.0
    clock: Callable[[], float] = time.monotonic
    max_sources: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, source_id: str) -> bool:
        """Spend one refusal of the source's budget; False when it is spent."""
        now = self.clock()
        tokens, since = self._buckets.get(source_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - since) * self.per_second)
        if tokens < 1:
            return False
        if len(self._buckets) >= self.max_sources and source_id not in self._buckets:
            self._buckets.clear()
        self._buckets[source_id] = (tokens - 1, now)
        return True


BUDGET = RefusalBudget()


@dataclass(frozen=True)
class Refused:
    """What a refused sender was answered."""

    status: int
    error: str
    message: str
    field: str | None = None


async def remember(
    runtime: Runtime, source: Source, refused: Refused, body: bytes, at: datetime
) -> None:
    """Log a refusal on its source, unless the budget is spent; never fails the answer."""
    if not BUDGET.take(source.id):
        return
    row = WebhookRefusalRow(
        id=0,
        company_id=source.company_id,
        source_id=source.id,
        received_at=at,
        status=refused.status,
        error=refused.error,
        field=bounded(refused.field, 255) if refused.field is not None else None,
        message=bounded(refused.message, MESSAGE_CHARS),
        body_excerpt=excerpt(body, source.secrets),
    )
    try:
        async with runtime.sessions.begin() as session:
            await sql.run(session, record_refusal, row)
    except Exception:  # the sender's answer is what matters; the log is a convenience
        log.exception("could not log a refused delivery of source %s", source.id)
