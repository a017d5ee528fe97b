"""Run ``callbridge serve`` as a real process on loopback, and wait for what it does.

The one way tests start a server: on a free port, its output appended to a log file, returned
once ``/readyz`` answers 200, and stopped by signal (a SIGKILL to prove nothing lives only in
memory, a SIGTERM to end)::

    port = free_port()
    with running_serve(port, env, tmp_path / "server.log") as url:
        await eventually(lambda: synced(url), "the call to sync", within=60)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import httpx

# Re-exported: tests start servers on this module's LOOPBACK and free_port (CONTRIBUTING.md).
from callbridge.loopback import LOOPBACK as LOOPBACK
from callbridge.loopback import free_port as free_port

# How tests run the command line: this interpreter's package, whatever is on PATH.
PROGRAM = (sys.executable, "-m", "callbridge")


async def eventually(
    check: Callable[[], object], what: str, *, within: float = 30.0, every: float = 0.1
) -> None:
    """Wait until ``check()`` (awaited if need be) holds; fail naming ``what`` after ``within``."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(every)


def start_serve(
    port: int,
    env: Mapping[str, str],
    log: Path,
    *,
    program: Sequence[str] = PROGRAM,
    within: float = 30.0,
) -> subprocess.Popen[bytes]:
    """Start ``callbridge serve`` on ``port`` and return it once ``/readyz`` answers 200.

    ``env`` is the whole environment of the process; its output is appended to ``log``, whose
    end is the message of the ``RuntimeError`` raised when the server exits or is not ready.
    """
    command = [*program, "serve", "--host", LOOPBACK, "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {_tail(log)}")
        if _ready(f"http://{LOOPBACK}:{port}"):
            return process
        time.sleep(0.1)
    stop(process, signal.SIGKILL)
    raise RuntimeError(f"the server was not ready within {within} s: {_tail(log)}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, within: float = 20) -> None:
    """Send ``sig`` to a running server and wait for it; kill it if it outlives ``within`` s."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:  # a loaded machine; the next test needs the CPU
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_serve(
    port: int, env: Mapping[str, str], log: Path, *, program: Sequence[str] = PROGRAM
) -> Iterator[str]:
    """Yield the base URL of a ready ``callbridge serve``; stop it with SIGTERM afterwards."""
    process = start_serve(port, env, log, program=program)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        stop(process)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
