"""The one-hop SQLite lookup answers exactly what the SQLAlchemy query answers."""

from __future__ import annotations

from pathlib import Path

from callbridge.connectors.local.client import LocalCrmClient
from callbridge.domain.record import ObjectType
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings


async def test_fast_and_portable_lookups_agree(sqlite_url: str, tmp_path: Path) -> None:
    await upgrade(sqlite_url)
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=sqlite_url))
    try:
        company = await create_company(runtime, "Index")
        client = LocalCrmClient(
            runtime.sessions,
            company.company_id,
            company.integration_id,
            "US",
            runtime.clock,
            runtime.reads,
        )
        assert client._fast is not None
        await client.create_record(ObjectType.CONTACT, "Jane", ["(415) 555-0134", "n/a"])
        await client.create_record(ObjectType.LEAD, "Jane lead", ["+1 415 555 0134"])
        await client.create_record(ObjectType.CONTACT, "Other", ["+1 415 555 0177"])
        fast = await client.find_by_e164("+14155550134")
        client._fast = None
        portable = await client.find_by_e164("+14155550134")
        assert fast == portable
        assert sorted(r.name for r in fast) == ["Jane", "Jane lead"]
        assert all(r.updated_at is not None and r.updated_at.tzinfo for r in fast)
    finally:
        await runtime.close()
