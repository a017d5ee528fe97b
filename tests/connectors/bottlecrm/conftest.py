"""A real BottleCRM server for the whole session, a fresh org per test, connectors built on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from callbridge.connectors import http_client
from callbridge.connectors.base import Connector
from callbridge.connectors.egress import EgressPolicy
from callbridge.testing.bottlecrm_server import (
    BottleCrm,
    BottleCrmOrg,
    BottleCrmUnavailable,
    Gunicorn,
    ensure_venv,
    find_python312,
    running_bottlecrm,
)
from callbridge.testing.servers import LOOPBACK
from tests.connectors.bottlecrm.bottlecrm_setup import bottlecrm_connector


@pytest.fixture(scope="session")
def bottlecrm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BottleCrm]:
    """BottleCRM 1.35.0 on loopback with throttles off (its venv is created on first use)."""
    try:
        venv = ensure_venv(find_python312())
        with running_bottlecrm(venv, tmp_path_factory.mktemp("bottlecrm")) as crm:
            yield crm
    except BottleCrmUnavailable as err:  # never skip: a missing peer must fail the run
        pytest.fail(str(err), pytrace=False)


@pytest.fixture(scope="session")
def bottlecrm_throttled(bottlecrm: BottleCrm) -> Gunicorn:
    """A second server on the same database with DRF throttles on (one worker: exact counts)."""
    server = bottlecrm.start_server(throttle=True, workers=1)
    server.wait_ready()
    return server


@pytest.fixture
def bottlecrm_org(bottlecrm: BottleCrm) -> BottleCrmOrg:
    """A fresh org, so no test sees another's records (and throttle counters are per user)."""
    return bottlecrm.new_org()


@pytest.fixture
async def bottlecrm_api(
    bottlecrm: BottleCrm, bottlecrm_org: BottleCrmOrg
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of BottleCRM's REST API, as the org's admin: what a person would do there."""
    headers = {"Authorization": f"Bearer {bottlecrm_org.token}"}
    async with httpx.AsyncClient(base_url=bottlecrm.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client connectors are given, as Callbridge's runtime gives one.

    BottleCRM listens on loopback, which the operator must allow (as in a self-hosted setup).
    """
    policy = EgressPolicy.parse(LOOPBACK)
    async with http_client.client(policy, httpx.Timeout(30.0, connect=5.0)) as client:
        yield client


@pytest.fixture
def connector(
    http: httpx.AsyncClient, bottlecrm: BottleCrm, bottlecrm_org: BottleCrmOrg
) -> Connector:
    """The connector under test, on the test's own org."""
    return bottlecrm_connector(http, bottlecrm.url, bottlecrm_org.token)
