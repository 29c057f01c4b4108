"""The SUT as association-requestor (PS3.8 9.2, the R checks of the suite).

The runner listens on a free loopback port per scenario, starts the profile's trigger
command and accepts the SUT's connection. The built-in SCU profiles (``builtin-scu``,
``builtin-scu-async``, ``builtin-storescu``, ``builtin-scu-slow-user``) pass every
requestor scenario they run, and between them run the whole suite; each deliberately broken SCU of
tests/broken_requestors.py, picked with the client's ``--protocol`` option in the
trigger command of the profile it is listed under, gets exactly the verdicts its
``BREAKS`` lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import broken_requestors
import pytest

from harness import cli
from harness.profile import load_profile
from harness.reference import RequestorProtocol
from harness.reports.run import RunReport
from harness.results import Verdict
from harness.scenario import Scenario

TESTS = Path(__file__).resolve().parent
CONFORMANT = ("builtin-scu", "builtin-scu-async", "builtin-storescu", "builtin-scu-slow-user")
"""The built-in SCU profiles: the reference SCU doing what each says it does."""


def judged(report: RunReport) -> dict[str, Verdict]:
    """The verdict of every scenario the profile runs (not ``unsupported`` by it)."""
    return {r.id: r.verdict for r in report.results if r.verdict is not Verdict.UNSUPPORTED}


@pytest.mark.parametrize("name", CONFORMANT)
def test_a_builtin_scu_passes_every_requestor_scenario_it_runs(
    run_requestor_suite: Callable[..., RunReport], name: str
) -> None:
    report = run_requestor_suite(broken_requestors.builtin_scu(name))
    not_passed = {id_ for id_, verdict in judged(report).items() if verdict is not Verdict.PASSED}
    assert not_passed == set(), "\n".join(
        f"{r.id}: {r.verdict} {r.message}" for r in report.results if r.id in not_passed
    )


def test_every_requestor_scenario_is_run_by_a_builtin_scu(
    requestor_suite: list[Scenario],
) -> None:
    profiles = [load_profile(name) for name in CONFORMANT]
    unrun = {
        s.id
        for s in requestor_suite
        if all(any(p.lacks(needed) for needed in s.requires) for p in profiles)
    }
    assert unrun == set()


@pytest.mark.parametrize(
    ("name", "broken"),
    [(name, broken) for name, breaks in broken_requestors.BREAKS.items() for broken in breaks],
    ids=lambda value: value.__name__ if isinstance(value, type) else value,
)
def test_a_broken_scu_fails_exactly_the_scenarios_of_its_rule(
    run_requestor_suite: Callable[..., RunReport], name: str, broken: type[RequestorProtocol]
) -> None:
    report = run_requestor_suite(broken_requestors.builtin_scu(name, broken))
    not_passed = {id_: v for id_, v in judged(report).items() if v is not Verdict.PASSED}
    assert not_passed == broken_requestors.BREAKS[name][broken], "\n".join(
        f"{r.id}: {r.verdict} {r.message}" for r in report.results if r.id in not_passed
    )


def test_every_requestor_scenario_has_an_scu_that_breaks_it(
    requestor_suite: list[Scenario],
) -> None:
    broken = {
        s for by_class in broken_requestors.BREAKS.values() for b in by_class.values() for s in b
    }
    assert {s.id for s in requestor_suite} - broken == set()


def test_the_release_collision_gets_the_same_verdict_50_times(
    run_requestor_suite: Callable[..., RunReport], requestor_suite: list[Scenario]
) -> None:
    """AR-8/AR-9/AR-3 are provoked deterministically (PS3.8 7.2.2.7): no race decides."""
    collision = next(s for s in requestor_suite if s.id == "requestor/release/collision")
    scenarios = [replace(collision, id=f"{collision.id}-{n}") for n in range(50)]
    report = run_requestor_suite(broken_requestors.builtin_scu(), scenarios)
    assert [r.verdict for r in report.results] == [Verdict.PASSED] * 50


def test_a_trigger_that_never_connects_fails_with_a_clear_message(
    run_requestor_suite: Callable[..., RunReport], requestor_suite: list[Scenario]
) -> None:
    profile = replace(
        broken_requestors.builtin_scu(),
        trigger=("{python}", "-c", "print('not connecting')"),
        connect_timeout=0.5,
    )
    report = run_requestor_suite(profile, requestor_suite[:1])
    (result,) = report.results
    assert result.verdict is Verdict.FAILED
    assert "did not connect" in result.message
    assert "exit code 0" in result.transcript_text
    assert "not connecting" in result.transcript_text


def test_the_trigger_option_builds_a_requestor_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --trigger 'CMD {host} {port} {called_ae}'`` needs no profile (DESIGN.md)."""
    monkeypatch.chdir(tmp_path)  # the trigger's logs go under ./reports/run
    trigger = (
        "{python} -m harness.reference --host {host} --port {port}"
        " --called-ae {called_ae} --calling-ae {calling_ae}"
    )
    code = cli.main(
        [
            "run",
            str(TESTS.parent / "scenarios" / "requestor"),
            "--trigger",
            trigger,
            "--select",
            "requestor/release/*",
            "--called-ae",
            "OUR-AE",
            "--json",
            str(tmp_path / "run.json"),
        ]
    )
    assert code == 0, capsys.readouterr().out
    assert "passed" in capsys.readouterr().out
