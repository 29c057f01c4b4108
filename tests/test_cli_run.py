"""`dicom-harness run`: exit codes, reports, and reports that survive an interruption."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from broken_peers import IgnoresUnknownPduInSta2

from harness.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, main
from harness.process import free_port
from harness.reference import ReferenceConfig, ReferenceServer

ONE_SCENARIO = ["--select", "acceptor/state-table/sta2-unknown-pdu"]


@pytest.fixture
def reports(tmp_path: Path) -> dict[str, Path]:
    return {"json": tmp_path / "out" / "run.json", "junit": tmp_path / "out" / "run.xml"}


def report_args(reports: dict[str, Path]) -> list[str]:
    return ["--json", str(reports["json"]), "--junit", str(reports["junit"])]


@pytest.fixture
def broken_target() -> Iterator[str]:
    config = ReferenceConfig(artim=1.0)
    with ReferenceServer(config, IgnoresUnknownPduInSta2, keep_transcripts=False) as server:
        yield f"127.0.0.1:{server.address[1]}"


def test_a_passing_run_exits_0_and_writes_both_reports(reports: dict[str, Path]) -> None:
    code = main(["run", "--peer", "builtin", *ONE_SCENARIO, *report_args(reports)])
    assert code == EXIT_OK
    document = json.loads(reports["json"].read_text())
    assert document["summary"]["passed"] == 1
    assert [r["id"] for r in document["results"]] == [ONE_SCENARIO[1]]
    assert "<testcase" in reports["junit"].read_text()


def test_a_failed_scenario_exits_1(broken_target: str, reports: dict[str, Path]) -> None:
    args = ["--target", broken_target, "--called-ae", "HARNESS-SCP", "--timeout-scale", "0.4"]
    code = main(["run", *args, *ONE_SCENARIO, *report_args(reports)])
    assert code == EXIT_FAILED
    (result,) = json.loads(reports["json"].read_text())["results"]
    assert result["verdict"] == "failed"
    assert "Sta2, Evt19" in result["message"]


def test_an_unreachable_sut_exits_3_and_still_writes_reports(
    reports: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"127.0.0.1:{free_port()}"
    code = main(["run", "--target", target, *ONE_SCENARIO, *report_args(reports)])
    assert code == EXIT_UNREACHABLE
    assert "sanity association" in capsys.readouterr().err
    assert json.loads(reports["json"].read_text())["results"] == []


@pytest.mark.parametrize("target", ["10.0.0.1:104", "127.0.0.1:http", "localhost"])
def test_a_target_off_loopback_or_malformed_is_a_usage_error(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--target", target]) == EXIT_USAGE
    assert "--target" in capsys.readouterr().err


def test_a_broken_scenario_file_is_a_usage_error_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: acceptor/x/bad\ntitle: t\nreferences: ['PS3.8 9.3']\nrequirement: MUST\n"
        "sut_role: acceptor\nsteps:\n  - expect: A-ASSOCIATE-AC\n    within: forever\n"
    )
    assert main(["run", "--peer", "builtin", str(bad)]) == EXIT_USAGE
    assert f"{bad}:8: within:" in capsys.readouterr().err


def test_sigterm_during_a_run_writes_partial_reports_and_exits_130(
    reports: dict[str, Path],
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent_sut:
        target = f"127.0.0.1:{silent_sut.getsockname()[1]}"
        command = [sys.executable, "-m", "harness", "run", "--target", target]
        with subprocess.Popen(
            [*command, *ONE_SCENARIO, *report_args(reports)], stderr=subprocess.PIPE
        ) as run:
            silent_sut.settimeout(30)
            connection, _ = silent_sut.accept()  # the sanity association has started
            run.send_signal(signal.SIGTERM)
            _, stderr = run.communicate(timeout=30)
            connection.close()
    assert run.returncode == EXIT_INTERRUPTED, stderr
    document = json.loads(reports["json"].read_text())
    assert document["interrupted"] is True
    assert reports["junit"].exists()
