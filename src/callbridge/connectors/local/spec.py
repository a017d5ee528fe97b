"""The local CRM's manifest: its connector, its tables and its records API.

Its tables were created with the core's first migrations (0001, 0002 and 0007 of
``storage/migrations/versions/``, which also create core tables), so it has no migration folder of
its own yet; a later change to its tables goes in ``connectors/local/migrations/``.
"""

from __future__ import annotations

from callbridge.connectors.local import routes, tables
from callbridge.connectors.local.config import LocalConfig
from callbridge.connectors.local.connector import build
from callbridge.connectors.spec import ConnectorSpec

SPEC = ConnectorSpec(
    key="local", build=build, tables=tables, routers=routes.routers, settings=LocalConfig
)
