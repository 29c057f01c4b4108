"""`dicom-harness fuzz`: strategies, the stateful fuzzer against the built-in peers, a
planted defect found and replayed as a scenario, and the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from broken_fuzz import HangsOnUnknownPduInSta6
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import fuzz_strategies as moves
from harness import pdu
from harness.cli import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    main,
)
from harness.fsm import Event, received_event
from harness.fuzz import FuzzMachine, FuzzOptions, FuzzReport, FuzzSession, OracleError, run_fuzz
from harness.process import LOOPBACK, free_port
from harness.profile import Address, load_profile
from harness.reference import (
    AcceptorFactory,
    AcceptorProtocol,
    ReferenceConfig,
    ReferenceServer,
    config_from_mapping,
)
from harness.scenario import Raw, Send, Step, load_scenario, parse_steps
from harness.stimuli import build_pdus, mutate, stand_in_context

BUILTIN = load_profile("builtin")
#: Mutation families whose bytes our decoder must refuse (the others are valid PDUs with
#: deviant values, or an unknown PDU type).
INVALID_FAMILIES = st.one_of(
    moves.wrong_lengths(),
    moves.truncations(),
    moves.garbage_after(),
    moves.item_length_lies(),
    moves.bad_pdvs(),
)
PROPERTY = settings(max_examples=300, database=None, suppress_health_check=list(HealthCheck))


def one_step(step: moves.Step, role: str) -> Step:
    (parsed,) = parse_steps([step], role, "<property>")
    return parsed


def wire_bytes(step: Step) -> bytes:
    if isinstance(step, Raw):
        return step.data
    assert isinstance(step, Send)
    return b"".join(mutate(data, step) for data in build_pdus(step, stand_in_context()))


# -- strategies ----------------------------------------------------------------------------


@PROPERTY
@given(
    st.one_of(moves.pdu_moves(), moves.pdu_moves(include_ac=False)),
    st.sampled_from(("acceptor", "requestor")),
)
def test_every_generated_move_is_a_step_the_scenario_loader_accepts(
    move: moves.Move, role: str
) -> None:
    one_step(move.step, role)


@PROPERTY
@given(INVALID_FAMILIES)
def test_mutated_pdus_are_refused_by_our_decoder_at_a_byte_offset(move: moves.Move) -> None:
    data = wire_bytes(one_step(move.step, "acceptor"))
    with pytest.raises(pdu.PDUDecodeError) as refused:
        pdu.check_one(data)
    assert 0 <= refused.value.offset <= len(data)
    assert move.hostile


@PROPERTY
@given(moves.unknown_pdus())
def test_unknown_pdu_types_are_invalid_pdus_for_the_state_table(move: moves.Move) -> None:
    data = wire_bytes(one_step(move.step, "acceptor"))
    assert received_event(data[0]) is Event.EVT19


# -- the fuzzer against the built-in peers -------------------------------------------------


def fuzz(profile_name: str | Path, tmp_path: Path, **options: object) -> FuzzReport:
    profile = load_profile(str(profile_name))
    report = FuzzReport(sut={}, seed=int(str(options.pop("seed", 1))))
    run_fuzz(profile, FuzzOptions(out=tmp_path / "fuzz", **options), report)  # type: ignore[arg-type]
    return report


def test_2000_examples_against_the_builtin_peer_find_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    report = fuzz("builtin", tmp_path, max_examples=2000, seed=20261126)
    elapsed = time.monotonic() - started
    print(f"2000 examples: {report.examples} run, {report.hostile_cases} hostile, {elapsed:.1f} s")
    assert report.findings == []
    assert report.examples >= 2000
    assert report.hostile_cases > 500
    assert report.coverage["cells_exercised"] >= 25


@contextmanager
def acceptor_profile(tmp_path: Path, name: str, factory: AcceptorFactory) -> Iterator[Path]:
    """A running built-in SCP made by ``factory`` and a profile file naming its port, with
    a 0.5 s reply timer (a hang costs little)."""
    config = config_from_mapping(BUILTIN.ae_title, BUILTIN.builtin or {})
    with ReferenceServer(config, factory, keep_transcripts=False) as server:
        document = {
            "name": name,
            "sut_role": "acceptor",
            "ae_title": BUILTIN.ae_title,
            "port": server.address[1],
            "presentation_contexts": [
                {
                    "id": 1,
                    "abstract_syntax": "1.2.840.10008.1.1",
                    "transfer_syntaxes": ["1.2.840.10008.1.2"],
                }
            ],
            "timers": {"reply": 0.5, "artim": 2, "silence": 0.2},
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(document))
        yield path


def test_a_planted_hang_is_found_within_500_examples_and_replays_as_a_scenario(
    tmp_path: Path,
) -> None:
    out, report_file = tmp_path / "findings", tmp_path / "fuzz.json"
    with acceptor_profile(tmp_path, "hangs", HangsOnUnknownPduInSta6) as broken:
        args = ["--peer", str(broken), "--max-examples", "500", "--seed", "7", "--out", str(out)]
        assert main(["fuzz", *args, "--json", str(report_file)]) == EXIT_FAILED
        report = json.loads(report_file.read_text())
        (finding,) = report["findings"]
        assert finding["kind"] == "state-table"
        assert "(Sta6, Evt19)" in finding["message"]
        assert report["examples"] <= 500 + 200  # found while generating, then shrunk
        scenario = load_scenario(finding["scenario"])
        assert scenario.id.startswith("acceptor/fuzz/")
        assert Path(finding["scenario"]).read_text().startswith("# Found by dicom-harness fuzz")
        assert main(["run", "--peer", str(broken), finding["scenario"]]) == EXIT_FAILED
    with acceptor_profile(tmp_path, "clean", AcceptorProtocol) as clean:
        assert main(["run", "--peer", str(clean), finding["scenario"]]) == EXIT_OK


def busy_answers(*answers: bool) -> AcceptorFactory:
    """A built-in SCP whose n-th connection is told the association limit is reached as
    ``answers`` says (then as its server says): it answers an RQ with A-ASSOCIATE-RJ
    2/3/2, rejected-transient, local limit exceeded (PS3.8 Table 9-21)."""
    told = iter(answers)

    def factory(config: ReferenceConfig, *, busy: bool) -> AcceptorProtocol:
        return AcceptorProtocol(config, busy=next(told, busy))

    return factory


@pytest.mark.parametrize(
    ("answers", "alive"),
    [((False, True), True), ((False, *[True] * 50), False)],
    ids=["busy-once", "busy-for-good"],
)
def test_liveness_asks_again_after_a_transient_reject_until_reply_runs_out(
    tmp_path: Path, answers: tuple[bool, ...], alive: bool
) -> None:
    with acceptor_profile(tmp_path, "busy", busy_answers(*answers)) as path:
        profile = load_profile(str(path))
        assert profile.port is not None
        FuzzMachine.session = FuzzSession(
            profile,
            Address(LOOPBACK, profile.port),
            FuzzOptions(out=tmp_path / "fuzz"),
            FuzzReport(sut={}, seed=1),
            on_example=None,
            stop=None,
        )
        example = FuzzMachine()  # its connection is the first; liveness opens the next
        if alive:
            example.teardown()
            assert not example.failed
        else:
            with pytest.raises(OracleError, match="A-ASSOCIATE-RJ"):
                example.teardown()


def test_a_short_fuzz_of_the_builtin_scu_finds_nothing(tmp_path: Path) -> None:
    report = fuzz("builtin-scu", tmp_path, max_examples=20, seed=3, steps=4)
    assert report.findings == []
    assert report.examples >= 20
    assert report.hostile_cases > 0


# -- the command line ----------------------------------------------------------------------


def test_fuzz_without_finding_exits_0_with_a_json_report(tmp_path: Path) -> None:
    report_file = tmp_path / "fuzz.json"
    args = [
        "--max-examples",
        "30",
        "--seed",
        "1",
        "--out",
        str(tmp_path),
        "--json",
        str(report_file),
    ]
    assert main(["fuzz", "--peer", "builtin", *args]) == EXIT_OK
    report = json.loads(report_file.read_text())
    assert report["seed"] == 1
    assert report["findings"] == []
    assert report["examples"] >= 30
    assert report["coverage"]["cells_exercised"] > 0
    assert report["sut"]["name"] == "builtin"


def test_the_deadline_stops_the_run_in_time(tmp_path: Path) -> None:
    report_file = tmp_path / "fuzz.json"
    args = ["--max-examples", "100000", "--deadline", "2", "--json", str(report_file)]
    started = time.monotonic()
    assert main(["fuzz", "--peer", "builtin", *args, "--out", str(tmp_path)]) == EXIT_OK
    assert time.monotonic() - started < 8
    report = json.loads(report_file.read_text())
    assert report["stopped"] == "deadline"
    assert 0 < report["examples"] < 100000


def test_coverage_below_the_minimum_exits_1(tmp_path: Path) -> None:
    args = ["--max-examples", "5", "--seed", "1", "--out", str(tmp_path), "--coverage-min", "200"]
    assert main(["fuzz", "--peer", "builtin", *args]) == EXIT_FAILED


def test_usage_errors_exit_2() -> None:
    assert main(["fuzz", "--peer", "builtin", "--max-examples", "0"]) == EXIT_USAGE


def test_an_unreachable_sut_exits_3(tmp_path: Path) -> None:
    target = f"127.0.0.1:{free_port()}"
    assert main(["fuzz", "--target", target, "--out", str(tmp_path)]) == EXIT_UNREACHABLE


def test_sigterm_writes_the_report_marked_interrupted(tmp_path: Path) -> None:
    report_file = tmp_path / "fuzz.json"
    command = [sys.executable, "-m", "harness", "fuzz", "--peer", "builtin"]
    args = ["--max-examples", "100000", "--json", str(report_file), "--out", str(tmp_path)]
    with subprocess.Popen([*command, *args], stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        for line in process.stderr:  # the first progress line: 50 examples ran
            if line.startswith("["):
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == EXIT_INTERRUPTED
    report = json.loads(report_file.read_text())
    assert report["interrupted"] is True
    assert report["examples"] >= 50
