"""Build an integration's connector with the process's HTTP client, sessions and secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callbridge.connectors.base import Connector, IntegrationContext
from callbridge.connectors.registry import factory
from callbridge.rules import agent_choice
from callbridge.runtime import Runtime


def connector_for(runtime: Runtime, integration: Mapping[str, Any]) -> Connector:
    """Build the connector of an integration with its decrypted credentials.

    A stored ``IntegrationRow``, or the API's unsaved trial of one (settings being checked).
    """
    sealed = integration["credentials_encrypted"]
    credentials = runtime.box.open(sealed) if sealed else {}
    assert isinstance(credentials, dict)
    context = IntegrationContext(
        integration_id=integration["id"],
        company_id=integration["company_id"],
        default_region=integration["default_region"],
        config=agent_choice.connector_config(integration["config"] or {}),
        credentials=credentials,
        http=runtime.http,
        sessions=runtime.sessions,
        clock=runtime.clock,
        read_sessions=runtime.reads,
    )
    return factory(integration["connector"])(context)
