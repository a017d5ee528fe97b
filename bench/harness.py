"""What every benchmark needs: scratch databases, a company, server processes, machine facts."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from callbridge.loopback import free_port as free_port  # the benchmarks import it from here
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings

PG_ADMIN = os.environ.get("CALLBRIDGE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# BENCH_KEEP=1 keeps the scratch directories and databases, to look into them afterwards.
KEEP = os.environ.get("BENCH_KEEP") == "1"


@contextlib.contextmanager
def scratch_dir(name: str) -> Iterator[Path]:
    """Yield a temporary directory on the local disk (where SQLite files and keys go)."""
    if KEEP:
        path = tempfile.mkdtemp(prefix=f"bench_{name}_")
        print(f"keeping {path}", file=sys.stderr)
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix=f"bench_{name}_") as path:
        yield Path(path)


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """Create a ``bench_*`` PostgreSQL database, yield its SQLAlchemy URL, drop it afterwards."""
    database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{database}"
    finally:
        if KEEP:
            print(f"keeping database {database}: drop it when done", file=sys.stderr)
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    """Return the settings a server on ``data_dir`` and ``database_url`` would read."""
    return Settings(data_dir=data_dir, database_url=database_url)


async def new_company(settings: Settings) -> CreatedCompany:
    """Migrate the database and create a company with a generic source and a local CRM."""
    await upgrade(settings.resolved_database_url())
    runtime = Runtime.create(settings)
    try:
        return await create_company(runtime, "Bench company")
    finally:
        await runtime.close()


# Settings a benchmark run may be given from outside (e.g. to compare worker concurrencies).
_PASSED = {"CALLBRIDGE_WORKER_CONCURRENCY"}


def environment(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """Return the environment of a server or worker process for that data dir and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBRIDGE_") or k in _PASSED}
    env["CALLBRIDGE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["CALLBRIDGE_DATABASE_URL"] = database_url
    env |= {f"CALLBRIDGE_{key.upper()}": value for key, value in extra.items()}
    return env


@dataclass(frozen=True)
class Process:
    """A child process of the benchmark, and its CPU time so far."""

    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """Return the user + system CPU seconds the process has used."""
        return cpu_seconds_of(self.popen.pid)

    def rss_bytes(self) -> int:
        """Return the process's resident memory now (0 once it has exited)."""
        try:
            status = Path(f"/proc/{self.popen.pid}/status").read_text()
        except OSError:
            return 0
        line = next((ln for ln in status.splitlines() if ln.startswith("VmRSS:")), "VmRSS: 0")
        return int(line.split()[1]) * 1024


def cpu_seconds_of(pid: int) -> float:
    """Return the user + system CPU seconds process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def child(
    args: Sequence[str],
    env: dict[str, str],
    log: Path,
    url: str = "",
    profile: Path | None = None,
) -> Iterator[Process]:
    """Run ``callbridge ARGS`` until the block ends; wait for /healthz when ``url`` is given.

    With ``profile``, the process runs under cProfile (``bench.profiled``: CPU time of its
    event loop's thread) and is stopped with SIGINT, so the statistics are written when it exits.
    """
    program = [str(BIN / "callbridge")]
    if profile is not None:
        program = [sys.executable, "-m", "bench.profiled", str(profile)]
    with log.open("ab") as output:
        popen = subprocess.Popen(
            [*program, *args], env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT
        )
    process = Process(popen, url, log)
    try:
        if url:
            _wait_healthy(process)
        yield process
    except BaseException:
        text = log.read_text()
        first = max(0, text.find("Traceback"))
        print(
            f"--- {log.name}, from its first error ---\n{text[first : first + 3000]}",
            file=sys.stderr,
        )
        print(f"--- {log.name}, last lines ---\n{text[-1500:]}", file=sys.stderr)
        raise
    finally:
        popen.send_signal(signal.SIGINT if profile is not None else signal.SIGTERM)
        try:
            popen.wait(timeout=30 if profile is not None else 15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def serve(
    env: dict[str, str], log: Path, profile: Path | None = None
) -> contextlib.AbstractContextManager[Process]:
    """Start ``callbridge serve`` on a free loopback port (under cProfile with ``profile``)."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    return child(args, env, log, f"http://127.0.0.1:{port}", profile)


def _wait_healthy(process: Process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"server exited:\n{process.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{process.url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{process.log.read_text()[-3000:]}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` quantile (0.95 for p95) of ``values``, interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def met(ok: bool) -> str:
    """Say whether a target is met."""
    return "**met**" if ok else "**missed**"


def machine() -> str:
    """Describe the machine: CPUs, CPU model, memory, OS, Python, SQLite and PostgreSQL."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if "model name" in ln)
    meminfo = Path("/proc/meminfo").read_text().split()
    memory = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {postgres_version()}"
    )


def postgres_version() -> str:
    """Return the PostgreSQL server version, or say it is unreachable."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError:
        return "PostgreSQL unreachable"
    return f"PostgreSQL {row[0].split()[0] if row else '?'}"


def git_commit() -> str:
    """Return the checked-out commit, or say there is none."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "no git"
    return found.stdout.strip() if found.returncode == 0 else "no commit yet"


def today() -> str:
    """Return today's date (UTC), as the results are dated."""
    return datetime.now(UTC).date().isoformat()
