"""A final call's fold reads its company, extensions and integrations in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from callbridge.fold import targets
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.storage import accounts, integrations, units, users

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _populate(db: Connection, company_id: str, other_id: str) -> None:
    for index, extension in enumerate(("101", None, "102")):
        users.create_user(db, company_id, name=f"U{index}", extension=extension, role="agent")
    users.create_user(db, other_id, name="Other", extension="999", role="agent")
    for name in ("Second", "Third"):
        integrations.create_integration(
            db,
            company_id,
            NOW + timedelta(days=len(name)),
            connector="local",
            name=name,
            default_region="FR",
            language="fr",
            creation_policy="never",
            status="disabled" if name == "Third" else "active",
        )


async def test_the_joined_read_equals_the_reads_one_table_at_a_time(
    migrated_runtime: Runtime,
) -> None:
    runtime = migrated_runtime
    acme = (await create_company(runtime, "Acme")).company_id
    other = (await create_company(runtime, "Other")).company_id
    await units.write(runtime.engine, lambda db: _populate(db, acme, other))

    def both(db: Connection) -> tuple[targets.Targets | None, tuple[object, ...]]:
        apart = (
            accounts.get_company(db, acme),
            sorted(users.extensions(db, acme)),
            integrations.list_integrations(db, acme),
        )
        return targets.read(db, acme), apart

    joined, (company, extensions, listed) = await units.read(runtime.engine, both)
    assert joined is not None
    assert joined.company == company
    assert sorted(joined.extensions) == extensions == ["101", "102"]
    assert joined.integrations == listed
    assert [i["name"] for i in joined.integrations][1:] == ["Third", "Second"]  # oldest first

    def without_integration(db: Connection) -> targets.Targets | None:
        return targets.read(db, accounts.create_company(db, "Bare", NOW))

    assert await units.write(runtime.engine, without_integration) is None
