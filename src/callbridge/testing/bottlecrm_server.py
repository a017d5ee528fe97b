"""A real BottleCRM server for tests, on loopback: its own venv, an SQLite schema, gunicorn.

BottleCRM (``django-crm`` on PyPI) needs Python 3.12 and clashes with our package names, so it runs
in a virtual environment of its own, created once and cached (``~/.cache/callbridge/``), as
separate processes. Use it from a test suite in a few lines::

    venv = ensure_venv(find_python312())
    with running_bottlecrm(venv, tmp_dir) as crm:
        org = crm.new_org("Acme")           # an org, two profiles and a token, via the ORM
        ...  # point a connector at crm.url with org.token

The scripts it runs inside BottleCRM's venv are in the ``bottlecrm`` folder beside this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from callbridge.testing.servers import free_port

VERSION = "1.35.0"
SCRIPTS = Path(__file__).with_name("bottlecrm")
# At least 32 bytes: BottleCRM signs JWTs with it and refuses shorter keys.
SECRET_KEY = "callbridge-tests-bottlecrm-secret-key-0123456789abcdef"
HOW_TO_GET_PYTHON = (
    "BottleCRM {version} needs Python 3.12, and none was found ({tried}). Install it with "
    "`pyenv install 3.12.1` (or your OS's python3.12 package), or point CALLBRIDGE_PYTHON312 at "
    "a python3.12 executable."
)


class BottleCrmUnavailable(RuntimeError):
    """BottleCRM cannot run on this machine; the message says what to do about it."""


def find_python312() -> Path:
    """Return a Python 3.12 interpreter: $CALLBRIDGE_PYTHON312, pyenv's 3.12.1, or PATH's."""
    candidates = [os.environ.get("CALLBRIDGE_PYTHON312", "")]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        candidates.append(f"{root.stdout.strip()}/versions/3.12.1/bin/python3.12")
    candidates.append(shutil.which("python3.12") or "")
    for candidate in filter(None, candidates):
        if _is_python312(candidate):
            return Path(candidate)
    tried = ", ".join(filter(None, candidates)) or "nothing on PATH"
    raise BottleCrmUnavailable(HOW_TO_GET_PYTHON.format(version=VERSION, tried=tried))


def _is_python312(executable: str) -> bool:
    check = "import sys; raise SystemExit(sys.version_info[:2] != (3, 12))"
    try:
        return subprocess.run([executable, "-c", check], timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def default_venv() -> Path:
    """Return where the cached venv lives ($CALLBRIDGE_BOTTLECRM_VENV overrides it)."""
    override = os.environ.get("CALLBRIDGE_BOTTLECRM_VENV")
    return (
        Path(override) if override else Path.home() / ".cache/callbridge" / f"bottlecrm-{VERSION}"
    )


def ensure_venv(python: Path, venv: Path | None = None) -> Path:
    """Return a venv with ``django-crm`` installed, creating it once (pip takes about a minute)."""
    venv = venv or default_venv()
    if _importable(venv):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Parallel test processes (pytest-xdist) may all ask at once: one builds, the others wait.
    with open(venv.with_name(f"{venv.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _importable(venv):
            _build_venv(python, venv)
    return venv


def _build_venv(python: Path, venv: Path) -> None:
    # Built aside and renamed into place, so an interrupted install is never mistaken for a venv;
    # everything runs as ``venv/bin/python -m …``, which survives the rename (scripts would not).
    building = venv.with_name(f"{venv.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [str(python), "-m", "venv", str(building)],
        [str(building / "bin/python"), "-m", "pip", "install", "-q", f"django-crm=={VERSION}"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            raise BottleCrmUnavailable(f"{' '.join(step)} failed:\n{done.stderr[-3000:]}")
    shutil.rmtree(venv, ignore_errors=True)
    building.rename(venv)


def _importable(venv: Path) -> bool:
    python = venv / "bin/python"
    if not python.exists():
        return False
    check = [str(python), "-c", "import crm, django, gunicorn, rest_framework"]
    return subprocess.run(check, capture_output=True, timeout=60).returncode == 0


@dataclass(frozen=True)
class BottleCrmOrg:
    """An org of the test server: its admin and agent profiles, and the admin's token."""

    org_id: str
    admin_profile_id: str
    admin_email: str
    agent_profile_id: str
    agent_email: str
    token: str


