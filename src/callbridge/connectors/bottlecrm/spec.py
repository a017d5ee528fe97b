"""BottleCRM's manifest: its connector only (it keeps no state in Callbridge's database).

Its tests run against the real BottleCRM server (``callbridge.testing.bottlecrm_server``), not a
fake.
"""

from __future__ import annotations

from callbridge.connectors.bottlecrm.connector import build
from callbridge.connectors.spec import ConnectorSpec

SPEC = ConnectorSpec(key="bottlecrm", build=build)
