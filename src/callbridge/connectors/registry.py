"""Find connectors, built-in and third-party alike, through the ``callbridge.connectors`` group."""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points

from callbridge.connectors.base import ConnectorFactory

GROUP = "callbridge.connectors"
log = logging.getLogger("callbridge.connectors")


@cache
def connectors() -> dict[str, ConnectorFactory]:
    """Return every installed connector factory by its registry key."""
    found: dict[str, ConnectorFactory] = {}
    for entry in entry_points(group=GROUP):
        try:
            found[entry.name] = entry.load()
        except Exception:  # one broken plugin must not take every other connector down
            log.exception("connector %r (%s) cannot be loaded; skipped", entry.name, entry.value)
    if "local" not in found:  # running from a source tree without installed metadata
        from callbridge.connectors.local.connector import build

        found["local"] = build
    return found


def factory(key: str) -> ConnectorFactory:
    """Return the factory registered as ``key``, or raise KeyError naming the known keys."""
    known = connectors()
    if key not in known:
        raise KeyError(f"unknown connector {key!r}; installed: {', '.join(sorted(known))}")
    return known[key]
