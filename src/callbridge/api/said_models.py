"""An English explanation's code and parameters, as the API answers them beside its text."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from callbridge.domain.said import Code, code_of, loaded


class SaidShown(BaseModel):
    """What an English reason says, as a stable code and its parameters (for translations)."""

    code: Code = Field(description="Stable: a client may say it in its own words")
    params: dict[str, str] = Field(description="The values the English text names, by name")


def said_shown(text: str | None) -> SaidShown | None:
    """Return the code and parameters of ``text``; None when it has none (free or stored text)."""
    stored = code_of(text)
    return None if stored is None else SaidShown.model_validate(stored)


def _known(stored: object) -> object:
    """Return a stored code as answered: None for none, or one this version does not know."""
    if isinstance(stored, SaidShown):
        return stored
    reason = loaded(stored)
    return None if reason is None else reason.stored()


#: A code read from the database (``call_syncs.reason_code``, ``webhook_deliveries.ignored_code``).
StoredSaid = Annotated[SaidShown | None, BeforeValidator(_known)]

#: The description of every ``*_code`` field.
CODE_FIELD = (
    "The same reason as a code and its parameters (null: it has none, e.g. stored before "
    "codes existed)"
)
