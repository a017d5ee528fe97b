"""A faithful HubSpot CRM fake: v3 objects and search, v4 associations, owners, OAuth, limits.

It follows HubSpot's public API documentation (summed up in ``docs/connectors/hubspot.md``):
documented paths and status codes, property values as strings, unknown properties refused
(PROPERTY_DOESNT_EXIST), phone search on the national digits of ``hs_searchable_calculated_*``,
the calculated ``num_associated_deals``, filter-group limits,
paging, bearer auth and HubSpot's 429 body with its ``policyName``; properties defined with
``hasUniqueValue`` (a duplicate value answers 409 with the existing id, ``idProperty`` reads). Two
faults real HubSpot shows are scriptable: a search index that lags behind writes
(``search_delay`` seconds on an injectable clock) and a create that is stored but whose answer is
lost (:meth:`HubSpotState.fail_after_commit`: 502 or a timeout). Run it in a thread with
:class:`FakeHubSpot`, or alone with :func:`serve` (``callbridge fake-crm hubspot``). Tests script it
through its :class:`HubSpotState`.
"""

from __future__ import annotations

from callbridge.connectors.hubspot.fake.server import FakeHubSpot, build_app, serve
from callbridge.connectors.hubspot.fake.state import CommitFault, HubSpotState, ManualClock
from callbridge.loopback import free_port

__all__ = [
    "CommitFault",
    "FakeHubSpot",
    "HubSpotState",
    "ManualClock",
    "build_app",
    "free_port",
    "serve",
]
