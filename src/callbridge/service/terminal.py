"""What every ``callbridge`` command shares: the console, the program's name, a migrated runtime.

Secrets (API keys, webhook secrets) go to the terminal through this console, once, and never
to a logger: a log handler may ship them anywhere.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from callbridge.errors import NotFound
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.settings import Settings

T = TypeVar("T")

# Keys, URLs and commands must stay on one line to be copied, whatever the terminal's width.
console = Console(soft_wrap=True)


def command() -> str:
    """Return how this program was started, so printed commands work from a fresh checkout."""
    invoked = sys.argv[0] if sys.argv else ""
    return shlex.quote(invoked) if invoked.endswith("callbridge") else "callbridge"


def with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
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
