"""/docs and /redoc work offline: their pages name only this server's assets, which it serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.settings import Settings

#: Every URL a page loads: script and stylesheet sources, links, and the OpenAPI document.
ASSET = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=None))
    return TestClient(create_app(runtime))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_load_only_local_assets(client: TestClient, page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    assets = ASSET.findall(answer.text)
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts, f"{page} loads no script: the pattern no longer reads the page"
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from another host"
        assert client.get(asset).status_code == 200, f"{page} loads {asset}, not served"
    assert "cdn" not in answer.text.lower()
    assert "fonts.googleapis" not in answer.text
