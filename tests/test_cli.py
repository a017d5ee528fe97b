"""The CLI on a fresh data directory: db upgrade, company create, replay with nothing dead."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callbridge.errors import SignatureError
from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.service.cli import app
from callbridge.settings import Settings
from callbridge.storage import accounts, sql
from callbridge.storage.integrations import list_integrations
from callbridge.storage.tables import telephony_sources
from callbridge.testing.webhooks import generic_event, signed


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


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://cb:s3cret-pw@127.0.0.1:1/none",  # nothing listens there
        "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:5432/cb_no_such_database",
    ],
)
def test_db_upgrade_says_which_database_it_cannot_migrate_and_hides_the_password(
    fresh_dir: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "Cannot migrate the database at postgresql+psycopg://" in result.output
    assert "CALLBRIDGE_DATABASE_URL" in result.output
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output


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


def _companies(data: Path) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """Return each company's name, its integrations' connectors and its sources."""

    async def read() -> list[tuple[str, list[str], list[tuple[str, str]]]]:
        runtime = Runtime.create(Settings(data_dir=data))
        try:
            found = []
            async with runtime.reads() as session:
                for company in await sql.run(session, accounts.list_companies):
                    crms = await sql.run(session, list_integrations, company["id"])
                    sources = await sql.run(
                        session, accounts.list_rows, telephony_sources, company["id"]
                    )
                    found.append(
                        (
                            company["name"],
                            [crm["connector"] for crm in crms],
                            [(row["id"], row["provider"]) for row in sources],
                        )
                    )
            return found
        finally:
            await runtime.close()

    return asyncio.run(read())


def test_company_create_with_a_vendor_source_shows_what_to_paste_where(fresh_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["company", "create", "ACME", "--provider", "aircall", "--secret", "an-aircall-token"]
    )
    assert result.exit_code == 0, result.output
    [(name, crms, [(source_id, provider)])] = _companies(fresh_dir)
    assert (name, crms, provider) == ("ACME", ["local"], "aircall")
    assert f"/webhooks/aircall/{source_id}\n" in result.output
    assert "Setup (docs/telephony/aircall.md):" in result.output
    assert f"POST /sources/{source_id}/secrets" in result.output
    assert "an-aircall-token" not in result.output
    assert "demo" not in result.output  # the demo sends generic webhooks


def test_company_create_asks_for_the_vendor_secret(fresh_dir: Path) -> None:
    command = ["company", "create", "Ring", "--provider", "ringover", "--crm", "none"]
    result = CliRunner().invoke(app, command, input="a-ringover-key\n")
    assert result.exit_code == 0, result.output
    assert "signature key" in result.output
    assert "No CRM integration" in result.output
    [(name, crms, [(_, provider)])] = _companies(fresh_dir)
    assert (name, crms, provider) == ("Ring", [], "ringover")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--provider", "nokia"], "--provider"),
        (["--provider", "aircall", "--secret", "short"], "--secret"),
        (["--provider", "aircall", "--secret", "x" * 1001], "--secret"),
        (["--secret", "whsec_mine_mine"], "--secret"),
        (["--crm", "hubspot"], "--crm"),
    ],
)
def test_company_create_refuses_a_bad_option_naming_it(
    fresh_dir: Path, options: list[str], named: str
) -> None:
    result = CliRunner().invoke(app, ["company", "create", "ACME", *options])
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert not fresh_dir.exists() or _companies(fresh_dir) == []


def test_source_deliveries_shows_accepted_and_refused(fresh_dir: Path) -> None:
    created = CliRunner().invoke(app, ["company", "create", "ACME"])
    assert created.exit_code == 0, created.output
    [(_, _, [(source_id, _)])] = _companies(fresh_dir)
    secret = re.findall(r"--secret (whsec_\S+)", created.output)[0]

    async def deliver() -> None:
        runtime = Runtime.create(Settings(data_dir=fresh_dir))
        try:
            event = generic_event("call.ringing", "cli-1", direction="incoming")
            body, headers = signed(secret, event)
            await ingest(runtime, source_id, headers, body)
            with pytest.raises(SignatureError):
                await ingest(runtime, source_id, {**headers, "webhook-signature": "v1,A"}, body)
        finally:
            await runtime.close()

    asyncio.run(deliver())
    result = CliRunner().invoke(app, ["source", "deliveries", source_id])
    assert result.exit_code == 0, result.output
    refused, accepted = result.output.splitlines()
    assert "refused 401  invalid_signature" in refused
    assert "accepted 200  call.ringing (cli-1)" in accepted
    unknown = CliRunner().invoke(app, ["source", "deliveries", "no-such-source"])
    assert unknown.exit_code == 1
    assert "no source no-such-source" in unknown.output
