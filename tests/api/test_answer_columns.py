"""A row the API answers as stored shows every column, in the table's order, never a secret.

The answers' models (``callbridge.api``) drop any key they do not declare, so a column added
to a table without its field would silently vanish from the API; one declared out of order
would reorder the JSON. This keeps models and tables in step.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import Table

from callbridge.api.admin import CompanyShown
from callbridge.api.calls import ActionShown, ActivityShown, CallShown, SyncShown
from callbridge.api.integration_models import IntegrationShown
from callbridge.api.models import ChoiceShown
from callbridge.api.sources import SourceShown
from callbridge.api.staff import TeamShown, UserShown
from callbridge.api.user_links import UserLink
from callbridge.storage.tables import (
    activity_links,
    call_actions,
    call_selections,
    call_syncs,
    calls,
    companies,
    crm_user_links,
    integrations,
    teams,
    telephony_sources,
    users,
)

#: (answer, table, columns it must not show): the secrets, and a choice's row keys.
ROWS: list[tuple[type[BaseModel], Table, set[str]]] = [
    (CompanyShown, companies, set()),
    (CallShown, calls, set()),
    (SyncShown, call_syncs, set()),
    (ActionShown, call_actions, set()),
    (ActivityShown, activity_links, set()),
    (TeamShown, teams, set()),
    (UserShown, users, set()),
    (SourceShown, telephony_sources, {"secrets_encrypted"}),
    (IntegrationShown, integrations, {"credentials_encrypted"}),
    (UserLink, crm_user_links, set()),
    (ChoiceShown, call_selections, {"id", "company_id"}),
]


@pytest.mark.parametrize(("answer", "table", "hidden"), ROWS, ids=[t.name for _, t, _ in ROWS])
def test_a_row_answer_shows_its_columns_in_order(
    answer: type[BaseModel], table: Table, hidden: set[str]
) -> None:
    columns = [column.name for column in table.columns if column.name not in hidden]
    fields = list(answer.model_fields)
    assert fields[: len(columns)] == columns
    assert not hidden & set(fields), f"{answer.__name__} would show {hidden & set(fields)}"
