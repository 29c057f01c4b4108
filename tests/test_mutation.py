"""The mutation matrix: every scenario fails against a peer that breaks its rule.

The conformant built-in peer passes the whole acceptor suite; each deliberately broken
peer of tests/broken_*.py gets exactly the verdicts its module's ``BREAKS`` lists for it
and passes everything else.
"""

from __future__ import annotations

from collections.abc import Callable

import broken_negotiation
import broken_peers
import broken_wire
import pytest

from harness.reference import AcceptorFactory, AcceptorProtocol
from harness.reports.run import RunReport
from harness.results import Verdict
from harness.scenario import Scenario

BREAKS = {**broken_peers.BREAKS, **broken_negotiation.BREAKS, **broken_wire.BREAKS}


def verdicts(report: RunReport) -> dict[str, Verdict]:
    return {result.id: result.verdict for result in report.results}


def test_the_conformant_builtin_peer_passes_every_scenario(
    builtin_with: Callable[[AcceptorFactory], RunReport], acceptor_suite: list[Scenario]
) -> None:
    report = builtin_with(AcceptorProtocol)
    assert verdicts(report) == {s.id: Verdict.PASSED for s in acceptor_suite}


@pytest.mark.parametrize("broken", list(BREAKS), ids=lambda cls: cls.__name__)
def test_a_broken_peer_fails_exactly_the_scenarios_of_its_rule(
    builtin_with: Callable[[AcceptorFactory], RunReport], broken: type[AcceptorProtocol]
) -> None:
    report = builtin_with(broken)
    not_passed = {id_: v for id_, v in verdicts(report).items() if v is not Verdict.PASSED}
    assert not_passed == BREAKS[broken], "\n".join(
        f"{r.id}: {r.verdict} {r.message}" for r in report.results if r.id in not_passed
    )


def test_every_scenario_has_a_peer_that_breaks_it(acceptor_suite: list[Scenario]) -> None:
    broken_somewhere = {scenario_id for breaks in BREAKS.values() for scenario_id in breaks}
    assert {s.id for s in acceptor_suite} - broken_somewhere == set()


def test_must_scenarios_are_failed_not_merely_degraded(acceptor_suite: list[Scenario]) -> None:
    must = {s.id for s in acceptor_suite if s.requirement == "MUST"}
    for breaks in BREAKS.values():
        for scenario_id, verdict in breaks.items():
            if scenario_id in must and verdict is not Verdict.UNSUPPORTED:
                assert verdict is Verdict.FAILED, scenario_id
