"""The ``callbridge`` command: its groups assembled, and the small maintenance commands.

Each command group lives in a module of its own: ``serve_commands`` (serve, worker),
``company_commands`` (companies and their keys), ``source_commands``, ``integration_commands``;
what they share (the console, a migrated runtime) is ``terminal``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service import (
    company_commands,
    integration_commands,
    serve_commands,
    source_commands,
    terminal,
)
from callbridge.settings import Settings

app = typer.Typer(
    help="Callbridge: every phone call on the right CRM record, exactly once.", no_args_is_help=True
)
db = typer.Typer(help="Database maintenance.")
app.add_typer(db, name="db")
app.add_typer(company_commands.company, name="company")
app.add_typer(source_commands.source, name="source")
app.add_typer(integration_commands.integration, name="integration")
app.command()(serve_commands.serve)
app.command()(serve_commands.worker)


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url()
    try:
        asyncio.run(upgrade(url))
    except OperationalError as err:  # unreachable, refused, missing database, read-only file
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(err.orig or err).strip()
        terminal.console.print(
            f"[red]Cannot migrate the database at {shown}[/]: {reason}\n"
            "Check that the database server runs and CALLBRIDGE_DATABASE_URL names it (host, "
            "port, user, database), or unset it to use SQLite in CALLBRIDGE_DATA_DIR.",
            highlight=False,
        )
        raise typer.Exit(1) from None
    terminal.console.print("database is up to date")


@app.command()
def replay(
    job_id: Annotated[str | None, typer.Argument(help="Dead job id; all when omitted")] = None,
) -> None:
    """Put dead jobs back in the queue."""

    async def main() -> int:
        runtime = Runtime.create(Settings())
        try:
            dead = await runtime.queue.dead_letters(limit=10_000)
            chosen = [job for job in dead if job_id is None or job.id == job_id]
            for job in chosen:
                await runtime.queue.replay(job.id)
            return len(chosen)
        finally:
            await runtime.close()

    count = asyncio.run(main())
    if job_id is not None and count == 0:
        terminal.console.print(f"[red]no dead job {job_id}[/]")
        raise typer.Exit(1)
    terminal.console.print(f"replayed {count} job(s)")


@app.command("fake-crm")
def fake_crm(
    crm: Annotated[str, typer.Argument(help="Which CRM to imitate: hubspot")],
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8111,
    token: Annotated[str, typer.Option(help="The access token it accepts")] = "pat-na1-test",
) -> None:
    """Serve a faithful fake of a CRM's API on loopback, to try an integration without one."""
    if crm != "hubspot":
        raise typer.BadParameter(f"unknown fake {crm!r}; known: hubspot")
    from callbridge.connectors.hubspot.fake import serve as serve_fake

    serve_fake(host, port, token)


@app.command()
def demo(
    url: Annotated[
        str, typer.Option(help="Base URL of a running server")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[str, typer.Option(envvar="CALLBRIDGE_API_KEY", help="Company API key")] = "",
    source: Annotated[str, typer.Option(help="Generic source id")] = "",
    secret: Annotated[str, typer.Option(help="The source's webhook secret")] = "",
    calls: Annotated[int, typer.Option(help="Calls in the simulated day")] = 60,
) -> None:
    """Send a realistic day of signed calls to a running server, then print a summary."""
    from callbridge.tools.demo import run_demo

    if not (api_key and source and secret):
        terminal.console.print(
            "[red]demo needs --api-key, --source and --secret[/]: `make run` prints them "
            "on first start, `callbridge company create` prints new ones."
        )
        raise typer.Exit(2)
    raise typer.Exit(asyncio.run(run_demo(url, api_key, source, secret, calls, terminal.console)))
