"""``dicom-harness simulate scp``: real SCUs (pynetdicom 3.0.4, DCMTK echoscu) see exactly
the behaviour a simulator profile names; the transcript shows it on the wire.

Loopback only. Nothing sleeps to wait for a state: the tests wait for the simulator's
finished-association records, for the CLI's "listening on" line, or for a process to end.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import AsynchronousOperationsWindowNegotiation
from pynetdicom.sop_class import Verification

from harness.cli import main
from harness.fsm import Event, State
from harness.pdu import A_ABORT, dissect_one
from harness.reference import AssociationRecord, ReferenceServer, StartArtim
from harness.simulator_scp import (
    SimulatorProfile,
    SimulatorProtocol,
    load_simulator_profile,
    parse_simulator_profile,
    simulator_server,
)
from harness.transcript import Direction

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "simulator"
BEHAVIOURS = (
    "accept",
    "reject",
    "release-collision",
    "abort-after",
    "delay-ac",
    "max-length",
    "async-window",
)
REPLY = 5.0
"""Seconds to wait for something that must happen."""

needs_dcmtk = pytest.mark.skipif(shutil.which("echoscu") is None, reason="DCMTK not installed")


def example(name: str) -> SimulatorProfile:
    return load_simulator_profile(EXAMPLES / f"{name}.yaml")


def inline(behaviour: dict[str, Any]) -> SimulatorProfile:
    return parse_simulator_profile({"behaviour": behaviour}, "<test>")


@contextmanager
def simulator(profile: SimulatorProfile) -> Iterator[ReferenceServer]:
    with simulator_server(profile, port=0) as server:
        yield server


def associate(server: ReferenceServer, ext_neg: list[Any] | None = None) -> Association:
    ae = AE("PYNSCU")
    ae.add_requested_context(Verification)
    ae.acse_timeout = REPLY
    host, port = server.address
    return ae.associate(host, port, ae_title="SIMULATOR", ext_neg=ext_neg)


def only_record(server: ReferenceServer) -> AssociationRecord:
    (record,) = server.wait_for_records(1, REPLY)
    assert record.error is None
    return record


def wire(record: AssociationRecord) -> list[str]:
    """The PDUs both ways and the transport events, as ``<< NAME`` / ``>> NAME`` / ``-- EVENT``."""
    assert record.transcript is not None
    arrows = {Direction.SENT: ">>", Direction.RECEIVED: "<<", Direction.EVENT: "--"}
    return [f"{arrows[e.direction]} {e.label}" for e in record.transcript.entries]


# -- profiles --------------------------------------------------------------------------


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_every_behaviour_has_an_example_profile(name: str) -> None:
    assert example(name).config.ae_title == "SIMULATOR"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("behaviour:\n  abort-after: 0\n", ":2: behaviour.abort-after: 0 is below the minimum 1"),
        ("behaviour:\n  reject: {result: 1, source: 1}\n", ":2: behaviour.reject.reason: missing"),
        (
            "behaviour:\n  reject:\n    result: 1\n    source: 1\n    reason: no-such-reason\n",
            ":5: behaviour.reject.reason: 'no-such-reason' is not a reason",
        ),
        (
            "behaviour:\n  reject: {result: 1, source: 1, reason: 7}\n  abort-after: 2\n",
            ":3: behaviour.abort-after: cannot be combined with reject",
        ),
        ("name: x\nbehavior: {}\n", ":2: behavior: unknown field"),
    ],
)
def test_bad_profile_exits_2_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["simulate", "scp", "--profile", str(path), "--port", "0"]) == 2
    assert f"{path}{where}" in capsys.readouterr().err


# -- the protocol alone (sans I/O) ----------------------------------------------------------


def test_delay_is_a_timer_output_not_a_sleep() -> None:
    """delay-ac: the RQ is held (Sta2) behind a timer; its expiry sends the AC (AE-6, AE-7)."""
    profile = inline({"delay-ac": 30})
    protocol = SimulatorProtocol(profile.config, profile.behaviour, busy=False)
    protocol.connection_made()
    rq = bytes(replace(profile.config, ae_title="SCU").associate_rq("SIMULATOR").build())
    assert protocol.receive(rq) == [StartArtim(30.0)]
    assert protocol.state is State.STA2
    sent = [dissect_one(o.data).name for o in protocol.artim_expired() if hasattr(o, "data")]
    assert sent == ["A-ASSOCIATE-AC"]
    assert protocol.machine.cells[-1] == (State.STA3, Event.EVT7)  # AE-7


# -- pynetdicom's SCU ------------------------------------------------------------------------


def test_accept_echo_succeeds_and_releases() -> None:
    with simulator(example("accept")) as server:
        assoc = associate(server)
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assoc.release()
        assert assoc.is_released
        assert wire(only_record(server))[1:] == [
            "<< A-ASSOCIATE-RQ",
            ">> A-ASSOCIATE-AC",
            "<< P-DATA-TF",
            ">> P-DATA-TF",
            "<< A-RELEASE-RQ",
            ">> A-RELEASE-RP",
            "-- closed-by-peer",
        ]


def slowed(profile: SimulatorProfile) -> SimulatorProfile:
    """``profile`` with delay-ac 0.3 s. pynetdicom 3.0.4 has a race with a fast RJ: its
    ACSE thread checks that the socket is still connected after sending the RQ, and an RJ
    already received (AE-4 closes the transport) then reads as a failed connection, so it
    reports an abort instead of the rejection (2 to 15 times in 300 on this machine). A
    real SCP that takes a few milliseconds hides it; the simulator's delay-ac does too."""
    return replace(profile, behaviour=replace(profile.behaviour, delay_ac=0.3))


