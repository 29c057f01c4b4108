"""The mutation matrix: every scenario fails against a peer that breaks its rule.

The conformant built-in peer passes the whole acceptor suite (the scenarios that need its
user to hold its answers with the settings of peers/builtin-slow-user.yaml, the others
with those of peers/builtin.yaml); each deliberately broken peer of tests/broken_*.py gets
exactly the verdicts its module's ``BREAKS`` lists for it and passes everything else.
"""

from __future__ import annotations

from collections.abc import Callable

import broken_negotiation
import broken_peers
import broken_wire
import pytest
from conftest import builtin_profile_for

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


def profiles_breaking(broken: type[AcceptorProtocol], suite: list[Scenario]) -> set[str]:
    """The built-in profiles under which ``broken`` fails a scenario: peers/builtin.yaml
    always runs; peers/builtin-slow-user.yaml, whose user holds every answer for a
    second, only for a peer that breaks one of its scenarios."""
    return {"builtin"} | {builtin_profile_for(s) for s in suite if s.id in BREAKS[broken]}


@pytest.mark.parametrize("broken", list(BREAKS), ids=lambda cls: cls.__name__)
def test_a_broken_peer_fails_exactly_the_scenarios_of_its_rule(
    builtin_with: Callable[..., RunReport],
    broken: type[AcceptorProtocol],
    acceptor_suite: list[Scenario],
) -> None:
    report = builtin_with(broken, sorted(profiles_breaking(broken, acceptor_suite)))
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
