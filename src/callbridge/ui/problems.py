"""A form's refusal in the page's language: the validation problems of the API's request models.

The API's refusals are English (``name: String should have at most 200 characters``). A form's
page shows them through ``said``: a problem of a kind listed here, or a route's own refusal by its
code (``ui/refusal_words.py``), is said in the page's language with its values (the limit, the
choices, the id); in English, and for any other problem (a connector's), it shows as the API
wrote it. A ``Problem`` is the English text itself (a ``str``), so code that joins or searches
the messages reads them as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callbridge.connectors.spec import N_
from callbridge.refusal_codes import Refusal
from callbridge.ui.refusal_words import WORDS

#: Pydantic's problem kinds the request models produce, in words with their values (``ctx``).
BY_KIND: Mapping[str, str] = {
    "missing": N_("this field is required"),
    "string_too_short": N_("at least %(min_length)s characters"),
    "string_too_long": N_("at most %(max_length)s characters"),
    "too_short": N_("at least %(min_length)s items"),
    "too_long": N_("at most %(max_length)s items"),
    "literal_error": N_("expected one of %(expected)s"),
    "enum": N_("expected one of %(expected)s"),
    "int_parsing": N_("a whole number is expected"),
    "int_type": N_("a whole number is expected"),
    "float_parsing": N_("a number is expected"),
    "bool_parsing": N_("yes or no is expected"),
    "string_type": N_("text is expected"),
    "greater_than_equal": N_("%(ge)s or more"),
    "greater_than": N_("more than %(gt)s"),
    "less_than_equal": N_("%(le)s or less"),
    "less_than": N_("less than %(lt)s"),
    "string_pattern_mismatch": N_("this value does not have the expected form (%(pattern)s)"),
    "url_parsing": N_("a web address (http or https) is expected"),
    "url_scheme": N_("the address must start with %(expected_schemes)s"),
    "extra_forbidden": N_("this field is not known here"),
}


class Problem(str):
    """One refused field, as the API said it in English, with what a translation needs."""

    where: str
    kind: str
    ctx: Mapping[str, Any]

    def __new__(cls, where: str, kind: str, message: str, ctx: Mapping[str, Any]) -> Problem:
        """Return the English text (``where: message``) carrying its field, kind and values."""
        made = super().__new__(cls, f"{where}: {message}" if where else message)
        made.where, made.kind, made.ctx = where, kind, ctx
        return made


def coded(message: Refusal, where: str = "") -> Problem:
    """Return the problem of a route's own refusal (its code and values), at ``where``."""
    return Problem(where, message.code, str(message), message.params)


def problem(error: Mapping[str, Any]) -> Problem:
    """Return the problem of one validation error (``loc``, ``msg``, ``type``, ``ctx``)."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    ctx = error.get("ctx")
    values = ctx if isinstance(ctx, dict) else {}
    return Problem(where, str(error.get("type", "")), str(error.get("msg")), values)


#: The ``field_type`` pydantic names for a ``too_long``/``too_short`` collection; any other
#: (``Value``: a constrained text such as ``web.fields.Name``) counts characters.
COLLECTIONS = frozenset({"List", "Tuple", "Set", "Frozenset", "Dict", "Generator"})


def _kind(message: Problem) -> str:
    if message.kind in ("too_long", "too_short") and message.ctx.get("field_type") not in (
        COLLECTIONS
    ):
        return f"string_{message.kind}"
    return message.kind


def _words(message: str) -> str | None:
    if isinstance(message, Refusal):
        return WORDS.get(message.code)
    if not isinstance(message, Problem):
        return None
    return BY_KIND.get(_kind(message)) or WORDS.get(message.kind)


def said(message: str, gettext: Callable[[str], str]) -> str:
    """Return ``message`` in the page's language when it is a problem of a known kind or code."""
    english = _words(message)
    if english is None:
        return message
    if isinstance(message, Refusal):
        message = coded(message)
    assert isinstance(message, Problem)
    words = gettext(english)
    if words == english:  # English (or not translated): the API's own words
        return str(message)
    try:
        text = words % {k: str(v) for k, v in message.ctx.items()}
    except (KeyError, ValueError, TypeError):  # a value the words need is missing: as written
        return str(message)
    return f"{message.where}: {text}" if message.where else text