def test_reject_reaches_pynetdicom_with_its_codes() -> None:
    with simulator(slowed(example("reject"))) as server:
        assoc = associate(server)
        assert assoc.is_rejected
        assert not assoc.is_established
        primitive = assoc.acceptor.primitive
        assert (primitive.result, primitive.result_source, primitive.diagnostic) == (1, 1, 7)
        assert ">> A-ASSOCIATE-RJ" in wire(only_record(server))


def test_reject_numbers_and_provider_source_take_ae6_reject_branch() -> None:
    """Source 3 is the service-provider: AE-6 rejects at once, never via Sta3 (Evt8)."""
    profile = inline(
        {"reject": {"result": 2, "source": "service-provider-presentation", "reason": 1}}
    )
    with simulator(slowed(profile)) as server:
        primitive = associate(server).acceptor.primitive
        assert (primitive.result, primitive.result_source, primitive.diagnostic) == (2, 3, 1)
        assert (State.STA3, Event.EVT8) not in only_record(server).protocol.machine.cells


def test_abort_after_n_pdus_pynetdicom_sees_an_abort() -> None:
    """abort-after 2: the C-ECHO-RQ is answered, then A-ABORT source 0 (AA-1)."""
    with simulator(example("abort-after")) as server:
        assoc = associate(server)
        assert assoc.send_c_echo().Status == 0
        record = only_record(server)  # ends when pynetdicom closes after the A-ABORT
        assoc.join(REPLY)
        assert assoc.is_aborted
        assert wire(record)[-2:] == [">> A-ABORT", "-- closed-by-peer"]
        assert record.transcript is not None
        abort = dissect_one(record.transcript.entries[-2].raw)
        assert isinstance(abort, A_ABORT)
        assert abort.source == 0


def test_release_collision_pynetdicom_completes_in_ps38_order() -> None:
    """PS3.8 7.2.2.7: our RQ crosses theirs; the requestor's RP first, then ours."""
    with simulator(example("release-collision")) as server:
        assoc = associate(server)
        assoc.release()
        assert assoc.is_released
        assert not assoc.is_aborted
        record = only_record(server)
        assert wire(record)[-5:] == [
            "<< A-RELEASE-RQ",
            ">> A-RELEASE-RQ",
            "<< A-RELEASE-RP",
            ">> A-RELEASE-RP",
            "-- closed-by-peer",
        ]
        assert record.protocol.machine.cells[-5:] == [
            (State.STA6, Event.EVT11),  # AR-1: our RQ
            (State.STA7, Event.EVT12),  # AR-8: Sta10 (acceptor)
            (State.STA10, Event.EVT13),  # AR-10: Sta12
            (State.STA12, Event.EVT14),  # AR-4: our RP, ARTIM
            (State.STA13, Event.EVT17),  # AR-5: the requestor closed
        ]


