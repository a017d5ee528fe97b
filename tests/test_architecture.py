"""The shape of ``src/callbridge``: no import cycle between modules or rooms; pure domain and rules.

The import graph is built by grimp from the source, with every import counted: at the top of a
module, inside a function (a lazy import still makes the reader follow the cycle) and in
``if TYPE_CHECKING:`` blocks (a type-only import is still a cycle for whoever reads the code).
``from callbridge.telephony import standard_webhooks`` is an import of the submodule, not of the
package's ``__init__``; ``from callbridge.telephony import PROVIDERS`` is one of the ``__init__``.

A *room* is a top-level package (``api``, ``connectors``, ``domain``, ``queue``, …) or a root
module (``worker``, ``pipeline``, …) of ``callbridge``: every module belongs to the room named by
the first part after ``callbridge.``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import grimp
from hypothesis import given, settings
from hypothesis import strategies as st

PACKAGE = "callbridge"
PURE_ROOMS = {"domain", "rules"}
# The project's error kinds may be raised by pure code, and its refusals said with their codes
# (a matrix's problems); errors.py and refusal_codes.py must then be pure themselves.
PURE_LEAVES = {"errors", "refusal_codes"}
# Web, database and network libraries: none of them may be imported by a pure room.
IO_LIBRARIES = {
    "aiohttp",
    "aiosqlite",
    "alembic",
    "fastapi",
    "httpx",
    "procrastinate",
    "psycopg",
    "sqlalchemy",
    "starlette",
    "uvicorn",
}

Graph = Mapping[str, Iterable[str]]

SOURCE = Path(__file__).parents[1] / "src" / PACKAGE
# The rooms that serve people (the API and the UI) reach the database through storage's
# repository functions; of SQLAlchemy they may name only these types and its errors.
NO_SQL_ROOMS = ("api", "ui")
SQL_TYPES = {"Connection", "Row", "Table"}
SQL_TYPE_MODULES = {"sqlalchemy.exc", "sqlalchemy.ext.asyncio"}
# Modules that still build a query, and why; an entry goes when its query moves to storage.
BUILDS_SQL: dict[str, str] = {}


@cache
def _graph() -> grimp.ImportGraph:
    """Return the import graph of the package, with the external packages it imports."""
    return grimp.build_graph(PACKAGE, include_external_packages=True, cache_dir=None)


def _internal_imports() -> dict[str, set[str]]:
    """Return each module of the package with the modules of the package it imports directly."""
    graph = _graph()
    modules = {m for m in graph.modules if _is_internal(m)}
    return {
        m: {t for t in graph.find_modules_directly_imported_by(m) if _is_internal(t)}
        for m in modules
    }


def _is_internal(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def room(module: str) -> str:
    """Return the room of a module of the package (``__init__`` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(graph: Graph) -> list[list[str]]:
    """Return the strongly connected components of more than one node, sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for node in sorted(set(graph) | {t for targets in graph.values() for t in targets}):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def _room_imports(imports: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Return each room with the other rooms its modules import."""
    rooms: dict[str, set[str]] = {}
    for module, targets in imports.items():
        rooms.setdefault(room(module), set()).update(
            room(t) for t in targets if room(t) != room(module)
        )
    return rooms


def _explain(graph: grimp.ImportGraph, component: list[str], of_rooms: bool) -> str:
    """Name the import lines that close a cycle, so the failure says where to cut."""
    members = set(component)
    lines = []
    for importer in sorted(m for m in graph.modules if _is_internal(m)):
        if (room(importer) if of_rooms else importer) not in members:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            key = room(imported) if of_rooms else imported
            if not _is_internal(imported) or key not in members:
                continue
            if of_rooms and key == room(importer):
                continue
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"  {importer}:{detail['line_number']}: {detail['line_contents']}")
    return f"cycle {' ↔ '.join(component)}:\n" + "\n".join(lines)


def test_no_cycle_between_modules() -> None:
    found = cycles(_internal_imports())
    report = "\n".join(_explain(_graph(), c, of_rooms=False) for c in found)
    print(report or "no cycle between modules")
    assert not found, report


def test_no_cycle_between_rooms() -> None:
    found = cycles(_room_imports(_internal_imports()))
    report = "\n".join(_explain(_graph(), c, of_rooms=True) for c in found)
    print(report or "no cycle between rooms")
    assert not found, report


def test_domain_and_rules_import_no_io_and_no_other_room() -> None:
    graph = _graph()
    wrong = []
    pure = PURE_ROOMS | PURE_LEAVES
    for module in sorted(m for m in graph.modules if _is_internal(m) and room(m) in pure):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if _is_internal(imported):
                allowed = room(imported) in PURE_ROOMS or (
                    room(module) in PURE_ROOMS and room(imported) in PURE_LEAVES
                )
            else:
                allowed = imported.split(".")[0] not in IO_LIBRARIES
            if not allowed:
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_guard_sees_the_rooms_it_guards() -> None:
    """A guard that read an empty graph would pass for nothing: it must see today's rooms."""
    rooms = {room(m) for m in _internal_imports()}
    assert {"api", "connectors", "domain", "queue", "rules", "storage", "telephony"} <= rooms
    assert "fastapi" in _graph().find_modules_directly_imported_by("callbridge.api.app")


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for target in graph.get(node, ()):
            if target == goal:
                return True
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return False


_NODES = st.sampled_from([f"m{i}" for i in range(8)])


@settings(max_examples=300)
@given(st.lists(st.tuples(_NODES, _NODES), max_size=20))
def test_cycles_finds_exactly_the_nodes_that_reach_each_other(edges: list[tuple[str, str]]) -> None:
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        if source != target:  # a module importing itself is no cycle between modules
            graph.setdefault(source, set()).add(target)
    in_cycle = {n for c in cycles(graph) for n in c}
    nodes = set(graph) | {t for targets in graph.values() for t in targets}
    assert in_cycle == {n for n in nodes if _reaches(graph, n, n)}
    for component in cycles(graph):
        assert all(_reaches(graph, a, b) for a in component for b in component if a != b)


def sql_builders(source: str) -> list[str]:
    """Return what a module imports from SQLAlchemy beyond its types and errors."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            if node.module in SQL_TYPE_MODULES:
                continue
            names = [a.name for a in node.names]
            found += [
                f"{node.module}.{n}"
                for n in names
                if node.module != "sqlalchemy" or n not in SQL_TYPES
            ]
    return found


def test_api_and_ui_build_no_sql() -> None:
    """SQL is written in storage: the API and the UI call its repository functions."""
    wrong = []
    for room_name in NO_SQL_ROOMS:
        for path in sorted((SOURCE / room_name).rglob("*.py")):
            name = str(path.relative_to(SOURCE))
            if name not in BUILDS_SQL:
                wrong += [f"{name} imports {b}" for b in sql_builders(path.read_text())]
    stale = [name for name in BUILDS_SQL if not sql_builders((SOURCE / name).read_text())]
    assert not wrong + stale, "\n".join(wrong + [f"{name} builds no SQL now" for name in stale])


@settings(max_examples=50)
@given(
    st.sampled_from(["select", "insert", "update", "delete", "text", "func", "and_"]),
    st.sampled_from(
        ["from sqlalchemy import {}", "from sqlalchemy.sql import {}", "import sqlalchemy as {}"]
    ),
)
def test_the_sql_guard_sees_a_query_builder(name: str, template: str) -> None:
    """The guard flags a builder however it is imported, and leaves the types alone."""
    assert sql_builders(template.format(name))
    assert not sql_builders(
        "from sqlalchemy import Connection, Table\nfrom sqlalchemy.exc import IntegrityError"
    )
