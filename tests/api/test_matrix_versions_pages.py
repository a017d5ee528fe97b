"""The matrix's versions are listed a page at a time (keyset on the version number): paging gives
every version with its changes, and a page's work does not grow with the number of versions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.api import matrix_history
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.rules.matrix_diff import changes as diff
from callbridge.storage import matrices
from tests.api.api_tenant import Tenant


def _path(tenant: Tenant, tail: str) -> str:
    return f"/integrations/{tenant.company.integration_id}/{tail}"


async def _save_versions(tenant: Tenant, count: int) -> None:
    """Save ``count`` versions, each changing a task's due time (odd ones the voicemail too)."""
    for number in range(1, count + 1):
        matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
        matrix["rules"][3]["actions"][0]["due_in_minutes"] = number
        matrix["voicemail_is_missed"] = number % 2 == 0
        saved = await tenant.client.put(_path(tenant, "matrix"), json=matrix)
        assert saved.status_code == 200, saved.text


async def _page(tenant: Tenant, **query: int) -> list[dict[str, Any]]:
    answer = await tenant.client.get(_path(tenant, "matrix/versions"), params=query)
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()
    return listed


@pytest.fixture
async def seven(acme: Tenant) -> Tenant:
    """ACME with seven saved versions."""
    await _save_versions(acme, 7)
    return acme


@settings(max_examples=8)
@given(limit=st.integers(1, 9))
async def test_paging_by_the_last_version_lists_each_version_once_with_its_changes(
    seven: Tenant, limit: int
) -> None:
    whole = await _page(seven, limit=100)
    assert [v["version"] for v in whole] == [7, 6, 5, 4, 3, 2, 1]
    assert all(v["changes"] for v in whole)  # each changed its predecessor (1: the default)
    paged: list[dict[str, Any]] = []
    page = await _page(seven, limit=limit)
    while page:
        assert len(page) <= limit
        paged += page
        page = await _page(seven, limit=limit, before=page[-1]["version"])
    assert paged == whole  # the changes of a page's oldest version are from the next page's first


def _counting(
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, int]:
    """Count the rows the versions' read returns and the diffs made, from now on."""
    counts = {"rows": 0, "diffs": 0}
    read = matrices.history

    def history(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = read(*args, **kwargs)
        counts["rows"] += len(rows)
        return rows

    def changes(*args: Any) -> Any:
        counts["diffs"] += 1
        return diff(*args)

    monkeypatch.setattr(matrices, "history", history)
    monkeypatch.setattr(matrix_history, "changes", changes)
    return counts


async def test_a_page_reads_and_compares_no_more_with_more_versions(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    work: list[dict[str, int]] = []
    for total in (12, 40):
        await _save_versions(acme, total - (12 if work else 0))
        counts = _counting(monkeypatch)
        listed = await _page(acme, limit=10)
        assert [v["version"] for v in listed] == list(range(total, total - 10, -1))
        work.append(dict(counts))
        monkeypatch.undo()
    assert work[0] == work[1] == {"rows": 11, "diffs": 10}
