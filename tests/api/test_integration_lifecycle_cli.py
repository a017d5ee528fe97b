"""``callbridge integration list|disable|enable|delete``: the API's lifecycle, from the shell."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service import cli
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.storage import integrations as repo
from callbridge.storage import sql


def run(*args: str) -> Result:
    """Invoke the CLI and return its result."""
    return CliRunner().invoke(cli.app, list(args))


@pytest.fixture
def companies(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, CreatedCompany, CreatedCompany]:
    """Point the CLI at a database with two companies, each with its local CRM."""
    for name in list(os.environ):
        if name.startswith("CALLBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CALLBRIDGE_DATA_DIR", str(tmp_path / "data"))
    if database_url.startswith("postgresql"):
        monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", database_url)
    settings = Settings()

    async def make() -> tuple[CreatedCompany, CreatedCompany]:
        runtime = Runtime.create(settings)  # creates the data directory first
        await upgrade(settings.resolved_database_url())
        try:
            return await create_company(runtime, "ACME"), await create_company(runtime, "Globex")
        finally:
            await runtime.close()

    return settings, *asyncio.run(make())


def _statuses(settings: Settings, company_id: str) -> list[str]:
    async def read() -> list[str]:
        runtime = Runtime.create(settings)
        try:
            async with runtime.reads() as session:
                rows = await sql.run(session, repo.list_integrations, company_id)
        finally:
            await runtime.close()
        return [row["status"] for row in rows]

    return asyncio.run(read())


def test_an_operator_disables_enables_and_deletes_a_companys_integration(
    companies: tuple[Settings, CreatedCompany, CreatedCompany],
) -> None:
    settings, acme, globex = companies
    mine = acme.integration_id
    listed = run("integration", "list", "ACME")
    assert listed.exit_code == 0 and mine in listed.output and "active" in listed.output
    for command, word in (("disable", "now disabled"), ("disable", "already disabled")):
        result = run("integration", command, "ACME", mine)
        assert result.exit_code == 0 and word in result.output, result.output
    assert _statuses(settings, acme.company_id) == ["disabled"]
    result = run("integration", "enable", "ACME", mine)
    assert result.exit_code == 0 and "now enabled" in result.output
    other = run("integration", "delete", "ACME", globex.integration_id)  # Globex's, not ACME's
    assert other.exit_code == 1 and "no integration" in other.output
    assert _statuses(settings, globex.company_id) == ["active"]
    result = run("integration", "delete", "ACME", mine)
    assert result.exit_code == 0 and f"Deleted integration {mine}" in result.output
    assert _statuses(settings, acme.company_id) == []
    assert "no integration" in run("integration", "list", "ACME").output
    assert run("integration", "enable", "ACME", mine).exit_code == 1
