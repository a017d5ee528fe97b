"""Find connectors, built-in and third-party alike, through the ``callbridge.connectors`` group.

An entry point names a connector's :class:`~callbridge.connectors.spec.ConnectorSpec` (its
manifest: build function, tables, migrations, routes, fake), or just its build function.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from callbridge.connectors.base import ConnectorFactory
from callbridge.connectors.spec import ConnectorSpec, RouteHost, spec_of

if TYPE_CHECKING:  # only the type checker needs it: annotations are strings at run time
    from fastapi import APIRouter

GROUP = "callbridge.connectors"
#: The connectors shipped with Callbridge, always by their own spec, even from a source tree
#: whose installed metadata is missing or older: the core's migrations revise HubSpot's (0003).
BUILT_IN = {
    "local": "callbridge.connectors.local.spec",
    "hubspot": "callbridge.connectors.hubspot.spec",
    "bottlecrm": "callbridge.connectors.bottlecrm.spec",
}
log = logging.getLogger("callbridge.connectors")


@cache
def specs() -> dict[str, ConnectorSpec]:
    """Return the spec of every installed connector by its registry key."""
    found: dict[str, ConnectorSpec] = {}
    for entry in entry_points(group=GROUP):
        try:
            found[entry.name] = spec_of(entry.name, entry.load())
        except Exception:  # one broken plugin must not take every other connector down
            log.exception("connector %r (%s) cannot be loaded; skipped", entry.name, entry.value)
    for key, module in BUILT_IN.items():
        found[key] = import_module(module).SPEC
    return found


@cache
def connectors() -> dict[str, ConnectorFactory]:
    """Return every installed connector factory by its registry key."""
    return {key: spec.build for key, spec in specs().items()}


def factory(key: str) -> ConnectorFactory:
    """Return the factory registered as ``key``, or raise KeyError naming the known keys."""
    known = connectors()
    if key not in known:
        raise KeyError(f"unknown connector {key!r}; installed: {', '.join(sorted(known))}")
    return known[key]


def routers(host: RouteHost) -> list[APIRouter]:
    """Return the routers of every connector that serves routes, in registry key order."""
    found = specs()
    return [
        router
        for key in sorted(found)
        if (build := found[key].routers) is not None
        for router in build(host)
    ]
