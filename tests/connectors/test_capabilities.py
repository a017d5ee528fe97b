"""One table from capability to protocol: `supports` is declared and implemented, not one alone.

And the contract suites a connector runs are chosen from that declaration: one per capability,
none of a capability it does not declare, and a declaration its protocols do not back fails.
"""

from __future__ import annotations

import asyncio
import inspect
import pkgutil
from importlib import import_module
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.base import PROTOCOLS, Capability, supported, supports
from callbridge.connectors.bottlecrm.connector import BottleCrmConnector
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.local.connector import LocalConnector
from callbridge.testing import contract
from callbridge.testing.contract import (
    SUITES,
    ContractHarness,
    contract_suites,
    contract_test_class,
)
from callbridge.testing.contract.core import CORE, CoreContract, declaration_errors
from callbridge.testing.contract.selection import SelectionContract, suites_of

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


def _tests(suite: type) -> set[str]:
    """Return the test methods a suite defines itself (not those it inherits)."""
    return {name for name in vars(suite) if name.startswith("test_")}


DECLARATIONS = st.frozensets(st.sampled_from(Capability))


def test_every_capability_has_a_protocol_of_its_own() -> None:
    assert set(PROTOCOLS) == set(Capability)
    methods = [_methods(protocol) for protocol in PROTOCOLS.values()]
    assert all(methods)
    assert sum(len(m) for m in methods) == len(set().union(*methods))  # no method shared


@settings(max_examples=200)
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


@settings(max_examples=100)
@given(st.lists(DECLARATIONS, min_size=2, max_size=5), st.frozensets(st.sampled_from(Capability)))
def test_supports_follows_each_instance_where_methods_are_set_on_instances(
    per_instance: list[frozenset[Capability]], on_class: frozenset[Capability]
) -> None:
    """A class's answer is remembered only when the class has the methods, never per instance."""
    body: dict[str, Any] = {"capabilities": frozenset(Capability)}
    for capability in on_class:
        body.update(dict.fromkeys(_methods(PROTOCOLS[capability]), _method))
    kind = type("Generated", (SimpleNamespace,), body)
    for implemented in per_instance:  # one class, instances with methods of their own
        methods = set().union(*(_methods(PROTOCOLS[c]) for c in implemented))
        connector = kind(**dict.fromkeys(methods, _method))
        for capability in Capability:
            expected = capability in on_class or capability in implemented
            assert supports(connector, capability) is expected, (capability, implemented)


def test_built_in_connectors_declare_exactly_what_they_implement() -> None:
    for kind in BUILT_IN:
        connector = object.__new__(kind)  # isinstance on a protocol reads only the methods
        implemented = {c for c, protocol in PROTOCOLS.items() if isinstance(connector, protocol)}
        assert kind.capabilities == implemented, kind.__name__
    assert not supports(object.__new__(HubSpotConnector), Capability.ACTIVITY_REMOVAL)
    assert supports(object.__new__(BottleCrmConnector), Capability.RECORD_LOOKUP)


def test_every_capability_is_tested_by_the_core_or_a_suite_of_its_own() -> None:
    optional = [suite.requires for suite in SUITES if suite.requires]
    assert CORE | set().union(*optional) == set(Capability)
    assert not CORE & set().union(*optional)  # the core suite runs whatever is declared
    names = [name for suite in (*SUITES, SelectionContract) for name in _tests(suite)]
    assert len(names) == len(set(names))  # no test hides another of the same name


@settings(max_examples=100)
@given(declared=DECLARATIONS)
def test_a_connector_runs_the_suites_of_what_it_declares_and_no_other(
    declared: frozenset[Capability],
) -> None:
    test_class = contract_test_class(declared)
    selected = suites_of(test_class)
    assert selected == contract_suites(declared)
    assert CoreContract in selected
    covered = set().union(*(suite.requires for suite in selected))
    assert covered == declared - CORE  # every optional capability declared, and only those
    expected = set().union(*map(_tests, selected)) | _tests(SelectionContract)
    assert {name for name in dir(test_class) if name.startswith("test_")} == expected


def test_no_suite_skips_at_run_time() -> None:
    """A capability not declared leaves its suite uncollected; nothing asks whether to skip."""
    for module in pkgutil.iter_modules(contract.__path__, f"{contract.__name__}."):
        source = inspect.getsource(import_module(module.name))
        assert ".skip" not in source and "skipif" not in source, module.name


@settings(max_examples=100)
@given(declared=DECLARATIONS, implemented=DECLARATIONS)
def test_a_declaration_its_protocols_do_not_back_fails_the_core_suite(
    declared: frozenset[Capability], implemented: frozenset[Capability]
) -> None:
    connector = _connector(declared, implemented)
    harness = cast(ContractHarness, SimpleNamespace(connector=connector))
    check = CoreContract().test_declares_exactly_the_capabilities_it_implements
    if declared == implemented and declared >= CORE:
        asyncio.run(check(harness))
        assert declaration_errors(connector) == []
    else:
        with pytest.raises(AssertionError):
            asyncio.run(check(harness))
        wrong = (declared ^ implemented) | (CORE - declared)
        named = {error.split()[0] for error in declaration_errors(connector)}
        assert named == {str(capability) for capability in wrong}  # each wrong one, by name
