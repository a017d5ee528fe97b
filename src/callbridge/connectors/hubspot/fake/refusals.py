"""The fake's refusals of a well-formed request: HubSpot's 400 VALIDATION_ERROR and 409 CONFLICT."""

from __future__ import annotations

from starlette.responses import JSONResponse

from callbridge.connectors.hubspot.fake.gate import error


def invalid(message: str) -> JSONResponse:
    """Return the 400 VALIDATION_ERROR answer with ``message``."""
    return error(400, message, "VALIDATION_ERROR")


def conflict(kind: str, holder: str) -> JSONResponse:
    """Return the 409 of a create or update whose unique value another object holds.

    Shaped like HubSpot's documented duplicate-contact answer (CRM objects API): the message names
    the existing object's id [UNVERIFIED for custom unique properties].
    """
    return error(409, f"{kind} already exists. Existing ID: {holder}", "CONFLICT")
