"""A newcomer's first hour with the CLI: where keys come from later, and URLs that work."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from callbridge.service import cli, terminal

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh data directory on SQLite, with no other Callbridge setting."""
    for name in list(os.environ):
        if name.startswith("CALLBRIDGE_"):
            monkeypatch.delenv(name)
    data = tmp_path / "data"
    monkeypatch.setenv("CALLBRIDGE_DATA_DIR", str(data))
    return data


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """Run ``callbridge serve`` up to the web server (not started) and return its output."""
    output = io.StringIO()
    monkeypatch.setattr(terminal, "console", Console(file=output, force_terminal=True, width=300))
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    result = CliRunner().invoke(cli.app, ["serve", *args])
    assert result.exit_code == 0, result.output
    return ANSI.sub("", output.getvalue())


def test_a_later_start_says_how_to_get_a_key_and_a_secret(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _serve(monkeypatch)
    again = _serve(monkeypatch)
    assert "Keys and webhook secrets are shown only when they are created" not in first
    assert "company key create COMPANY" in again
    assert "POST /sources/{source_id}/secrets" in again


@settings(max_examples=10)
@given(port=st.integers(min_value=1024, max_value=65535))
def test_company_create_prints_the_url_serve_answers_on(port: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch, _fresh_dir() as data:
        monkeypatch.setenv("CALLBRIDGE_DATA_DIR", str(data))
        for name in list(os.environ):
            if name.startswith("CALLBRIDGE_") and name != "CALLBRIDGE_DATA_DIR":
                monkeypatch.delenv(name)
        _serve(monkeypatch, "--port", str(port))
        output = io.StringIO()
        monkeypatch.setattr(terminal, "console", Console(file=output, width=300))
        result = CliRunner().invoke(cli.app, ["company", "create", "ACME"])
        assert result.exit_code == 0, result.output
        urls = re.findall(r"https?://[^/\s]+/webhooks/generic/", output.getvalue())
        # The URL line and the setup step that says where to POST.
        assert set(urls) == {f"http://127.0.0.1:{port}/webhooks/generic/"}, output.getvalue()


def test_the_public_url_wins_over_the_noted_one(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, "--port", "9123")
    monkeypatch.setenv("CALLBRIDGE_PUBLIC_URL", "https://calls.example.com")
    output = io.StringIO()
    monkeypatch.setattr(terminal, "console", Console(file=output, width=300))
    assert CliRunner().invoke(cli.app, ["company", "create", "ACME"]).exit_code == 0
    assert "https://calls.example.com/webhooks/generic/" in output.getvalue()


def _fresh_dir() -> _TemporaryDir:
    return _TemporaryDir()


class _TemporaryDir:
    """A temporary directory for one Hypothesis example (function-scoped fixtures are shared)."""

    def __enter__(self) -> Path:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        return Path(self._dir.name) / "data"

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


def test_serve_migrates_in_a_child_and_keeps_alembic_out_of_its_memory(data_dir: Path) -> None:
    """``serve`` applies migrations in a child process: the server's own modules (the CLI, the
    API, the screens, the worker) never import Alembic, ~11 MiB of resident memory."""
    modules = "callbridge.service.cli, callbridge.api.app, callbridge.ui.mount"
    code = f"import sys, {modules}, callbridge.service.worker; print('alembic' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "False"


def test_serve_stops_with_a_message_when_the_database_cannot_be_migrated(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that refuses the migration stops ``serve`` before the web server starts."""
    output = io.StringIO()
    monkeypatch.setattr(terminal, "console", Console(file=output, width=300))
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(cli.app, ["serve"])
    assert result.exit_code != 0 and not started
    assert "The database could not be migrated" in output.getvalue()
