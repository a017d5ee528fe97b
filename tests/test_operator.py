"""The operator's side: serve's first start, admin keys from the CLI, the SQLite file's mode.

A production start (PostgreSQL, or no embedded worker) creates nothing; ``make run``'s start
creates a demo company whose secrets reach a terminal once and never a log handler. A lost key is
replaced with ``callbridge company key create``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner, Result

from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service import cli
from callbridge.service import terminal as cli_terminal
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import accounts, sql

KEY = re.compile(r"cb_[A-Za-z0-9_-]{40,}")
SECRET = re.compile(r"whsec_\S+")


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the CLI at an empty database (SQLite file or PostgreSQL) and a fresh data dir."""
    for name in list(os.environ):
        if name.startswith("CALLBRIDGE_"):
            monkeypatch.delenv(name)
    values = {"CALLBRIDGE_DATA_DIR": str(tmp_path / "data")}
    if database_url.startswith("postgresql"):
        values["CALLBRIDGE_DATABASE_URL"] = database_url
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(*args: str) -> Result:
    """Invoke the CLI and return its result."""
    return CliRunner().invoke(cli.app, list(args))


async def _companies(settings: Settings) -> list[dict[str, Any]]:
    runtime = Runtime.create(settings)
    try:
        async with runtime.reads() as session:
            return await sql.run(session, accounts.list_companies)
    finally:
        await runtime.close()


async def _owner(settings: Settings, raw: str) -> str | None:
    runtime = Runtime.create(settings)
    try:
        async with runtime.reads() as session:
            found = await sql.run(session, accounts.authenticate, raw)
        return found.company_id if found else None
    finally:
        await runtime.close()


def _serve(monkeypatch: pytest.MonkeyPatch, terminal: bool) -> str:
    """Run ``callbridge serve`` up to the web server (not started) and return its output."""
    output = io.StringIO()
    monkeypatch.setattr(
        cli_terminal, "console", Console(file=output, force_terminal=terminal, width=300)
    )
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    result = run("serve")
    assert result.exit_code == 0, result.output
    return output.getvalue()


@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("embedded_worker", [True, False])
def test_only_make_runs_first_start_creates_a_demo_company_and_shows_its_secrets_once(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    terminal: bool,
    embedded_worker: bool,
) -> None:
    monkeypatch.setenv("CALLBRIDGE_EMBEDDED_WORKER", str(embedded_worker).lower())
    caplog.set_level(logging.DEBUG)
    first = _serve(monkeypatch, terminal)
    again = _serve(monkeypatch, terminal)
    companies = asyncio.run(_companies(Settings()))
    demo = embedded_worker and "CALLBRIDGE_DATABASE_URL" not in env
    assert [c["name"] for c in companies] == (["Demo company"] if demo else [])
    keys = KEY.findall(first)
    assert len(keys) == (2 if demo and terminal else 0)  # the key line and the demo command
    assert len(set(keys)) <= 1 and not KEY.findall(again), "a key is shown once"
    assert bool(SECRET.search(first)) is (demo and terminal) and not SECRET.search(again)
    if keys:
        assert asyncio.run(_owner(Settings(), keys[0])) == companies[0]["id"]
    if demo and not terminal:
        assert f"company key create {companies[0]['id']}" in first
    if not demo:
        assert "No company yet" in first
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not KEY.search(logged) and not SECRET.search(logged)


def test_a_lost_key_is_replaced_and_keys_are_revoked_from_the_cli(env: dict[str, str]) -> None:
    created = run("company", "create", "ACME")
    assert created.exit_code == 0, created.output
    [lost] = set(KEY.findall(created.output))
    [acme] = asyncio.run(_companies(Settings()))
    issued = run("company", "key", "create", "ACME", "--name", "after the loss")
    assert issued.exit_code == 0, issued.output
    [fresh] = KEY.findall(issued.output)
    assert asyncio.run(_owner(Settings(), fresh)) == acme["id"]
    listed = run("company", "key", "list", acme["id"])
    assert listed.exit_code == 0 and not KEY.search(listed.output), "list shows prefixes only"
    assert lost[:10] in listed.output and fresh[:10] in listed.output
    revoked = run("company", "key", "revoke", "ACME", lost[:10])
    assert revoked.exit_code == 0, revoked.output
    assert asyncio.run(_owner(Settings(), lost)) is None
    assert asyncio.run(_owner(Settings(), fresh)) == acme["id"]
    assert "revoked" in run("company", "key", "list", "ACME").output
    twice = run("company", "key", "revoke", "ACME", lost[:10])
    assert twice.exit_code == 1 and "no unrevoked key" in twice.output
    assert run("company", "create", "ACME").exit_code == 0
    ambiguous = run("company", "key", "create", "ACME")
    assert ambiguous.exit_code == 1 and "give the company's id" in ambiguous.output
    unknown = run("company", "key", "list", "Initech")
    assert unknown.exit_code == 1 and "company list" in unknown.output
    assert acme["id"] in run("company", "list").output


@settings(max_examples=10)
@given(umask=st.sampled_from([0o000, 0o002, 0o022, 0o027]), companies=st.integers(1, 3))
def test_the_sqlite_file_and_its_wal_are_readable_by_their_owner_only(
    tmp_path_factory: pytest.TempPathFactory, umask: int, companies: int
) -> None:
    data = tmp_path_factory.mktemp("data")
    old = os.umask(umask)
    try:
        modes = asyncio.run(_write(Settings(data_dir=data, database_url=None), companies))
    finally:
        os.umask(old)
    assert {"callbridge.db", "callbridge.db-wal", "callbridge.db-shm"} <= set(modes), modes
    assert all(mode & 0o077 == 0 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}


async def _write(settings: Settings, companies: int) -> dict[str, int]:
    """Migrate, create companies, and return the modes of the database's files while open."""
    runtime = Runtime.create(settings)
    try:
        await upgrade(settings.resolved_database_url())
        for index in range(companies):
            await create_company(runtime, f"Company {index}")
        files = settings.data_dir.glob("callbridge.db*")
        return {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    finally:
        await runtime.close()
