"""An English explanation's code and parameters, as the API answers them beside its text."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callbridge.domain.said import Code, code_of


class SaidShown(BaseModel):
    """What an English reason says, as a stable code and its parameters (for translations)."""

    code: Code = Field(description="Stable: a client may say it in its own words")
    params: dict[str, str] = Field(description="The values the English text names, by name")


def said_shown(text: str | None) -> SaidShown | None:
    """Return the code and parameters of ``text``; None when it has none (free or stored text)."""
    stored = code_of(text)
    return None if stored is None else SaidShown.model_validate(stored)


#: The description of every ``*_code`` field.
CODE_FIELD = (
    "The same reason as a code and its parameters (null: it has none, e.g. stored before "
    "codes existed)"
)
