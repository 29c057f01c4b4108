"""The ``trigger`` step and ``expect: sut-exited`` (requestor SUT, PS3.8 9.2).

A requestor scenario with ``trigger`` steps is not triggered before its steps: each
``trigger`` starts the profile's trigger command afresh and accepts the new connection,
and the transcript goes on. ``expect: sut-exited`` waits for the command to end and
judges its exit code; how each command ended is recorded in the transcript once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.profile import Profile, load_profile
from harness.reports.run import RunReport
from harness.results import ScenarioResult, Verdict
from harness.scenario import Scenario, Trigger, load_scenario, parse_scenario
from harness.yamlsrc import SourceError, load_text

RunSuite = Callable[..., RunReport]

# Metadata on lines 1-5, ``steps:`` on line 6: the first step starts on line 7.
HEAD = """\
id: {role}/test/probe
title: A probe scenario
references: ["PS3.8 9.2"]
requirement: MUST
sut_role: {role}
steps:
"""

ECHO_AND_RELEASE: list[dict[str, Any]] = [
    {"accept": {}},
    {"expect": "C-ECHO-RQ"},
    {"send": "C-ECHO-RSP"},
    {"expect": "A-RELEASE-RQ"},
    {"send": "A-RELEASE-RP"},
    {"expect": "transport-closed"},
]
REJECTED: list[dict[str, Any]] = [
    {"expect": "A-ASSOCIATE-RQ"},
    {"send": "A-ASSOCIATE-RJ", "set": {"result": 1, "source": 1, "reason": 1}},
    {"expect": "transport-closed"},
]


def requestor_scenario(steps: list[dict[str, Any]]) -> Scenario:
    """A requestor scenario whose steps are on lines 7, 8, 9... (one JSON line each)."""
    lines = "".join(f"  - {json.dumps(step)}\n" for step in steps)
    return parse_scenario(load_text(HEAD.format(role="requestor") + lines, "<test>"), "<test>")


def builtin_scu(*trigger: str) -> Profile:
    """builtin-scu replying within 2 s, its trigger command replaced if one is given."""
    profile = load_profile("builtin-scu")
    profile = replace(profile, timers={**profile.timers, "reply": 2.0})
    return replace(profile, trigger=trigger) if trigger else profile


def run_one(run_requestor_suite: RunSuite, profile: Profile, steps: list[Any]) -> ScenarioResult:
    (result,) = run_requestor_suite(profile, [requestor_scenario(steps)]).results
    return result


def labels(result: ScenarioResult) -> list[str]:
    return [entry["label"] for entry in result.transcript]


def sut_outputs(result: ScenarioResult) -> list[str]:
    return [e["note"] for e in result.transcript if e["label"] == "sut-output"]


# -- running -------------------------------------------------------------------------------


def test_two_trigger_steps_make_two_associations_in_one_transcript(
    run_requestor_suite: RunSuite,
) -> None:
    result = run_one(run_requestor_suite, builtin_scu(), [{"trigger": {}}, *ECHO_AND_RELEASE] * 2)

    assert result.verdict is Verdict.PASSED, result.message
    assert labels(result).count("accepted") == 2
    assert [note.splitlines()[0] for note in sut_outputs(result)] == ["exit code 0"] * 2
    assert result.cells.count(("Sta4", "Evt2", "AE-2")) == 2


def test_a_trigger_step_closes_the_open_connection_and_records_the_command_first(
    run_requestor_suite: RunSuite,
) -> None:
    """The first SCU waits for its C-ECHO-RSP when we close (Evt17 in its Sta6): it fails
    (exit 1) before the second one is started."""
    steps = [
        {"trigger": {}},
        {"accept": {}},
        {"expect": "C-ECHO-RQ"},
        {"trigger": {}},
        *ECHO_AND_RELEASE,
    ]

    result = run_one(run_requestor_suite, builtin_scu(), steps)

    assert result.verdict is Verdict.PASSED, result.message
    events = labels(result)
    first_output = events.index("sut-output")
    assert events.index("closed-by-harness") < first_output < events.index("accepted", 1)
    assert [note.splitlines()[0] for note in sut_outputs(result)] == [
        "exit code 1",
        "exit code 0",
    ]


def test_a_scenario_with_trigger_steps_is_not_triggered_before_them(
    run_requestor_suite: RunSuite,
) -> None:
    result = run_one(run_requestor_suite, builtin_scu(), [{"trigger": {}}, *ECHO_AND_RELEASE])

    assert result.verdict is Verdict.PASSED, result.message
    assert labels(result).count("accepted") == 1
    assert len(sut_outputs(result)) == 1


def test_a_trigger_step_that_gets_no_connection_fails_naming_its_line(
    run_requestor_suite: RunSuite,
) -> None:
    profile = replace(builtin_scu("{python}", "-c", "print('not connecting')"), connect_timeout=0.5)

    result = run_one(run_requestor_suite, profile, [{"trigger": {}}, *ECHO_AND_RELEASE])

    assert result.verdict is Verdict.FAILED
    assert result.message.startswith("line 7: the SUT did not connect to 127.0.0.1:")
    (output,) = sut_outputs(result)
    assert output.startswith("exit code 0\n")
    assert "not connecting" in output


def test_sut_exited_passes_when_the_scu_ends_after_a_rejection(
    run_requestor_suite: RunSuite,
) -> None:
    """After an A-ASSOCIATE-RJ (AE-4, Sta1) the SUT must not hang; the built-in SCU
    reports the rejection with exit code 1."""
    steps = [*REJECTED, {"expect": "sut-exited", "where": {"exit_code": "nonzero"}}]

    result = run_one(run_requestor_suite, builtin_scu(), steps)

    assert result.verdict is Verdict.PASSED, result.message
    (output,) = sut_outputs(result)  # recorded once: the runner does not wait again
    assert output.startswith("exit code 1\n")
    assert labels(result)[-1] == "sut-output"


def test_sut_exited_judges_the_exit_code(run_requestor_suite: RunSuite) -> None:
    steps = [*REJECTED, {"expect": "sut-exited", "where": {"exit_code": 0}}]

    result = run_one(run_requestor_suite, builtin_scu(), steps)

    assert result.verdict is Verdict.FAILED
    assert result.message == "line 10: expected sut-exited (exit_code=0), got exit code 1"


def test_sut_exited_accepts_a_list_of_codes(run_requestor_suite: RunSuite) -> None:
    steps = [
        {"trigger": {}},
        *ECHO_AND_RELEASE,
        {"expect": "sut-exited", "where": {"exit_code": [0, 2]}},
    ]

    result = run_one(run_requestor_suite, builtin_scu(), steps)

    assert result.verdict is Verdict.PASSED, result.message


def test_sut_exited_fails_against_an_scu_that_hangs_and_the_runner_stops_it(
    run_requestor_suite: RunSuite,
) -> None:
    hangs = (
        "import socket, sys, time; socket.create_connection(('127.0.0.1', int(sys.argv[1])));"
        " time.sleep(30)"
    )
    profile = builtin_scu("{python}", "-c", hangs, "{port}")
    started = time.monotonic()

    result = run_one(
        run_requestor_suite, profile, [{"trigger": {}}, {"expect": "sut-exited", "within": 1}]
    )

    assert time.monotonic() - started < 10
    assert result.verdict is Verdict.FAILED
    assert result.message == "line 8: the SUT's requestor command was still running after 1 s"
    (output,) = sut_outputs(result)
    assert output.startswith("still running after 1 s")


# -- loading -------------------------------------------------------------------------------


def write(tmp_path: Path, role: str, *lines: str) -> Path:
    """A scenario whose first step line is line 7."""
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD.format(role=role) + "".join(f"{line}\n" for line in lines))
    return path


def refused(path: Path) -> tuple[int, str, str]:
    with pytest.raises(SourceError) as caught:
        load_scenario(path)
    return caught.value.line, caught.value.field, str(caught.value)


def test_a_trigger_step_loads_with_its_line(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(tmp_path, "requestor", "  - trigger: {}", "  - accept: {}", "  - trigger: {}")
    )

    assert scenario.triggers
    assert (scenario.steps[0], scenario.steps[2]) == (Trigger(line=7), Trigger(line=9))


def test_a_trigger_step_in_an_acceptor_scenario_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "acceptor", "  - associate: {}", "  - trigger: {}")

    line, field, text = refused(path)

    assert (line, field) == (8, "trigger")
    assert text.startswith(f"{path}:8: trigger: a trigger step needs a requestor SUT")


def test_sut_exited_in_an_acceptor_scenario_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "acceptor", "  - associate: {}", "  - expect: sut-exited")

    assert refused(path)[:2] == (8, "expect")


def test_a_scenario_with_trigger_steps_must_start_with_one(tmp_path: Path) -> None:
    path = write(tmp_path, "requestor", "  - accept: {}", "  - trigger: {}")

    line, field, text = refused(path)

    assert (line, field) == (7, "steps[0]")
    assert "starts with one" in text


def test_a_repeat_may_start_with_the_trigger(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(
            tmp_path,
            "requestor",
            "  - repeat:",
            "      times: 2",
            "      steps: [{trigger: {}}, {accept: {}}]",
        )
    )

    assert scenario.triggers


def test_an_exit_code_that_is_no_number_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, "requestor", "  - expect: sut-exited", "    where: {exit_code: sometimes}"
    )

    line, field, text = refused(path)

    assert (line, field) == (8, "where.exit_code")
    assert "'sometimes' is not an exit code (a number, or nonzero)" in text


def test_sut_exited_is_no_alternative_of_any_of(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "requestor",
        "  - any_of:",
        "      - expect: sut-exited",
        "      - expect: transport-closed",
    )

    line, field, _ = refused(path)

    assert (line, field) == (8, "steps[0].any_of[0].expect")
