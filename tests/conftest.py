"""Shared fixtures: a fresh database on SQLite and on the real PostgreSQL server, per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from callbridge.runtime import Runtime

# Generated tests run against servers and databases: an example has no deadline, and a test may
# take a function-scoped fixture (a database, a tenant) that its examples share on purpose, each
# example choosing keys of its own.
settings.register_profile(
    "callbridge",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("callbridge")

PG_ADMIN_DSN = os.environ.get("CALLBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:  # never skip silently: CI must fail loudly
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({err}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or point CALLBRIDGE_TEST_PG at a server."
        )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Create an empty PostgreSQL database for one test and drop it afterwards."""
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Return the URL of an empty SQLite file for one test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'callbridge.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL, each on an empty database."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def migrated_url(database_url: str) -> AsyncIterator[str]:
    """Return a database URL with every migration applied."""
    from callbridge.runtime.schema import upgrade

    await upgrade(database_url)
    yield database_url


@pytest.fixture
async def migrated_runtime(migrated_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated database (SQLite and PostgreSQL), closed after the test."""
    from tests.in_process import runtime_on

    async with runtime_on(migrated_url, tmp_path) as runtime:
        yield runtime


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the tests that share a server in one pytest-xdist process (`--dist loadgroup`).

    The BottleCRM tests share one BottleCRM server (and build its virtualenv on first use); the
    tests of a slow module share its module-scoped server: each group runs in one process, so
    each server starts once. The other tests go to whichever process is free.
    """
    for item in items:
        path = item.path.as_posix()
        if "connectors/bottlecrm/" in path:
            item.add_marker(pytest.mark.xdist_group("bottlecrm"))
        elif item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.xdist_group(path))


@pytest.fixture(autouse=True)
def statements_scoped_by_tenant() -> Iterator[None]:
    """Fail any test during which a statement touched a tenant's rows without naming its scope."""
    from callbridge.testing.scoping import scope_audit

    with scope_audit() as audit:
        yield
    assert not audit.offences, "unscoped statements:\n" + audit.report()
