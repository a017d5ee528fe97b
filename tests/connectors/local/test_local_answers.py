"""The local CRM's row answers show every column of their table, in the table's order.

An answer model drops any key it does not declare: a column added to a table without its field
would silently vanish from the API (as tests/api/test_answer_columns.py checks for the core's).
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import Table

from callbridge.connectors.local.answers import ActivityShown, DealRow, NoteRow, TaskRow
from callbridge.connectors.local.tables import crm_activities, crm_deals, crm_notes, crm_tasks

ROWS: list[tuple[type[BaseModel], Table]] = [
    (ActivityShown, crm_activities),
    (DealRow, crm_deals),
    (TaskRow, crm_tasks),
    (NoteRow, crm_notes),
]


@pytest.mark.parametrize(("answer", "table"), ROWS, ids=[t.name for _, t in ROWS])
def test_a_row_answer_shows_its_columns_in_order(answer: type[BaseModel], table: Table) -> None:
    assert list(answer.model_fields) == [column.name for column in table.columns]
