"""HubSpot's manifest: its connector, tables, migrations, settings, credentials, and its fake."""

from __future__ import annotations

from pathlib import Path

from callbridge.connectors.hubspot import tables
from callbridge.connectors.hubspot.config import HubSpotConfig, HubSpotCredentials
from callbridge.connectors.hubspot.connector import build
from callbridge.connectors.spec import ConnectorSpec

SPEC = ConnectorSpec(
    key="hubspot",
    build=build,
    tables=tables,
    migrations=Path(__file__).parent / "migrations",
    fake="callbridge.connectors.hubspot.fake",
    settings=HubSpotConfig,
    credentials=HubSpotCredentials,
)
