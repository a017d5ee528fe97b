"""HubSpot's manifest: its connector, tables, migrations, settings, credentials, and its fake."""

from __future__ import annotations

from pathlib import Path

from callbridge.connectors.hubspot import tables
from callbridge.connectors.hubspot.config import HubSpotConfig, HubSpotCredentials
from callbridge.connectors.hubspot.connector import build
from callbridge.connectors.spec import N_, ConnectorSpec

SPEC = ConnectorSpec(
    key="hubspot",
    build=build,
    tables=tables,
    migrations=Path(__file__).parent / "migrations",
    fake="callbridge.connectors.hubspot.fake",
    settings=HubSpotConfig,
    credentials=HubSpotCredentials,
)

#: Its fields' labels and hints, for the web UI's catalogs (the same text as config.py's models).
FIELD_TEXTS = (
    N_("base url"),
    N_("The API root; https and a public address unless the operator allowed the host"),
    N_("requests per 10s"),
    N_("Most requests in any 10 s window (HubSpot: 100 to 250)"),
    N_("searches per second"),
    N_("Most search requests in any rolling second (HubSpot: 5)"),
    N_("create custom properties"),
    N_(
        "Consent to create Callbridge's custom properties (external id, UTM) "
        "in the HubSpot account when they are missing"
    ),
    N_("deal pipeline"),
    N_("deal stage"),
    N_("company search"),
    N_(
        "When to also search companies by phone: on every lookup (one more search "
        "request), only when no contact has the number, or never"
    ),
    N_("account timezone"),
    N_("Time zone of the HubSpot account; its daily limit resets at midnight there"),
    N_("cache seconds"),
    N_("Phone lookup cache lifetime"),
    N_("search settle seconds"),
    N_(
        "Only where the unique callbridge_key property cannot be used: how long "
        "after a create whose answer was lost HubSpot's search is believed when it shows nothing"
    ),
    N_("access token"),
    N_("refresh token"),
    N_("expires at"),
    N_("client id"),
    N_("client secret"),
)
