"""The CLI's companies (tenants) and their admin API keys: create, list, issue, revoke."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from callbridge.runtime import Runtime
from callbridge.service import bootstrap, source_commands, terminal
from callbridge.service.serve_commands import base_url
from callbridge.settings import Settings
from callbridge.storage.accounts import IssuedKey

company = typer.Typer(help="Companies (tenants).")
key = typer.Typer(help="A company's admin API keys: issue one when a key is lost, revoke one.")
company.add_typer(key, name="key")
CompanyRef = Annotated[str, typer.Argument(metavar="COMPANY", help="Company id or name")]


class CrmChoice(enum.StrEnum):
    """The CRM integration ``company create`` adds."""

    local = "local"
    none = "none"


@company.command("create")
def company_create(
    name: str,
    region: Annotated[str, typer.Option(help="Default region of its local CRM")] = "US",
    provider: Annotated[
        str, typer.Option(help="Its first telephony source: generic, aircall, ringover, …")
    ] = "generic",
    secret: Annotated[
        str | None,
        typer.Option(help="A vendor source's webhook secret (the platform's; asked when left out)"),
    ] = None,
    crm: Annotated[
        CrmChoice, typer.Option(help="local: add a local CRM integration; none: no integration")
    ] = CrmChoice.local,
) -> None:
    """Create a company with an admin API key, its first telephony source and a CRM."""
    vendor = source_commands.vendor_secret(provider, secret)
    opened = terminal.with_runtime(
        lambda runtime: bootstrap.open_company(
            runtime,
            name,
            region=region.upper(),
            provider=provider,
            secret=vendor,
            local_crm=crm is CrmChoice.local,
        )
    )
    terminal.console.print(f"[bold green]Created company {name!r}.[/]")
    source_commands.show_opened(terminal.console, opened, base_url(Settings()), terminal.command())


@company.command("list")
def company_list() -> None:
    """List the companies: id, name, creation time."""
    companies = terminal.with_runtime(bootstrap.list_companies)
    for found in companies:
        terminal.console.print(f"{found['id']}  {found['created_at']:%Y-%m-%d}  {found['name']}")
    if not companies:
        terminal.console.print("no company yet")


@key.command("create")
def key_create(
    company_ref: CompanyRef,
    name: Annotated[str, typer.Option(help="A label: who or what uses the key")] = "admin",
) -> None:
    """Issue a new admin API key for a company (also the way back in after losing every key)."""

    async def issue(runtime: Runtime) -> tuple[dict[str, Any], IssuedKey]:
        found = await bootstrap.find_company(runtime, company_ref)
        return found, await bootstrap.issue_key(runtime, found["id"], name)

    found, issued = terminal.with_runtime(issue)
    console = terminal.console
    console.print(f"[bold green]Issued API key {name!r} for {found['name']} ({found['id']}).[/]")
    console.print(f"  API key (shown once): [bold]{issued.key}[/]", highlight=False)
    console.print(f"  Key id: {issued.id} (revoke with: {terminal.command()} company key revoke …)")


@key.command("list")
def key_list(company_ref: CompanyRef) -> None:
    """List a company's API keys by prefix (the keys themselves are never stored)."""

    async def listed(runtime: Runtime) -> list[dict[str, Any]]:
        found = await bootstrap.find_company(runtime, company_ref)
        return await bootstrap.list_keys(runtime, found["id"])

    for shown in terminal.with_runtime(listed):
        state = f"revoked {shown['revoked_at']:%Y-%m-%d %H:%M}" if shown["revoked_at"] else "active"
        terminal.console.print(
            f"{shown['id']}  {shown['prefix']}…  {state}  "
            f"created {shown['created_at']:%Y-%m-%d %H:%M}  {shown['name']}"
        )


@key.command("revoke")
def key_revoke(
    company_ref: CompanyRef,
    key_ref: Annotated[str, typer.Argument(metavar="KEY", help="Key id or prefix")],
) -> None:
    """Revoke a company's API key at once (any key: the operator may revoke the last one)."""

    async def revoke(runtime: Runtime) -> dict[str, Any]:
        found = await bootstrap.find_company(runtime, company_ref)
        return await bootstrap.revoke_key(runtime, found["id"], key_ref)

    revoked = terminal.with_runtime(revoke)
    terminal.console.print(f"revoked key {revoked['prefix']}… ({revoked['id']})")