def test_delay_ac_holds_one_association_without_blocking_another() -> None:
    """Two associations at once: the second RQ is read while the first one is held."""
    with simulator(inline({"delay-ac": 0.5})) as server:
        results: list[bool] = []

        def associate_and_release() -> None:
            assoc = associate(server)
            results.append(assoc.is_established)
            assoc.release()

        threads = [threading.Thread(target=associate_and_release) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(REPLY)
        assert results == [True, True]
        first, second = sorted(server.wait_for_records(2, REPLY), key=received_rq_at)
        assert received_rq_at(second) < sent_ac_at(first)
        assert sent_ac_at(first) - received_rq_at(first) >= 0.45


def received_rq_at(record: AssociationRecord) -> float:
    return _at(record, Direction.RECEIVED, "A-ASSOCIATE-RQ")


def sent_ac_at(record: AssociationRecord) -> float:
    return _at(record, Direction.SENT, "A-ASSOCIATE-AC")


def _at(record: AssociationRecord, direction: Direction, label: str) -> float:
    assert record.transcript is not None
    entry = next(
        e for e in record.transcript.entries if e.direction is direction and e.label == label
    )
    return record.transcript.origin + entry.t


def test_max_length_and_async_window_in_the_ac() -> None:
    with simulator(example("max-length")) as server:
        assoc = associate(server)
        assert assoc.acceptor.maximum_length == 4096
        assoc.release()
    window = AsynchronousOperationsWindowNegotiation()
    window.maximum_number_operations_invoked = 5
    window.maximum_number_operations_performed = 5
    with simulator(example("async-window")) as server:
        assoc = associate(server, ext_neg=[window])
        assert assoc.acceptor.asynchronous_operations == (3, 2)
        assoc.release()


# -- the command line, with DCMTK's echoscu --------------------------------------------------


@contextmanager
def cli(name: str, *options: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``dicom-harness simulate scp`` in a subprocess; (process, port) once it listens."""
    command = [sys.executable, "-m", "harness", "simulate", "scp"]
    command += ["--profile", str(EXAMPLES / f"{name}.yaml"), "--port", "0", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line + process.stderr.read()  # type: ignore[union-attr]
        yield process, int(line.rsplit(":", 1)[1])
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(REPLY)


def echoscu(port: int) -> subprocess.CompletedProcess[str]:
    command = ["echoscu", "-aet", "ECHOSCU", "-aec", "SIMULATOR", "-ta", "5"]
    return subprocess.run(
        [*command, "127.0.0.1", str(port)],
        capture_output=True,
        text=True,
        timeout=20,
        env={"TCP_NODELAY": "1"},
        check=False,
    )


@needs_dcmtk
def test_cli_accept_echoscu_succeeds_and_transcript_is_logged(tmp_path: Path) -> None:
    with cli("accept", "--max-associations", "1", "--log-dir", str(tmp_path)) as (process, port):
        assert echoscu(port).returncode == 0
        out, _ = process.communicate(timeout=REPLY)
    assert process.returncode == 0
    assert "<< A-ASSOCIATE-RQ" in out
    assert ">> A-ASSOCIATE-AC" in out
    (log,) = tmp_path.glob("association-*.log")
    assert ">> A-RELEASE-RP" in log.read_text()


@needs_dcmtk
def test_cli_reject_echoscu_fails_naming_the_rejection() -> None:
    with cli("reject", "--max-associations", "1") as (process, port):
        result = echoscu(port)
        out, _ = process.communicate(timeout=REPLY)
    assert result.returncode != 0
    assert "Rejected" in result.stdout + result.stderr
    assert ">> A-ASSOCIATE-RJ" in out
    assert "result=1" in out


@needs_dcmtk
def test_cli_release_collision_echoscu_gives_up_and_closes() -> None:
    """What DCMTK 3.6.7 really does: it fails the release ("DUL Peer Requested Release")
    and closes in Sta10 without its RP; we see Evt17 there (AA-4)."""
    with cli("release-collision", "--max-associations", "1") as (process, port):
        result = echoscu(port)
        out, _ = process.communicate(timeout=REPLY)
    assert result.returncode != 0
    assert "Peer Requested Release" in result.stdout + result.stderr
    tail = [line.split(maxsplit=2)[1:] for line in out.splitlines()[-3:]]
    assert [" ".join(part)[:18] for part in tail] == [
        "<< A-RELEASE-RQ le",
        ">> A-RELEASE-RQ le",
        "-- closed-by-peer",
    ]


def test_cli_stops_cleanly_on_sigterm() -> None:
    with cli("accept", "--quiet") as (process, _):
        process.send_signal(signal.SIGTERM)
        process.wait(REPLY)
        assert process.returncode == 0


def test_cli_address_that_cannot_be_bound_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    """203.0.113.7 (TEST-NET-3) is not ours: nothing listens, nothing is sent."""
    profile = str(EXAMPLES / "accept.yaml")
    assert main(["simulate", "scp", "--profile", profile, "--bind", "203.0.113.7"]) == 3
    assert "cannot listen on 203.0.113.7" in capsys.readouterr().err
