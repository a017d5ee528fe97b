"""HubSpot's manifest: its connector, its tables and migrations, and the fake its tests run."""

from __future__ import annotations

from pathlib import Path

from callbridge.connectors.hubspot import tables
from callbridge.connectors.hubspot.connector import build
from callbridge.connectors.spec import ConnectorSpec

SPEC = ConnectorSpec(
    key="hubspot",
    build=build,
    tables=tables,
    migrations=Path(__file__).parent / "migrations",
    fake="callbridge.connectors.hubspot.fake",
)
