"""docs/phone-numbers.md tells the truth: every row of its table of accepted formats holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callbridge.domain.phone import PhoneNumber, normalize

PAGE = Path(__file__).resolve().parents[2] / "docs" / "phone-numbers.md"
TICKED = re.compile(r"`([^`]+)`")
# "any" in the region column: the number reads the same from each of these.
ANY = ("FR", "US", "DE", "GB", "UA", "IT", "JP", "BR")


def _examples(cell: str) -> list[str]:
    """Return the backticked examples of a cell, not those inside a remark in brackets."""
    found, depth, ticked, current = [], 0, False, ""
    for char in cell:
        if char == "`":
            if ticked and depth == 0:
                found.append(current)
            ticked, current = not ticked, ""
        elif ticked:
            current += char
        elif char in "()":
            depth += 1 if char == "(" else -1
    return found


def _rows() -> list[tuple[str, str, str]]:
    """Return (written as, region, E.164) for each example the accepted-formats table gives."""
    text = PAGE.read_text().split("## Accepted formats", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[2] or cells[0] in ("written as", "---"):
            continue
        written = _examples(cells[0])
        regions = TICKED.findall(cells[1]) or list(ANY)
        expected = TICKED.findall(cells[2])
        only = re.search(r"in `([A-Z]{2})`", cells[2])
        for raw in written:
            for region in [only[1]] if only else regions:
                rows.append((raw, region, expected[0]))
    return rows


def test_the_table_has_examples() -> None:
    assert len(_rows()) > 30


@pytest.mark.parametrize(("raw", "region", "e164"), _rows())
def test_each_documented_example_holds(raw: str, region: str, e164: str) -> None:
    result = normalize(raw, region)
    assert isinstance(result, PhoneNumber), result
    assert result.e164 == e164
