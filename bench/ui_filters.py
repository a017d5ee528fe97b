"""The call history's filtered and deep pages at 100k calls, through the API and the UI.

``bench.ui`` seeds the calls (two agents: one with 1% of the calls; one sync in fifty failed;
every from number distinct) and calls :func:`timed_filters` on a running server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID

import httpx

from callbridge.storage.call_pages import Cursor

_START = datetime(2026, 1, 1, tzinfo=UTC)


def _deep(index: int) -> str:
    """Return the cursor at the call ``index`` of the bench (older calls come after it)."""
    return Cursor(_START + timedelta(minutes=index), str(UUID(int=index + 1))).token()


def filters(integration: str) -> list[tuple[str, dict[str, str]]]:
    """Return the filters timed: a label and the query string of each."""
    return [
        ("one number (exact)", {"number": "+33600042424"}),
        ("number prefix (100 calls)", {"number": "+336000424"}),
        ("agent with 1% of calls", {"agent": "bench-agent-1"}),
        ("integration + failed", {"integration": integration, "status": "failed"}),
        ("days (one week)", {"since": "2026-02-01", "until": "2026-02-07"}),
        ("deep page (call 50,000)", {"after": _deep(50_000)}),
        ("agent 1% + deep page", {"agent": "bench-agent-1", "after": _deep(50_000)}),
    ]


Timer = Callable[..., list[float]]


def timed_filters(
    client: httpx.Client, timed: Timer, key: str, integration: str
) -> list[tuple[str, bool, list[float]]]:
    """Time each filter through ``GET /calls`` and ``/ui/calls``: (label, UI?, times in ms)."""
    found = []
    for label, query in filters(integration):
        api_query = {
            k: v + "T00:00:00Z" if k in ("since", "until") else v for k, v in query.items()
        }
        api = timed(client, "/calls?" + urlencode(api_query), authorization=f"Bearer {key}")
        found.append((f"`GET /calls` {label}", False, api))
        found.append((f"`/ui/calls` {label}", True, timed(client, "/ui/calls?" + urlencode(query))))
    return found
