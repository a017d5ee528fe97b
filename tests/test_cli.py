"""The CLI on a fresh data directory: db upgrade, company create, replay with nothing dead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callbridge.service.cli import app


@pytest.fixture
def fresh_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a data directory that does not exist yet."""
    data = tmp_path / "not-yet"
    monkeypatch.setenv("CALLBRIDGE_DATA_DIR", str(data))
    monkeypatch.delenv("CALLBRIDGE_DATABASE_URL", raising=False)
    return data


def test_db_upgrade_creates_the_data_directory(fresh_dir: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (fresh_dir / "callbridge.db").exists()


def test_company_create_prints_key_url_and_secret_on_one_line_each(fresh_dir: Path) -> None:
    result = CliRunner().invoke(app, ["company", "create", "ACME", "--region", "fr"])
    assert result.exit_code == 0, result.output
    assert re.search(r"API key \(shown once\): +cb_\S{20,}\n", result.output)
    assert re.search(r"/webhooks/generic/[0-9a-f-]{36}\n", result.output)
    assert re.search(r"--secret whsec_\S+\n", result.output)


def test_replay_with_no_dead_jobs(fresh_dir: Path) -> None:
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(app, ["replay"])
    assert result.exit_code == 0, result.output
    assert "replayed 0 job(s)" in result.output
