"""The ``callbridge`` command: serve, worker, db upgrade, replay, company and key admin, demo.

Secrets (API keys, webhook secrets) go to the terminal through the Rich console, once, and
never to a logger: a log handler may ship them anywhere.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console

from callbridge.errors import NotFound
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service import bootstrap, integration_commands, source_commands
from callbridge.service.bootstrap import CreatedCompany, ensure_demo_company
from callbridge.settings import Settings
from callbridge.storage.accounts import IssuedKey

app = typer.Typer(
    help="Callbridge: every phone call on the right CRM record, exactly once.", no_args_is_help=True
)
db = typer.Typer(help="Database maintenance.")
company = typer.Typer(help="Companies (tenants).")
key = typer.Typer(help="A company's admin API keys: issue one when a key is lost, revoke one.")
source = source_commands.source
app.add_typer(db, name="db")
app.add_typer(company, name="company")
company.add_typer(key, name="key")
app.add_typer(source, name="source")
app.add_typer(integration_commands.integration, name="integration")
T = TypeVar("T")


class CrmChoice(enum.StrEnum):
    """The CRM integration ``company create`` adds."""

    local = "local"
    none = "none"


# Keys, URLs and commands must stay on one line to be copied, whatever the terminal's width.
console = Console(soft_wrap=True)


def _command() -> str:
    """Return how this program was started, so printed commands work from a fresh checkout."""
    invoked = sys.argv[0] if sys.argv else ""
    return shlex.quote(invoked) if invoked.endswith("callbridge") else "callbridge"


def _show(created: CreatedCompany, base_url: str, title: str) -> None:
    # highlight=False where a secret is printed: rich would colour a run like "-42-" inside it
    # on a terminal and split the key a user copies.
    console.print(f"[bold green]{title}[/]", highlight=False)
    console.print(f"  API key (shown once):      [bold]{created.api_key}[/]", highlight=False)
    console.print(f"  Webhook URL:               {base_url}/webhooks/generic/{created.source_id}")
    console.print(f"  Webhook secret (shown once): {created.source_secret}", highlight=False)
    console.print(f"  Local CRM integration:     {created.integration_id}")
    console.print(
        f"  Try it: {_command()} demo --url {base_url} --api-key {created.api_key} "
        f"--source {created.source_id} --secret {created.source_secret}",
        highlight=False,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Apply migrations and serve the API, with the embedded worker."""
    settings = Settings()
    host, port = host or settings.host, port or settings.port
    runtime = Runtime.create(settings)
    asyncio.run(upgrade(settings.resolved_database_url()))
    base_url = settings.public_url or f"http://{host}:{port}"
    _remember_base_url(settings, base_url)
    _announce(asyncio.run(_first_start(runtime)), base_url)
    console.print(f"Callbridge on {base_url} (API docs: {base_url}/docs)")
    from callbridge.api.app import create_app
    from callbridge.service.worker import run_worker
    from callbridge.ui.mount import mount

    console.print(f"Admin screens: {base_url}/ui/ (sign in with an admin API key)")

    if not settings.embedded_worker:
        console.print("No embedded worker: jobs wait for `callbridge worker` processes.")
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


async def _first_start(runtime: Runtime) -> CreatedCompany | bool:
    """Create the demo company on make run's first start; else tell whether a company exists."""
    try:
        if bootstrap.demo_on_first_start(runtime.settings):
            return await ensure_demo_company(runtime) or True
        return await bootstrap.has_companies(runtime)
    finally:
        await runtime.engine.dispose()


SERVED_AT = "served-at.txt"


def _remember_base_url(settings: Settings, base_url: str) -> None:
    """Note where ``serve`` answers, so commands run from another shell print working URLs."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / SERVED_AT).write_text(base_url + "\n")


def _base_url(settings: Settings) -> str:
    """Return the public URL, else the URL the last ``serve`` noted, else host and port."""
    if settings.public_url:
        return settings.public_url
    noted = settings.data_dir / SERVED_AT
    if noted.is_file() and (served := noted.read_text().strip()):
        return served
    return f"http://{settings.host}:{settings.port}"


def _announce(first: CreatedCompany | bool, base_url: str) -> None:
    """Say what the first start did; a demo key only on a terminal, where it is seen once."""
    if first is False:
        console.print(f'No company yet: create one with {_command()} company create "ACME"')
    if first is True:
        _remind_where_secrets_come_from()
    if not isinstance(first, CreatedCompany):
        return
    if console.is_terminal:
        _show(first, base_url, "First start: created a demo company.")
        console.print(f'  Create a real company with: {_command()} company create "ACME"')
        return
    # Not a terminal: this output is probably a log. The demo company's secrets stay unsaid.
    console.print(
        f"First start: created a demo company ({first.company_id}); its secrets are shown only "
        f"on a terminal. Issue an admin key with: {_command()} company key create "
        f"{first.company_id}"
    )


def _remind_where_secrets_come_from() -> None:
    """On a later start, say how to get an admin key and a webhook secret again."""
    console.print(
        "Keys and webhook secrets are shown only when they are created. List the companies "
        f"with: {_command()} company list; issue a new admin key with: {_command()} company "
        "key create COMPANY; give a source a new webhook secret with "
        "POST /sources/{source_id}/secrets (docs/telephony/generic.md)."
    )


@app.command()
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
        console.print("worker started; Ctrl-C to stop")
        try:
            await run_standalone(runtime, stop, metrics_port or settings.worker_metrics_port)
        finally:
            await runtime.close()

    _run_fast(main())


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(upgrade(settings.resolved_database_url()))
    console.print("database is up to date")


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
    opened = _with_runtime(
        lambda runtime: bootstrap.open_company(
            runtime,
            name,
            region=region.upper(),
            provider=provider,
            secret=vendor,
            local_crm=crm is CrmChoice.local,
        )
    )
    console.print(f"[bold green]Created company {name!r}.[/]")
    source_commands.show_opened(console, opened, _base_url(Settings()), _command())


@source.command("deliveries")
def source_deliveries(
    source_id: Annotated[str, typer.Argument(help="The source's id")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first")] = 20,
) -> None:
    """Show a source's newest deliveries: accepted, ignored and refused, with the reason."""
    rows = _with_runtime(lambda runtime: source_commands.deliveries(runtime, source_id, limit))
    for row in rows:
        console.print(source_commands.delivery_line(row), markup=False)
    if not rows:
        console.print("no delivery yet")


