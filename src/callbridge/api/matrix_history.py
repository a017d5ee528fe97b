"""The matrix's history as the API shows it: each version, who saved it, what it changed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.rules.matrix_diff import ChangeKind, changes

#: Versions listed below this number (the last one of the page before); none: the newest.
VersionBefore = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="List the versions older than this one")
]
#: How many versions a page lists (each compared with its predecessor).
VersionLimit = Annotated[int, Query(ge=1, le=100, description="Versions to list")]


class ChangeShown(BaseModel):
    """One change a version made to the version before it."""

    kind: ChangeKind
    rule: str = Field(description="the rule's name (or the setting's, for setting_changed)")
    action: str = Field(description="the action's type, for the action_* kinds")
    fields: list[str] = Field(description="the action's fields that changed (action_changed)")
    summary: str = Field(description="the change in one English line")


class MatrixVersion(BaseModel):
    """One stored version of the matrix: when, by whom, and what it changed."""

    version: int
    created_at: datetime
    saved_by_key_id: str | None = Field(
        description="the API key it was saved with (null: saved before authors were recorded)"
    )
    saved_by: str | None = Field(description="that key's name when it saved the version")
    changes: list[ChangeShown] = Field(
        description="what changed since the version before (version 1: since the default)"
    )


def versions_shown(rows: list[dict[str, Any]], limit: int) -> list[MatrixVersion]:
    """Return a page of versions (newest first), each with its changes from its predecessor.

    ``rows`` is :func:`callbridge.storage.matrices.history`'s page: up to ``limit`` versions and
    the one before the oldest of them, read only to compare it with; the default matrix is the
    predecessor of version 1. One diff per version shown: a page's work does not depend on how
    many versions there are.
    """
    shown = []
    for at, row in enumerate(rows[:limit]):
        before = rows[at + 1]["matrix"] if at + 1 < len(rows) else DEFAULT_MATRIX_JSON
        found = [
            {**vars(change), "fields": list(change.fields), "summary": change.summary()}
            for change in changes(before, row["matrix"])
        ]
        shown.append(
            MatrixVersion.model_validate(
                {k: v for k, v in row.items() if k != "matrix"} | {"changes": found}
            )
        )
    return shown
