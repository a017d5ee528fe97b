"""BottleCRM's manifest: its connector, settings and credentials (it keeps no state in Callbridge).

Its tests run against the real BottleCRM server (``callbridge.testing.bottlecrm_server``), not a
fake.
"""

from __future__ import annotations

from callbridge.connectors.bottlecrm.config import BottleCrmConfig, BottleCrmCredentials
from callbridge.connectors.bottlecrm.connector import build
from callbridge.connectors.spec import ConnectorSpec

SPEC = ConnectorSpec(
    key="bottlecrm", build=build, settings=BottleCrmConfig, credentials=BottleCrmCredentials
)
