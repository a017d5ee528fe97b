"""BottleCRM's manifest: its connector, settings and credentials (it keeps no state in Callbridge).

Its tests run against the real BottleCRM server (``callbridge.testing.bottlecrm_server``), not a
fake.
"""

from __future__ import annotations

from callbridge.connectors.bottlecrm.config import BottleCrmConfig, BottleCrmCredentials
from callbridge.connectors.bottlecrm.connector import build
from callbridge.connectors.spec import N_, ConnectorSpec

SPEC = ConnectorSpec(
    key="bottlecrm", build=build, settings=BottleCrmConfig, credentials=BottleCrmCredentials
)

#: Its fields' labels and hints, for the web UI's catalogs (the same text as config.py's models).
FIELD_TEXTS = (
    N_("base url"),
    N_(
        "The server's root, e.g. https://crm.example.com; https and a public "
        "address unless the operator allowed the host"
    ),
    N_("default owner"),
    N_("Profile id assigned to created contacts, deals and tasks without an owner"),
    N_("pipeline"),
    N_("Pipeline id of created deals; the org's default when unset"),
    N_("search leads"),
    N_("Also match callers against leads"),
    N_("token"),
)
