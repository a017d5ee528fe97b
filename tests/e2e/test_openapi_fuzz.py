"""Schemathesis sends requests generated from our own OpenAPI spec: none may get a 5xx."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from e2e_server import make_server


async def test_no_generated_request_gets_a_server_error(sqlite_url: str, tmp_path: Path) -> None:
    server = await make_server(sqlite_url, tmp_path)
    server.start()
    try:
        run = await asyncio.to_thread(
            subprocess.run,
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{server.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {server.company.api_key}",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "8",
                "--seed",
                "20261122",
                # A live event stream never ends, which the runner would take for a dead server.
                "--exclude-path",
                "/dialer/events",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.kill(signal.SIGTERM)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
