"""The comparison matrix of a run over several peers: `run --peer A --peer B` (reports.matrix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import EXIT_OK, main
from harness.profile import PEERS_DIR
from harness.reports.matrix import render_matrix
from harness.reports.run import RunReport
from harness.results import ScenarioResult, Verdict


def result(scenario: str, peer: str, verdict: Verdict) -> ScenarioResult:
    return ScenarioResult(
        id=scenario,
        title="t",
        references=["PS3.8 9.3"],
        requirement="MUST",
        sut_role="acceptor",
        verdict=verdict,
        peer=peer,
    )


def test_rows_are_scenarios_columns_are_peers_and_differences_are_marked() -> None:
    report = RunReport(sut={}, suite_version="test")
    report.results = [
        result("acceptor/b/two", "first-peer", Verdict.PASSED),
        result("acceptor/a/one", "first-peer", Verdict.NON_STRICT),
        result("acceptor/b/two", "p2", Verdict.XFAIL),
        result("acceptor/a/one", "p2", Verdict.NON_STRICT),
        result("acceptor/c/three", "p2", Verdict.FAILED),
    ]
    assert render_matrix(report).splitlines() == [
        "scenario          first-peer  p2",
        "acceptor/a/one    non-strict  non-strict",
        "acceptor/b/two    pass        xfail       *",
        "acceptor/c/three  -           FAIL        *",
    ]


def test_every_verdict_has_a_cell_and_an_empty_report_has_no_matrix() -> None:
    report = RunReport(sut={}, suite_version="test")
    assert render_matrix(report) == ""
    report.results = [result(f"acceptor/x/{v}", "solo", v) for v in Verdict]
    lines = render_matrix(report).splitlines()
    assert len(lines) == 1 + len(Verdict)
    assert {line.split()[1] for line in lines[1:]} == {
        "pass", "non-strict", "info", "unsup", "xfail", "XPASS", "FAIL", "ERROR",
    }  # fmt: skip


def test_a_run_over_two_peers_prints_the_matrix_and_keeps_one_result_per_peer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = tmp_path / "builtin-two.yaml"
    text = (PEERS_DIR / "builtin.yaml").read_text()
    second.write_text(text.replace("name: builtin\n", "name: builtin-two\n", 1))
    scenarios = ["--select", "acceptor/association/echo-and-release"]
    scenarios += ["--select", "acceptor/state-table/sta2-unknown-pdu"]
    report = tmp_path / "run.json"
    args = ["run", "--peer", "builtin", "--peer", str(second), "--jobs", "2"]
    assert main([*args, *scenarios, "--json", str(report)]) == EXIT_OK
    out = capsys.readouterr().out
    matrix = out[out.index("scenario  ") :].splitlines()
    assert matrix[0].split() == ["scenario", "builtin", "builtin-two"]
    assert [row.split() for row in matrix[1:]] == [
        ["acceptor/association/echo-and-release", "pass", "pass"],
        ["acceptor/state-table/sta2-unknown-pdu", "pass", "pass"],
    ]
    results = json.loads(report.read_text())["results"]
    assert sorted((r["id"], r["peer"]) for r in results) == [
        ("acceptor/association/echo-and-release", "builtin"),
        ("acceptor/association/echo-and-release", "builtin-two"),
        ("acceptor/state-table/sta2-unknown-pdu", "builtin"),
        ("acceptor/state-table/sta2-unknown-pdu", "builtin-two"),
    ]


def test_a_run_over_one_peer_prints_no_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    select = ["--select", "acceptor/association/echo-and-release"]
    assert main(["run", "--peer", "builtin", *select]) == EXIT_OK
    assert "scenario  " not in capsys.readouterr().out
