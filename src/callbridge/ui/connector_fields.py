"""A connector's own settings and credentials as form fields, read from the models its spec names.

A ``SecretStr`` field is a password field, never filled in from what is stored; a ``bool`` a
checkbox; an ``int`` or ``float`` a number; a ``Literal`` a list; anything else a text field.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from starlette.datastructures import FormData

from callbridge.connectors.registry import specs

Kind = Literal["text", "password", "number", "checkbox", "select"]
#: The prefixes of the form fields: a credential's, a setting's.
CREDENTIAL, SETTING = "credential.", "setting."


@dataclass(frozen=True)
class Field:
    """One field of a form: its key in the model, how it is typed, and what it means."""

    key: str
    kind: Kind
    required: bool
    hint: str | None
    choices: tuple[str, ...] = ()
    default: str | bool = ""


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    """Return how a field of this type is typed in, and its choices if it is a ``Literal``."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [a for a in get_args(annotation) if a is not type(None)]
        annotation = kept[0] if len(kept) == 1 else str
    if get_origin(annotation) is Literal:
        return "select", tuple(str(a) for a in get_args(annotation))
    if annotation is SecretStr:
        return "password", ()
    if annotation is bool:
        return "checkbox", ()
    if annotation in (int, float):
        return "number", ()
    return "text", ()


def _field(key: str, info: FieldInfo) -> Field:
    kind, choices = _kind(info.annotation)
    default = info.get_default(call_default_factory=True)
    shown: str | bool = (
        default if isinstance(default, bool) else ("" if default is None else str(default))
    )
    return Field(key, kind, info.is_required(), info.description, choices, shown)


def fields_of(model: type[BaseModel] | None) -> list[Field]:
    """Return the fields of a connector's settings or credentials model (none without one)."""
    return [] if model is None else [_field(k, i) for k, i in model.model_fields.items()]


def credential_fields(connector: str) -> list[Field]:
    """Return the credentials ``connector`` declares, as form fields."""
    spec = specs().get(connector)
    return fields_of(spec.credentials if spec else None)


def setting_fields(connector: str) -> list[Field]:
    """Return the settings ``connector`` declares, as form fields."""
    spec = specs().get(connector)
    return fields_of(spec.settings if spec else None)


def every_connector() -> dict[str, dict[str, list[Field]]]:
    """Return each installed connector's credentials and settings, for the form connecting one."""
    return {
        key: {"credentials": credential_fields(key), "settings": setting_fields(key)}
        for key in sorted(specs())
    }


def credentials_from(form: FormData, connector: str) -> dict[str, str]:
    """Return the credentials typed for ``connector`` (empty fields left out)."""
    typed = {
        f.key: form.get(CREDENTIAL + connector + "." + f.key) for f in credential_fields(connector)
    }
    return {key: value for key, value in typed.items() if isinstance(value, str) and value.strip()}


def number(typed: str) -> float | str:
    """Return a typed number as a number; anything else as typed, for the API's model to refuse."""
    try:
        value = float(typed)
    except ValueError:
        return typed
    return int(value) if value.is_integer() else value


def settings_from(form: FormData, connector: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``stored`` config with the settings of ``connector`` typed in the form applied.

    An emptied field goes back to its default (its key is removed); an unticked box is false.
    """
    config = dict(stored)
    for field in setting_fields(connector):
        name = SETTING + connector + "." + field.key
        if field.kind == "checkbox":
            config[field.key] = name in form
            continue
        value = form.get(name)
        text = value.strip() if isinstance(value, str) else ""
        if text:
            config[field.key] = number(text) if field.kind == "number" else text
        else:
            config.pop(field.key, None)
    return config


def shown_settings(connector: str, config: Mapping[str, Any]) -> dict[str, str | bool]:
    """Return the value each setting field shows: the stored one, else its default."""
    shown: dict[str, str | bool] = {}
    for field in setting_fields(connector):
        value = config.get(field.key, field.default)
        shown[field.key] = (
            value if isinstance(value, bool) else ("" if value is None else str(value))
        )
    return shown
