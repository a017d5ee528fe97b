"""Test a CRM's credentials before they are saved, then seal them."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import SecretStr

from callbridge.api.refusals import refuse
from callbridge.errors import AuthFailed, ConnectorError, Permanent
from callbridge.runtime import Runtime


async def check_and_seal(
    runtime: Runtime, integration: dict[str, Any], credentials: dict[str, SecretStr]
) -> bytes:
    """Build the connector with ``credentials``, call its check, and return them sealed.

    Refused credentials answer 422 naming ``credentials``; an unreachable CRM answers 502.
    """
    from callbridge.sync import connector_for

    plain = {key: value.get_secret_value() for key, value in credentials.items()}
    sealed = runtime.box.seal(plain)
    trial = {**integration, "credentials_encrypted": sealed}
    try:
        await connector_for(runtime, trial).check()
    except (AuthFailed, Permanent) as err:
        raise refuse(("body", "credentials"), f"the CRM refused them: {err}") from err
    except ConnectorError as err:
        raise HTTPException(
            502, f"the CRM could not be reached to test the credentials ({err}); try again"
        ) from err
    except (KeyError, ValueError, TypeError) as err:
        raise refuse(("body", "credentials"), f"incomplete or malformed: {err}") from err
    return sealed
