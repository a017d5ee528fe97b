"""The CLI's integrations: list a company's, disable, enable or delete one (as the API does)."""

from __future__ import annotations

from typing import Annotated

import typer

from callbridge.api.integration_lifecycle import SyncRunning, remove, switch
from callbridge.errors import NotFound
from callbridge.runtime import Runtime
from callbridge.service import terminal
from callbridge.service.bootstrap import find_company
from callbridge.storage import integrations as repo
from callbridge.storage import sql
from callbridge.storage.integrations import IntegrationRow

integration = typer.Typer(help="A company's integrations (CRMs): list, disable, enable, delete.")
Company = Annotated[str, typer.Argument(metavar="COMPANY", help="Company id or name")]
Integration = Annotated[str, typer.Argument(metavar="INTEGRATION", help="Integration id")]


async def _company_integrations(runtime: Runtime, company_ref: str) -> list[IntegrationRow]:
    company = await find_company(runtime, company_ref)
    async with runtime.reads() as session:
        return await sql.run(session, repo.list_integrations, company["id"])


async def _one(runtime: Runtime, company_ref: str, integration_id: str) -> IntegrationRow:
    for row in await _company_integrations(runtime, company_ref):
        if row["id"] == integration_id:
            return row
    raise NotFound(f"no integration {integration_id} in company {company_ref!r}")


@integration.command("list")
def integration_list(company_ref: Company) -> None:
    """List a company's integrations: id, connector, status, name."""
    rows = terminal.with_runtime(lambda runtime: _company_integrations(runtime, company_ref))
    for row in rows:
        terminal.console.print(
            f"{row['id']}  {row['connector']:<10} {row['status']:<8}  {row['name']}"
        )
    if not rows:
        terminal.console.print("no integration")


def _switch(company_ref: str, integration_id: str, *, on: bool) -> None:
    async def work(runtime: Runtime) -> str:
        row = await _one(runtime, company_ref, integration_id)
        changed = await switch(runtime, row["company_id"], integration_id, on=on)
        return "now" if changed else "already"

    word = "enabled" if on else "disabled"
    terminal.console.print(f"Integration {integration_id} is {terminal.with_runtime(work)} {word}.")


@integration.command("disable")
def integration_disable(company_ref: Company, integration_id: Integration) -> None:
    """Sync no call to the integration; its queued syncs end as skipped."""
    _switch(company_ref, integration_id, on=False)


@integration.command("enable")
def integration_enable(company_ref: Company, integration_id: Integration) -> None:
    """Sync calls to a disabled integration again, from the next call that ends."""
    _switch(company_ref, integration_id, on=True)


@integration.command("delete")
def integration_delete(company_ref: Company, integration_id: Integration) -> None:
    """Delete the integration with its syncs, links and its connector's data; calls stay."""

    async def work(runtime: Runtime) -> dict[str, int] | None:
        row = await _one(runtime, company_ref, integration_id)
        return await remove(runtime, row["company_id"], integration_id)

    try:
        removed = terminal.with_runtime(work) or {}
    except SyncRunning as err:
        how = f"callbridge integration disable {company_ref} {integration_id}"
        terminal.console.print(err.advice(how), style="red", markup=False)
        raise typer.Exit(1) from err
    counts = ", ".join(f"{table} {count}" for table, count in sorted(removed.items()))
    terminal.console.print(f"Deleted integration {integration_id} ({counts or 'nothing else'}).")
