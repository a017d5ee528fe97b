"""Catch SQL statements that read or change a company's rows without naming the company.

Every read and write of a tenant's rows must carry its scope in the statement itself
(docs/tenancy.md): the company when the table has a ``company_id`` column, else the integration.
A check in Python before or after the statement does not count, because the statement is what
runs. The audit listens to every engine of the process and records each offending statement::

    with scope_audit() as audit:
        ...  # run the code under test
    assert not audit.offences, audit.report()

Raw ``text()`` statements (the job queues' tables, which hold no tenant rows) are not parsed.
A statement that must find its tenant first (an API key or a webhook source looked up by its
secret hash or id) says so with ``.execution_options(tenant_entry="why")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Delete, Engine, Select, Table, Update, event
from sqlalchemy.sql import visitors
from sqlalchemy.sql.selectable import Join


def _scope_column(table: Table) -> str | None:
    """Return the column that scopes ``table``'s rows to a tenant, None for shared tables."""
    for name in ("company_id", "integration_id"):
        if name in table.c:
            return name
    return None


def _tables_of(node: Select[Any] | Update | Delete) -> list[Table]:
    """Return the tables a statement reads or changes directly (not in its subqueries)."""
    if isinstance(node, Update | Delete):
        return [node.table] if isinstance(node.table, Table) else []
    found: list[Table] = []
    for source in node.get_final_froms():
        stack: list[Any] = [source]
        while stack:
            item = stack.pop()
            if isinstance(item, Join):
                stack.extend((item.left, item.right))
            elif isinstance(item, Table):
                found.append(item)
            elif getattr(item, "element", None) is not None and isinstance(item.element, Table):
                found.append(item.element)  # an alias of a table
    return found


def _named_columns(clause: Any) -> set[tuple[str, str]]:
    """Return the (table, column) pairs a WHERE clause mentions."""
    named: set[tuple[str, str]] = set()
    for item in visitors.iterate(clause):
        if isinstance(item, Column) and item.table is not None:
            table = getattr(item.table, "element", item.table)
            named.add((getattr(table, "name", ""), str(item.name)))
    return named


def unscoped(statement: Any) -> list[str]:
    """Return, for each query in ``statement``, the tenant tables it touches unscoped."""
    problems: list[str] = []
    if "tenant_entry" in getattr(statement, "get_execution_options", dict)():
        return problems
    for node in visitors.iterate(statement):
        if not isinstance(node, Select | Update | Delete):
            continue
        tenant = [(t, _scope_column(t)) for t in _tables_of(node)]
        tenant = [(t, column) for t, column in tenant if column is not None]
        if not tenant:
            continue
        where = node.whereclause
        named = _named_columns(where) if where is not None else set()
        if not any((t.name, column) in named for t, column in tenant):
            wanted = ", ".join(f"{t.name}.{column}" for t, column in tenant)
            problems.append(f"{type(node).__name__} without any of {wanted} in its WHERE")
    return problems


@dataclass
class ScopeAudit:
    """The statements seen without their tenant's scope, with the SQL that ran."""

    offences: list[tuple[str, str]] = field(default_factory=list)

    def check(self, statement: Any) -> None:
        """Record ``statement`` if it touches a tenant's rows without naming its scope."""
        for problem in unscoped(statement):
            self.offences.append((problem, str(statement)))

    def report(self) -> str:
        """Describe every offence, once each."""
        unique = dict.fromkeys(f"{problem}:\n{sql}" for problem, sql in self.offences)
        return "\n\n".join(unique)


@contextmanager
def scope_audit() -> Iterator[ScopeAudit]:
    """Audit every statement any engine of this process runs while the block runs."""
    audit = ScopeAudit()

    def before_execute(
        conn: Any, clauseelement: Any, multiparams: Any, params: Any, options: Any
    ) -> None:
        if "tenant_entry" not in conn.get_execution_options():
            audit.check(clauseelement)

    event.listen(Engine, "before_execute", before_execute)
    try:
        yield audit
    finally:
        event.remove(Engine, "before_execute", before_execute)
