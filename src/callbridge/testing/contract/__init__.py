"""The connector contract suites: the behaviour every CRM connector must show.

A core suite every connector runs, and one suite per optional capability, selected by what the
connector declares (as the Singer SDK builds a tap's test class from its declared features). A
connector's test module gives a ``harness`` fixture and builds its test class in two lines::

    @pytest.fixture
    async def harness(my_fake_server) -> MyHarness:
        return MyHarness(...)

    TestMyCrm = contract_test_class(MyCrmConnector.capabilities, name="TestMyCrm")

A suite whose capability is not declared is not collected (nothing is skipped at run time); the
class checks that the suites it runs are those the running connector's declaration selects, that
declared equals implemented, and that the harness has every hook those suites use
(:mod:`.harness`).
"""

from __future__ import annotations

from callbridge.testing.contract.explore import Numbers, draft
from callbridge.testing.contract.harness import ContractHarness
from callbridge.testing.contract.selection import SUITES, contract_suites, contract_test_class

__all__ = [
    "SUITES",
    "ContractHarness",
    "Numbers",
    "contract_suites",
    "contract_test_class",
    "draft",
]
