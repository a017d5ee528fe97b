"""The CLI's processes: ``serve`` (the API, the UI and the embedded worker) and ``worker``."""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import sys
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
import uvicorn

from callbridge.runtime import Runtime
from callbridge.service import bootstrap, terminal
from callbridge.service.bootstrap import CreatedCompany, ensure_demo_company
from callbridge.settings import Settings

SERVED_AT = "served-at.txt"


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Apply migrations and serve the API, with the embedded worker."""
    settings = Settings()
    host, port = host or settings.host, port or settings.port
    runtime = Runtime.create(settings)
    _migrate()
    base_url = settings.public_url or f"http://{host}:{port}"
    _remember_base_url(settings, base_url)
    _announce(asyncio.run(_first_start(runtime)), base_url)
    terminal.console.print(f"Callbridge on {base_url} (API docs: {base_url}/docs)")
    from callbridge.api.app import create_app
    from callbridge.service.worker import run_worker
    from callbridge.ui.mount import mount

    terminal.console.print(f"Admin screens: {base_url}/ui/ (sign in with an admin API key)")

    if not settings.embedded_worker:
        terminal.console.print("No embedded worker: jobs wait for `callbridge worker` processes.")
    uvicorn.run(
        mount(create_app(runtime, worker=run_worker if settings.embedded_worker else None)),
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        # Forwarded headers are read by Callbridge from CALLBRIDGE_TRUSTED_PROXIES alone
        # (api/public_url.py): uvicorn's own rewriting would hide the proxy's address.
        proxy_headers=False,
    )


def _migrate() -> None:
    """Apply pending migrations in a child process (``callbridge db upgrade``, same settings).

    Alembic and every revision module loaded by a migration stay out of the server's memory:
    ~11 MiB of a process that must stay under 150 MiB under load (bench/RESULTS.md).
    """
    done = subprocess.run([sys.executable, "-m", "callbridge", "db", "upgrade"], check=False)
    if done.returncode != 0:
        terminal.console.print("[red]The database could not be migrated: see the error above.[/]")
        raise typer.Exit(done.returncode)


def base_url(settings: Settings) -> str:
    """Return the public URL, else the URL the last ``serve`` noted, else host and port."""
    if settings.public_url:
        return settings.public_url
    noted = settings.data_dir / SERVED_AT
    if noted.is_file() and (served := noted.read_text().strip()):
        return served
    return f"http://{settings.host}:{settings.port}"


def _remember_base_url(settings: Settings, base_url: str) -> None:
    """Note where ``serve`` answers, so commands run from another shell print working URLs."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / SERVED_AT).write_text(base_url + "\n")


async def _first_start(runtime: Runtime) -> CreatedCompany | bool:
    """Create the demo company on make run's first start; else tell whether a company exists."""
    try:
        if bootstrap.demo_on_first_start(runtime.settings):
            return await ensure_demo_company(runtime) or True
        return await bootstrap.has_companies(runtime)
    finally:
        await runtime.engine.dispose()


def _announce(first: CreatedCompany | bool, base_url: str) -> None:
    """Say what the first start did; a demo key only on a terminal, where it is seen once."""
    console, command = terminal.console, terminal.command()
    if first is False:
        console.print(f'No company yet: create one with {command} company create "ACME"')
    if first is True:
        _remind_where_secrets_come_from()
    if not isinstance(first, CreatedCompany):
        return
    if console.is_terminal:
        _show(first, base_url, "First start: created a demo company.")
        console.print(f'  Create a real company with: {command} company create "ACME"')
        return
    # Not a terminal: this output is probably a log. The demo company's secrets stay unsaid.
    console.print(
        f"First start: created a demo company ({first.company_id}); its secrets are shown only "
        f"on a terminal. Issue an admin key with: {command} company key create "
        f"{first.company_id}"
    )


def _show(created: CreatedCompany, base_url: str, title: str) -> None:
    # highlight=False where a secret is printed: rich would colour a run like "-42-" inside it
    # on a terminal and split the key a user copies.
    console = terminal.console
    console.print(f"[bold green]{title}[/]", highlight=False)
    console.print(f"  API key (shown once):      [bold]{created.api_key}[/]", highlight=False)
    console.print(f"  Webhook URL:               {base_url}/webhooks/generic/{created.source_id}")
    console.print(f"  Webhook secret (shown once): {created.source_secret}", highlight=False)
    console.print(f"  Local CRM integration:     {created.integration_id}")
    console.print(
        f"  Try it: {terminal.command()} demo --url {base_url} --api-key {created.api_key} "
        f"--source {created.source_id} --secret {created.source_secret}",
        highlight=False,
    )


def _remind_where_secrets_come_from() -> None:
    """On a later start, say how to get an admin key and a webhook secret again."""
    command = terminal.command()
    terminal.console.print(
        "Keys and webhook secrets are shown only when they are created. List the companies "
        f"with: {command} company list; issue a new admin key with: {command} company "
        "key create COMPANY; give a source a new webhook secret with "
        "POST /sources/{source_id}/secrets (docs/telephony/generic.md)."
    )


def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this worker's /metrics on this port (on a host of its own)"),
    ] = None,
) -> None:
    """Run a standalone worker process (PostgreSQL deployments run any number of them)."""
    from callbridge.service.worker import run_standalone

    async def main() -> None:
        settings = Settings()
        runtime = Runtime.create(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        gc.freeze()  # start-up objects live as long as the process: out of full GC passes
        terminal.console.print("worker started; Ctrl-C to stop")
        try:
            await run_standalone(runtime, stop, metrics_port or settings.worker_metrics_port)
        finally:
            await runtime.close()

    _run_fast(main())


def _run_fast(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived coroutine on uvloop where it is installed (as uvicorn does for serve)."""
    try:
        import uvloop
    except ImportError:  # e.g. on Windows
        asyncio.run(main)
        return
    uvloop.run(main)
