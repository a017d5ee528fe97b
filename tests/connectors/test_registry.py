"""Each connector declares its parts in its spec, and the rest of Callbridge finds them there.

One name everywhere: the registry key is the connector's folder; its tables are on the schema
Alembic compares, its migration folder among those searched, its routes in the API; storage
reaches none of them except through the runtime (it imports no connector).
"""

from __future__ import annotations

from dataclasses import fields
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import grimp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import Table

from callbridge.connectors import registry
from callbridge.connectors.base import IntegrationContext
from callbridge.connectors.local.connector import build as build_local
from callbridge.connectors.spec import ConnectorSpec, spec_of
from callbridge.queue import breaker_table, sqlite_table
from callbridge.runtime.schema import connector_tables, metadata, migration_folders
from callbridge.storage import tables as core_tables

CONNECTORS = Path(registry.__file__).parent
#: The connectors Callbridge ships, each with the parts its spec declares besides ``build``:
#: a connector that leaves the registry, or a part its spec stops declaring, fails here.
SHIPPED = {
    "bottlecrm": {"settings", "credentials"},
    "hubspot": {"tables", "migrations", "fake", "settings", "credentials"},
    "local": {"tables", "routers", "settings"},
}
PARTS = tuple(f.name for f in fields(ConnectorSpec) if f.name not in {"key", "build"})
#: The files every connector folder has (CONTRIBUTING.md, "add a CRM connector").
FURNITURE = ("spec.py", "connector.py", "client.py", "mapping.py", "config.py")


def _tables(module: ModuleType) -> set[str]:
    return {value.name for value in vars(module).values() if isinstance(value, Table)}


def test_every_built_in_is_installed_by_its_spec() -> None:
    """Stale metadata (``pip install -e .`` not rerun) would hide a connector's parts."""
    installed = {entry.name: entry.value for entry in entry_points(group=registry.GROUP)}
    assert set(registry.BUILT_IN) == set(SHIPPED)
    for key, module in registry.BUILT_IN.items():
        assert installed.get(key) == f"{module}:SPEC", "rerun `.venv/bin/pip install -e .`"


def test_a_spec_is_named_like_its_folder() -> None:
    assert set(SHIPPED) <= set(registry.specs())
    for key, spec in registry.specs().items():
        assert spec.key == key
        if key in registry.BUILT_IN:
            assert (CONNECTORS / key / "spec.py").is_file()
            assert spec.build.__module__ == f"callbridge.connectors.{key}.connector"
        if spec.tables is not None:
            assert spec.tables.__name__.startswith(f"callbridge.connectors.{key}.")
        if spec.migrations is not None:
            assert spec.migrations.is_relative_to(CONNECTORS / key)


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_a_shipped_connector_declares_its_parts_and_each_loads(key: str) -> None:
    spec = registry.specs()[key]
    assert {part for part in PARTS if getattr(spec, part) is not None} == SHIPPED[key]
    assert all((CONNECTORS / key / name).is_file() for name in FURNITURE)
    home = f"callbridge.connectors.{key}"
    assert callable(spec.build) and spec.build.__module__ == f"{home}.connector"
    if spec.tables is not None:
        assert _tables(spec.tables), "its tables module defines no table"
        assert _tables(spec.tables) <= set(metadata.tables)
    if spec.migrations is not None:
        assert list(spec.migrations.glob("*.py")), "its migrations folder holds no revision"
    if spec.routers is not None:
        assert callable(spec.routers) and spec.routers.__module__.startswith(home)
    if spec.fake is not None:
        assert spec.fake.startswith(home) and callable(import_module(spec.fake).serve)
    for model in (spec.settings, spec.credentials):
        if model is not None:
            assert issubclass(model, BaseModel) and model.__module__ == f"{home}.config"
            assert model.model_json_schema()["type"] == "object"  # a model pydantic can build


def test_every_table_belongs_to_one_room() -> None:
    """The schema is storage's, the queues' and each connector's tables, none twice, no other."""
    owners = [
        core_tables,
        sqlite_table,
        breaker_table,
        *connector_tables.values(),
    ]
    declared = [_tables(module) for module in owners]
    assert sum(len(names) for names in declared) == len(set().union(*declared))
    assert set().union(*declared) == set(metadata.tables)
    assert {"hubspot", "local"} <= set(connector_tables)


def test_the_fakes_declared_can_be_started() -> None:
    fakes = {key: spec.fake for key, spec in registry.specs().items() if spec.fake}
    assert fakes == {"hubspot": "callbridge.connectors.hubspot.fake"}
    for module in fakes.values():
        assert callable(import_module(module).serve)


def test_migration_folders_come_from_the_specs() -> None:
    declared = {spec.migrations for spec in registry.specs().values() if spec.migrations}
    assert set(migration_folders()) == declared


def test_only_the_local_crm_serves_routes_today() -> None:
    serving = {key for key, spec in registry.specs().items() if spec.routers is not None}
    assert serving == {"local"}


def test_storage_reaches_no_connector_and_no_runtime() -> None:
    graph = grimp.build_graph("callbridge", cache_dir=None)
    for above in ("callbridge.connectors", "callbridge.runtime", "callbridge.api"):
        assert not graph.chain_exists("callbridge.storage", above, as_packages=True), above


@settings(max_examples=50)
@given(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
def test_an_entry_point_may_name_a_spec_or_a_bare_build_function(key: str) -> None:
    bare = spec_of(key, build_local)
    assert bare == ConnectorSpec(key=key, build=build_local)
    assert spec_of(key, bare) is bare
    with pytest.raises(ValueError, match="names the spec of"):
        spec_of(key + "x", bare)
    with pytest.raises(TypeError):
        spec_of(key, IntegrationContext.__name__)
