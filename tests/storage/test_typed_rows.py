"""The typed rows the storage reads return name every column of their table, in its order.

They are built from the row as it is read (``cast``), so a column added to the table without
its key here would be there at run time but unknown to the type checker.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table

from callbridge.storage.accounts import Company
from callbridge.storage.call_history import CallRow, SyncRow
from callbridge.storage.deliveries import WebhookRefusalRow
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import (
    call_syncs,
    calls,
    companies,
    integrations,
    webhook_refusals,
)

TYPED: list[tuple[Any, Table]] = [
    (CallRow, calls),
    (Company, companies),
    (IntegrationRow, integrations),
    (SyncRow, call_syncs),
    (WebhookRefusalRow, webhook_refusals),
]


@pytest.mark.parametrize(("typed", "table"), TYPED, ids=[t.name for _, t in TYPED])
def test_a_typed_row_names_its_table_columns_in_order(typed: Any, table: Table) -> None:
    assert list(typed.__annotations__) == [column.name for column in table.columns]
    assert typed.__required_keys__ == frozenset(typed.__annotations__)
