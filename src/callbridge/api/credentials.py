"""Test a CRM's credentials before they are saved, then seal them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException
from pydantic import SecretStr, ValidationError

from callbridge.errors import AuthFailed, ConnectorError, Permanent
from callbridge.refusal_codes import refusal
from callbridge.runtime import Runtime
from callbridge.web.refusals import refuse


async def check_and_seal(
    runtime: Runtime, integration: Mapping[str, Any], credentials: dict[str, SecretStr]
) -> bytes:
    """Build the connector with ``credentials``, call its check, and return them sealed.

    Refused credentials answer 422 naming ``credentials``; an unreachable CRM answers 502.
    """
    from callbridge.runtime.connectors import connector_for

    plain = {key: value.get_secret_value() for key, value in credentials.items()}
    sealed = runtime.box.seal(plain)
    trial = {**integration, "credentials_encrypted": sealed}
    try:
        await connector_for(runtime, trial).check()
    except (AuthFailed, Permanent) as err:
        raise refuse(
            ("body", "credentials"), refusal("crm_refused_credentials", reason=str(err))
        ) from err
    except ConnectorError as err:
        raise HTTPException(502, refusal("crm_unreachable_credentials", reason=str(err))) from err
    except (KeyError, ValueError, TypeError) as err:
        raise refuse(
            ("body", "credentials"), refusal("credentials_malformed", reason=str(err))
        ) from err
    return sealed


def check_config(
    runtime: Runtime, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> None:
    """Refuse settings the connector cannot be built with, when it could before (422 on config).

    Such an integration would fail every sync; one that could not be built before the change
    (no credentials yet) is not the config's fault.
    """
    problem = _unbuildable(runtime, after)
    if problem is not None and (before is None or _unbuildable(runtime, before) is None):
        refused = refusal("connector_refuses_config", connector=after["connector"], reason=problem)
        raise refuse(("body", "config"), refused)


def _unbuildable(runtime: Runtime, integration: Mapping[str, Any]) -> str | None:
    """Return why the integration's connector cannot be built, or None when it can."""
    from callbridge.runtime.connectors import connector_for

    try:
        connector_for(runtime, integration)
    except ValidationError as err:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
    except Exception as err:  # a connector may refuse its settings with any error of its own
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    return None
