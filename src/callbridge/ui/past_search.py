"""Which past calls the matrix's dry run offers: a number's start and a page, as asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callbridge.ui.calls import NUMBER_CHARS
from callbridge.web.fields import PHONE_LENGTH


@dataclass(frozen=True)
class PastSearch:
    """Which past calls the dry run offers: a number's start, and the page (keyset cursors)."""

    number: str | None = None
    after: str | None = None
    before: str | None = None

    @classmethod
    def read(cls, values: Any, prefix: str = "") -> PastSearch:
        """Read a search from a URL's query or a posted form (its fields named ``prefix…``)."""

        def text(name: str) -> str | None:
            value = values.get(prefix + name)
            return (value[:200] or None) if isinstance(value, str) else None

        typed = text("number")
        number = (NUMBER_CHARS.sub("", typed)[:PHONE_LENGTH] or None) if typed else None
        return cls(number, text("after"), text("before"))

    @classmethod
    def asked(cls, form: Any) -> PastSearch:
        """Read what a posted draft's button asks: a new search, a page, or the same calls."""
        kept = cls.read(form, "past-")
        if form.get("do") == "search":
            return cls.read(form)
        if form.get("past-page-after") or form.get("past-page-before"):
            paged = cls.read(form, "past-page-")
            return cls(kept.number, paged.after, paged.before)
        return kept
