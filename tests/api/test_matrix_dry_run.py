"""The dry run decides a past call as it stands, says which scenario and why, shows the contact
cell of a call that already created its contact, and reads the database in one transaction."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from callbridge.ingest import ingest
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, generic_event, signed
from tests.api.api_tenant import Tenant
from tests.api.test_explain_stored import _synced_call

NUMBER = "+14155550177"  # a caller no record matches


def _path(tenant: Tenant, tail: str) -> str:
    return f"/integrations/{tenant.company.integration_id}/{tail}"


def _draft() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_MATRIX_JSON)


async def _try(tenant: Tenant, call_id: str, draft: dict[str, Any]) -> dict[str, Any]:
    body = {"call_id": call_id, "matrix": draft}
    answer = await tenant.client.post(_path(tenant, "matrix/dry-run"), json=body)
    assert answer.status_code == 200, answer.text
    tried: dict[str, Any] = answer.json()
    return tried


async def test_a_call_that_created_its_contact_shows_each_matrix_cell_already_created(
    api_runtime: Runtime, acme: Tenant
) -> None:
    page = await _synced_call(api_runtime, acme, "c-created")  # incoming, new client, missed
    [sync] = page["syncs"]
    draft = _draft()
    draft["rules"][2]["actions"] = [{"type": "create_contact", "mode": "never"}]

    tried = await _try(acme, page["id"], draft)

    created = tried["saved_contact"]["already_created"]
    assert created is not None and created in {link["record_id"] for link in page["activities"]}
    assert tried["saved_contact"] == {
        "create": True,
        "source": "policy",
        "reason": tried["saved_contact"]["reason"],
        "reason_code": {"code": "policy_all", "params": {"kinds": "incoming, missed"}},
        "already_created": created,
    }
    assert tried["draft_contact"]["create"] is False
    assert tried["draft_contact"]["source"] == "override"
    assert tried["draft_contact"]["reason_code"] == {"code": "matrix_never", "params": {}}
    assert tried["draft_contact"]["already_created"] == created
    assert tried["contact_creation_differs"] is True and tried["same"] is False
    assert tried["first_scenario"] == sync["scenario"] == tried["saved"]["scenario"]
    assert "its first sync classified it so too" in tried["scenario_why"]
    scenario = sync["scenario"]
    assert tried["scenario_why_code"] == {
        "code": "same_first_same",
        "params": {"saved": scenario, "draft": scenario, "first": scenario},
    }
    unchanged = await _try(acme, page["id"], _draft())
    assert unchanged["same"] is True and unchanged["draft_contact"] == unchanged["saved_contact"]


async def _voicemail(runtime: Runtime, tenant: Tenant, call_id: str) -> str:
    """Store and sync an incoming call that went to voicemail; return its id."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    events = call_sequence(call_id, "incoming", NUMBER, answered=False, start=start)
    events.append(generic_event("call.voicemail", call_id, at=start + timedelta(seconds=30)))
    for item in events:
        body, headers = signed(tenant.company.source_secret, item)
        await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)
    listed = (await tenant.client.get("/calls")).json()["calls"]
    found: str = next(c["id"] for c in listed if c["provider_call_id"] == call_id)
    return found


async def test_a_voicemail_is_classified_as_it_stands_by_each_matrix(
    api_runtime: Runtime, acme: Tenant
) -> None:
    call_id = await _voicemail(api_runtime, acme, "c-voicemail")
    answered = _draft() | {"voicemail_is_missed": False}

    tried = await _try(acme, call_id, answered)

    first = "incoming.new.missed.none"
    assert tried["first_scenario"] == first == tried["saved"]["scenario"]
    assert tried["draft"]["scenario"] == "incoming.new.answered.none"
    assert "by the draft" in tried["scenario_why"] and tried["same"] is False
    assert tried["scenario_why_code"]["code"] == "differ_first_same"
    saved = await acme.client.put(_path(acme, "matrix"), json=answered)
    assert saved.status_code == 200
    again = await _try(acme, call_id, answered)  # the saved matrix now reads it as answered too
    assert again["saved"]["scenario"] == again["draft"]["scenario"] == "incoming.new.answered.none"
    assert again["first_scenario"] == first
    assert f"its first sync classified it as {first}" in again["scenario_why"]
    assert again["scenario_why_code"] == {
        "code": "same_first_other",
        "params": {k: again["saved"]["scenario"] for k in ("saved", "draft")} | {"first": first},
    }
    assert again["saved"]["matrix_version"] == 1 and again["same"] is True


@contextmanager
def _statements() -> Iterator[list[tuple[int, str]]]:
    """Record every statement run on any engine, numbered by the transaction it ran in."""
    seen: list[tuple[int, str]] = []
    begun: dict[int, int] = {}

    def begin(conn: Any) -> None:
        begun[id(conn.connection.dbapi_connection)] = len(begun) + len(seen) + 1

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        transaction = begun.get(id(conn.connection.dbapi_connection), 0)
        seen.append((transaction, " ".join(statement.split())))

    event.listen(Engine, "begin", begin)
    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        event.remove(Engine, "begin", begin)


async def test_the_call_and_the_matrix_are_read_in_one_transaction(
    api_runtime: Runtime, acme: Tenant
) -> None:
    page = await _synced_call(api_runtime, acme, "c-one-read")  # decided by version 0
    assert (await acme.client.put(_path(acme, "matrix"), json=_draft())).status_code == 200
    with _statements() as seen:
        await _try(acme, page["id"], _draft())
    reads = [(at, sql) for at, sql in seen if "FROM matrix_versions" in sql or "FROM calls" in sql]
    # The first run's version 0 is the default (not stored): the one in force is read, once.
    assert len([sql for _, sql in reads if "FROM matrix_versions" in sql]) == 1, reads
    assert len([sql for _, sql in reads if "FROM calls" in sql]) == 1, reads  # the call, once
    assert len({at for at, _ in reads}) == 1 and 0 not in {at for at, _ in reads}, reads
