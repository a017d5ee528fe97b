"""The API's safety net for a database conflict no route answered itself: a coded 409."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from callbridge.api.app import _install_error_answers
from callbridge.refusal_codes import CODES

CONSTRAINT = "UNIQUE constraint failed: teams.company_id, teams.name"


async def test_an_unanswered_conflict_is_a_coded_409_that_names_no_table(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The caller gets the stored_data_conflict code and what to do; the log keeps the
    constraint (tables and columns say nothing to the caller)."""
    app = FastAPI()
    _install_error_answers(app)

    @app.post("/teams")
    async def create() -> None:
        raise IntegrityError("INSERT INTO teams ...", {}, Exception(CONSTRAINT))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.post("/teams")
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "stored_data_conflict"
    assert body["detail"] == CODES["stored_data_conflict"]
    assert "teams" not in answer.text and "UNIQUE" not in answer.text
    assert CONSTRAINT in caplog.text