@dataclass
class Gunicorn:
    """One gunicorn serving the BottleCRM database; stopped by its PID."""

    process: subprocess.Popen[bytes]
    port: int
    access_log: Path
    error_log: Path

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def requests_served(self) -> int:
        """Return how many requests the server has answered so far (its access log's lines)."""
        if not self.access_log.exists():
            return 0
        return len(self.access_log.read_text().splitlines())

    def wait_ready(self, within: float = 60) -> None:
        """Wait until ``/healthz/`` answers 200, or raise with the end of the error log."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BottleCrmUnavailable(f"gunicorn exited: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz/", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise BottleCrmUnavailable(f"BottleCRM did not become ready: {self.log_tail()}")

    def log_tail(self) -> str:
        """Return the end of gunicorn's error log."""
        return self.error_log.read_text()[-3000:] if self.error_log.exists() else "(no log)"

    def stop(self) -> None:
        """Stop the master by its PID (it stops its workers), killing it if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class BottleCrm:
    """A BottleCRM database in ``workdir``, its ORM helper process, and the servers on it."""

    venv: Path
    workdir: Path
    servers: list[Gunicorn] = field(default_factory=list)
    _admin: subprocess.Popen[str] | None = None

    @property
    def python(self) -> str:
        """Return the venv's interpreter."""
        return str(self.venv / "bin/python")

    @property
    def url(self) -> str:
        """Return the URL of the first (unthrottled) server."""
        return self.servers[0].url

    def environment(self, *, throttle: bool = False) -> dict[str, str]:
        """Return the environment BottleCRM's processes run with."""
        keep = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
        return keep | {
            "PYTHONPATH": str(SCRIPTS),
            "DJANGO_SETTINGS_MODULE": "bottle_settings",
            "ENV_TYPE": "dev",
            "DEBUG": "False",
            "SECRET_KEY": SECRET_KEY,
            "BOTTLE_SQLITE": str(self.workdir / "crm.sqlite3"),
            "BOTTLE_SYNCDB": "1",
            "BOTTLE_THROTTLE": "1" if throttle else "0",
        }

    def create_schema(self) -> None:
        """Create every table straight from the models (``migrate --run-syncdb``, ~4 s)."""
        args = [self.python, "-m", "django", "migrate", "--run-syncdb", "-v0"]
        done = subprocess.run(
            args, cwd=self.workdir, env=self.environment(), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BottleCrmUnavailable(f"BottleCRM schema creation failed:\n{done.stderr[-3000:]}")

    def start_admin(self) -> None:
        """Start the ORM helper (``bottlecrm_admin.py``), which then answers in milliseconds."""
        with (self.workdir / "admin.log").open("ab") as log:
            self._admin = subprocess.Popen(
                [self.python, str(SCRIPTS / "bottlecrm_admin.py")],
                cwd=self.workdir,
                env=self.environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def command(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Send one command to the ORM helper and return its answer."""
        assert self._admin is not None, "start_admin() first"
        stdin, stdout = self._admin.stdin, self._admin.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        stdin.flush()
        answer: dict[str, Any] = json.loads(stdout.readline() or '{"ok": false, "error": "gone"}')
        if not answer.pop("ok"):
            raise RuntimeError(f"BottleCRM admin {op} failed: {answer['error']}")
        return answer

    def new_org(self, name: str = "Callbridge tests", country: str = "US") -> BottleCrmOrg:
        """Create an org with an admin, an agent and the admin's personal access token."""
        return BottleCrmOrg(**self.command("org", name=name, country=country))

    def seed(
        self, org: BottleCrmOrg, count: int, phone_prefix: str = "+1212", start: int = 2_000_000
    ) -> None:
        """Bulk-create ``count`` contacts numbered ``phone_prefix`` + 7 digits from ``start`` on."""
        arguments = {"phone_prefix": phone_prefix, "start": start}
        self.command("seed", org_id=org.org_id, count=count, **arguments)

    def start_server(self, *, throttle: bool = False, workers: int = 2) -> Gunicorn:
        """Start a gunicorn on a free loopback port (not waiting for it to be ready)."""
        port = free_port()
        logs = self.workdir / f"gunicorn-{port}"
        args = [self.python, "-m", "gunicorn", "crm.wsgi:application", "-b", f"127.0.0.1:{port}"]
        args += ["-w", str(workers), "--threads", "4", "--access-logfile", f"{logs}.access.log"]
        args += ["--error-logfile", f"{logs}.error.log", "--no-control-socket"]
        with Path(f"{logs}.output.log").open("ab") as output:  # Django's console logging
            process = subprocess.Popen(
                args,
                cwd=self.workdir,
                env=self.environment(throttle=throttle),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        server = Gunicorn(process, port, Path(f"{logs}.access.log"), Path(f"{logs}.error.log"))
        self.servers.append(server)
        return server

    def stop(self) -> None:
        """Stop every server and the ORM helper."""
        for server in self.servers:
            server.stop()
        if self._admin is not None and self._admin.poll() is None:
            with contextlib.suppress(OSError):
                assert self._admin.stdin is not None
                self._admin.stdin.close()  # the helper exits at the end of its input
            try:
                self._admin.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._admin.kill()
                self._admin.wait()


@contextlib.contextmanager
def running_bottlecrm(venv: Path, workdir: Path) -> Iterator[BottleCrm]:
    """Create the schema, start the ORM helper and an unthrottled server; stop them after."""
    workdir.mkdir(parents=True, exist_ok=True)
    crm = BottleCrm(venv, workdir)
    try:
        crm.create_schema()
        crm.start_admin()
        crm.start_server().wait_ready()
        crm.command("ping")
        yield crm
    finally:
        crm.stop()
