"""The local CRM refuses a call logged on a record that does not exist, as a Permanent error."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbridge.connectors.local.connector import LocalConnector
from callbridge.errors import Permanent
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.integrations import get_integration
from callbridge.testing.contract import draft


async def test_logging_on_a_missing_record_is_permanent(database_url: str, tmp_path: Path) -> None:
    await upgrade(database_url)
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        company = await create_company(runtime, "Errors")
        async with runtime.reads() as session:
            row = await sql.run(
                session, get_integration, company.company_id, company.integration_id
            )
        assert row is not None
        connector = connector_for(runtime, row)
        assert isinstance(connector, LocalConnector)
        with pytest.raises(Permanent, match="does not exist"):
            await connector.log_call(draft("00000000-0000-0000-0000-000000000000"))
    finally:
        await runtime.close()
