"""The docs and the OpenAPI agree: every route the docs name exists; each option is defined."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from callbridge.api.app import create_app
from callbridge.rules.policy import CreationPolicy
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.ui.mount import mount

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
MENTION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+`?(/[^\s`)\]]*)")
# A path in backticks without a method: it must exist with some method.
BARE_PATH = re.compile(r"(?<![A-Z] )`(/[a-z][^\s`]*)`")
# Served by FastAPI itself, outside the OpenAPI document.
FRAMEWORK_PATHS = {"/docs", "/redoc", "/openapi.json"}
# Pages that also describe a CRM's own API, and the prefixes of that vendor's paths.
VENDOR_PREFIXES = {
    "docs/connectors/bottlecrm.md": ("/api/",),
    "docs/connectors/hubspot.md": ("/crm/", "/oauth/", "/account-info/", "/settings/"),
    "docs/telephony/aircall.md": ("/v1/", "/voicemail/"),
}


def _mentions() -> Iterator[tuple[str, int, str, str]]:
    for page in DOCS:
        name = page.relative_to(ROOT).as_posix()
        skip = VENDOR_PREFIXES.get(name, ())
        for number, line in enumerate(page.read_text().splitlines(), start=1):
            found = [*MENTION.findall(line), *(("ANY", p) for p in BARE_PATH.findall(line))]
            for method, path in found:
                path = path.split("?")[0].rstrip(".,:;")
                if not path.startswith(skip) and path not in FRAMEWORK_PATHS:
                    yield name, number, method, path


def _pattern(template: str) -> re.Pattern[str]:
    """Turn an OpenAPI path template into a regex; a documented ``{name}`` or ``…`` also fits."""
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(p) for p in parts))


def _leaves(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Yield the app's routes, those of the routers it includes among them (FastAPI nests them)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _leaves(included.routes) if included is not None else (route,)


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, re.Pattern[str]]]:
    data = tmp_path_factory.mktemp("docs-routes")
    runtime = Runtime.create(Settings(data_dir=data, database_url=None))
    app = mount(create_app(runtime))  # the API with the screens, as `callbridge serve` runs it
    documented = [
        (method.upper(), _pattern(path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]
    # The screens (/ui/…) are left out of the OpenAPI document: they are read off the app itself.
    screens = [
        (method, _pattern(route.path))
        for route in _leaves(app.routes)
        if isinstance(route, APIRoute) and not route.include_in_schema
        for method in route.methods or ()
    ]
    return documented + screens


def _documented(path: str) -> str:
    """Replace placeholders a page writes (``{id}``, ``…``, ``<id>``) by one path segment."""
    return re.sub(r"\{[^}]*\}|<[^>]*>|…", "x", path)


def test_the_docs_name_routes() -> None:
    assert len(list(_mentions())) > 20, "the route finder found (almost) nothing to check"


def test_every_documented_route_exists(routes: list[tuple[str, re.Pattern[str]]]) -> None:
    missing = [
        f"{page}:{number}: {method} {path}"
        for page, number, method, path in _mentions()
        if not any(method in (m, "ANY") and p.fullmatch(_documented(path)) for m, p in routes)
    ]
    assert not missing, "documented routes that do not exist:\n" + "\n".join(missing)


def test_the_api_schema_defines_every_creation_option(tmp_path: Path) -> None:
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=None))
    schemas = create_app(runtime).openapi()["components"]["schemas"]
    described = schemas["CreationPolicy"]["description"]
    for option in CreationPolicy:
        assert f"``{option.value}``" in described, option
    assert "hung-up calls" in described