@company.command("list")
def company_list() -> None:
    """List the companies: id, name, creation time."""
    companies = _with_runtime(bootstrap.list_companies)
    for found in companies:
        console.print(f"{found['id']}  {found['created_at']:%Y-%m-%d}  {found['name']}")
    if not companies:
        console.print("no company yet")


@key.command("create")
def key_create(
    company_ref: Annotated[str, typer.Argument(metavar="COMPANY", help="Company id or name")],
    name: Annotated[str, typer.Option(help="A label: who or what uses the key")] = "admin",
) -> None:
    """Issue a new admin API key for a company (also the way back in after losing every key)."""

    async def issue(runtime: Runtime) -> tuple[dict[str, Any], IssuedKey]:
        found = await bootstrap.find_company(runtime, company_ref)
        return found, await bootstrap.issue_key(runtime, found["id"], name)

    found, issued = _with_runtime(issue)
    console.print(f"[bold green]Issued API key {name!r} for {found['name']} ({found['id']}).[/]")
    console.print(f"  API key (shown once): [bold]{issued.key}[/]", highlight=False)
    console.print(f"  Key id: {issued.id} (revoke with: {_command()} company key revoke …)")


@key.command("list")
def key_list(
    company_ref: Annotated[str, typer.Argument(metavar="COMPANY", help="Company id or name")],
) -> None:
    """List a company's API keys by prefix (the keys themselves are never stored)."""

    async def listed(runtime: Runtime) -> list[dict[str, Any]]:
        found = await bootstrap.find_company(runtime, company_ref)
        return await bootstrap.list_keys(runtime, found["id"])

    for shown in _with_runtime(listed):
        state = f"revoked {shown['revoked_at']:%Y-%m-%d %H:%M}" if shown["revoked_at"] else "active"
        console.print(
            f"{shown['id']}  {shown['prefix']}…  {state}  "
            f"created {shown['created_at']:%Y-%m-%d %H:%M}  {shown['name']}"
        )


@key.command("revoke")
def key_revoke(
    company_ref: Annotated[str, typer.Argument(metavar="COMPANY", help="Company id or name")],
    key_ref: Annotated[str, typer.Argument(metavar="KEY", help="Key id or prefix")],
) -> None:
    """Revoke a company's API key at once (any key: the operator may revoke the last one)."""

    async def revoke(runtime: Runtime) -> dict[str, Any]:
        found = await bootstrap.find_company(runtime, company_ref)
        return await bootstrap.revoke_key(runtime, found["id"], key_ref)

    revoked = _with_runtime(revoke)
    console.print(f"revoked key {revoked['prefix']}… ({revoked['id']})")


def _with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run ``work`` on a migrated database; a NotFound is printed and exits with 1."""
    settings = Settings()

    async def main() -> T:
        runtime = Runtime.create(settings)  # creates the data directory first
        await upgrade(settings.resolved_database_url())
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except NotFound as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(1) from err


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
        console.print(f"[red]no dead job {job_id}[/]")
        raise typer.Exit(1)
    console.print(f"replayed {count} job(s)")


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
        console.print(
            "[red]demo needs --api-key, --source and --secret[/]: `make run` prints them "
            "on first start, `callbridge company create` prints new ones."
        )
        raise typer.Exit(2)
    raise typer.Exit(asyncio.run(run_demo(url, api_key, source, secret, calls, console)))


def _run_fast(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived coroutine on uvloop where it is installed (as uvicorn does for serve)."""
    try:
        import uvloop
    except ImportError:  # e.g. on Windows
        asyncio.run(main)
        return
    uvloop.run(main)
