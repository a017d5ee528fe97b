"""One table from capability to protocol: `supports` is declared and implemented, not one alone."""

from __future__ import annotations

import inspect
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.base import PROTOCOLS, Capability, supported, supports
from callbridge.connectors.bottlecrm.connector import BottleCrmConnector
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.local.connector import LocalConnector

BUILT_IN = (LocalConnector, HubSpotConnector, BottleCrmConnector)


def _methods(protocol: type) -> set[str]:
    """Return the methods a protocol asks for."""
    return {n for n, v in vars(protocol).items() if inspect.isfunction(v) and not n.startswith("_")}


async def _method(self: object, *args: Any) -> None:
    """Stand for any connector method: only its presence matters to the capability table."""


def _connector(declared: frozenset[Capability], implemented: frozenset[Capability]) -> object:
    """Return an object declaring ``declared`` and having the methods of ``implemented``."""
    body: dict[str, Any] = {"capabilities": declared}
    for capability in implemented:
        body.update(dict.fromkeys(_methods(PROTOCOLS[capability]), _method))
    return type("Generated", (), body)()


def test_every_capability_has_a_protocol_of_its_own() -> None:
    assert set(PROTOCOLS) == set(Capability)
    methods = [_methods(protocol) for protocol in PROTOCOLS.values()]
    assert all(methods)
    assert sum(len(m) for m in methods) == len(set().union(*methods))  # no method shared


@settings(max_examples=200, deadline=None)
@given(
    declared=st.frozensets(st.sampled_from(Capability)),
    implemented=st.frozensets(st.sampled_from(Capability)),
)
def test_supports_needs_the_declaration_and_the_protocol(
    declared: frozenset[Capability], implemented: frozenset[Capability]
) -> None:
    connector = _connector(declared, implemented)
    for capability in Capability:
        expected = capability in declared and capability in implemented
        assert supports(connector, capability) is expected
    names = {c.value for c in declared & implemented}
    assert supported(connector) == names  # type: ignore[arg-type]


def test_built_in_connectors_declare_exactly_what_they_implement() -> None:
    for kind in BUILT_IN:
        connector = object.__new__(kind)  # isinstance on a protocol reads only the methods
        implemented = {c for c, protocol in PROTOCOLS.items() if isinstance(connector, protocol)}
        assert kind.capabilities == implemented, kind.__name__
    assert not supports(object.__new__(HubSpotConnector), Capability.ACTIVITY_REMOVAL)
    assert supports(object.__new__(BottleCrmConnector), Capability.RECORD_LOOKUP)
