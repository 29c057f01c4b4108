"""An interrupted run (SIGINT, SIGTERM) writes partial reports (DESIGN.md, exit code 130).

The run is a subprocess against an in-process hostile SUT whose third connection never
gets an answer: the sanity association and the first scenario finish, the second hangs
on a long ``reply`` timer. The signal comes once the SUT has seen that connection, so the
run is inside the hanging scenario.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hostile_suts import HostileSut, never_answers

from harness.cli import EXIT_INTERRUPTED

FINISHES = "acceptor/association/echo-and-release"
HANGS = "acceptor/dimse/echo-response-fields"
SUITE = Path(__file__).resolve().parent.parent / "scenarios"
TIMEOUT_SCALE = "20"
"""``reply`` becomes 100 s: the hanging scenario outlives the test unless interrupted."""
EXIT_WITHIN = 30.0
"""Seconds the run has, once signalled, to write its reports and exit."""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_keeps_finished_results_and_marks_the_running_one_error(
    signum: signal.Signals, tmp_path: Path
) -> None:
    json_path, junit_path = tmp_path / "run.json", tmp_path / "run.xml"
    command = [sys.executable, "-m", "harness", "run", "--called-ae", "HARNESS-SCP"]
    command += ["--timeout-scale", TIMEOUT_SCALE, "--json", str(json_path)]
    command += ["--junit", str(junit_path)]
    command += [str(SUITE / f"{FINISHES}.yaml"), str(SUITE / f"{HANGS}.yaml")]
    with (
        HostileSut(never_answers, honest=2) as sut,
        subprocess.Popen(
            [*command, "--target", sut.target], stderr=subprocess.PIPE, text=True
        ) as run,
    ):
        assert sut.wait_for_connection(3, timeout=60), "the run never reached the scenario"
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=EXIT_WITHIN)

    assert run.returncode == EXIT_INTERRUPTED, stderr
    document = json.loads(json_path.read_text())
    assert document["interrupted"] is True
    results = {r["id"]: r for r in document["results"]}
    assert results[FINISHES]["verdict"] == "passed"
    assert results[FINISHES]["transcript"]
    assert results[HANGS]["verdict"] == "error"
    assert results[HANGS]["message"].startswith("interrupted")
    cases = {case.get("name"): case for case in ET.parse(junit_path).getroot().iter("testcase")}
    assert cases[FINISHES].find("failure") is None
    assert cases[FINISHES].find("error") is None
    error = cases[HANGS].find("error")
    assert error is not None
    assert "interrupted" in (error.get("message") or "")
