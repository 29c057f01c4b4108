"""``dicom-harness simulate scu``: the built-in SCU runs a profile's behaviour against an
SCP on demand; exit codes 0 (as asked), 1 (failed), 2 (bad profile or target), 3 (not
reachable).

Loopback only. Nothing sleeps to wait for a state: the tests wait for the reference
server's finished-association records, or for storescp to listen (PeerProcess).
Under CI (``CI=true``) a missing storescp fails the test instead of skipping it.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

from harness.cli import main
from harness.fsm import State
from harness.process import PeerProcess, free_port
from harness.profile import parse_target
from harness.reference import AssociationRecord, CloseTransport, ReferenceConfig, ReferenceServer
from harness.simulator_scp import (
    Behaviour,
    SimulatorProtocol,
    load_simulator_profile,
    simulator_server,
    states_traversed,
)
from harness.simulator_scu import load_scu_profile
from harness.transcript import Direction

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "simulator"
REPLY = 5.0
"""Seconds to wait for something that must happen."""


def scu(profile: str, target: str, *extra: str) -> int:
    path = EXAMPLES / f"{profile}.yaml" if "/" not in profile else Path(profile)
    return main(["simulate", "scu", "--profile", str(path), "--target", target, *extra])


@pytest.fixture
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(ReferenceConfig(check_called_ae=False), port=0) as running:
        yield running


def target(server: ReferenceServer) -> str:
    host, port = server.address
    return f"{host}:{port}"


def received(record: AssociationRecord) -> list[str]:
    assert record.transcript is not None
    return [e.label for e in record.transcript.entries if e.direction is Direction.RECEIVED]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("scu-*.yaml")), ids=lambda p: p.stem)
def test_every_example_profile_loads(path: Path) -> None:
    assert load_scu_profile(path).config.ae_title == "SIMULATOR-SCU"


def test_echo_twice_with_count(server: ReferenceServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert scu("scu-echo", target(server), "--count", "2") == 0
    records = server.wait_for_records(2, REPLY)
    assert len(records) == 2
    for record in records:
        assert received(record) == ["A-ASSOCIATE-RQ", "P-DATA-TF", "A-RELEASE-RQ"]
    out = capsys.readouterr().out
    assert "== association 2 " in out
    assert ">> A-RELEASE-RQ" in out
    assert out.count("ok: accepted, 1 C-ECHO, released") == 2


def test_one_association_per_stdin_line_until_quit(
    server: ReferenceServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("go\n\nquit\ngo\n"))
    logs = tmp_path / "logs"
    assert scu("scu-echo-repeat", target(server), "--quiet", "--log-dir", str(logs)) == 0
    records = server.wait_for_records(2, REPLY)
    assert len(records) == 2
    assert received(records[0]).count("P-DATA-TF") == 3
    assert sorted(p.name for p in logs.iterdir()) == [
        "association-00001.log",
        "association-00002.log",
    ]


def test_abort_after_associate(server: ReferenceServer) -> None:
    assert scu("scu-abort-after-associate", target(server), "--count", "1") == 0
    (record,) = server.wait_for_records(1, REPLY)
    assert received(record) == ["A-ASSOCIATE-RQ", "A-ABORT"]


@pytest.fixture
def colliding_scp() -> Iterator[ReferenceServer]:
    """``simulate scp`` with its release-collision example: it answers our A-RELEASE-RQ
    with its own (PS3.8 7.2.2.7)."""
    profile = load_simulator_profile(EXAMPLES / "release-collision.yaml")
    with simulator_server(profile, port=0) as running:
        yield running


def test_release_collision_resolved_with_simulate_scp(
    colliding_scp: ReferenceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ours: RP first (AR-8, AR-9), theirs, then we close (AR-3); theirs: Sta10, Sta12."""
    assert scu("scu-release-collision", target(colliding_scp), "--count", "1") == 0
    out = capsys.readouterr().out
    assert "states: Sta1 -> Sta4 -> Sta5 -> Sta6 -> Sta7 -> Sta9 -> Sta11 -> Sta1\n" in out
    assert "ok: accepted, 1 C-ECHO, released after a release collision" in out
    assert "(Sta7 -> Sta9 -> Sta11 -> Sta1)" in out
    wire = [line.split()[1:3] for line in out.splitlines() if line.startswith("   ")][-5:]
    assert wire == [
        [">>", "A-RELEASE-RQ"],
        ["<<", "A-RELEASE-RQ"],
        [">>", "A-RELEASE-RP"],
        ["<<", "A-RELEASE-RP"],
        ["--", "closed-by-harness"],
    ]
    (record,) = colliding_scp.wait_for_records(1, REPLY)
    scp_states = states_traversed(record.protocol.machine)
    assert scp_states[-5:] == [State.STA7, State.STA10, State.STA12, State.STA13, State.STA1]


def test_release_collision_expected_but_the_scp_answers_with_its_rp(
    server: ReferenceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scu("scu-release-collision", target(server), "--count", "1") == 1
    out = capsys.readouterr().out
    assert "failed: no release collision happened: the SCP answered our A-RELEASE-RQ" in out
    assert "with an A-RELEASE-RP (Sta7 -> Sta1)" in out


def test_plain_echo_meeting_a_collision_resolves_it_and_says_so(
    colliding_scp: ReferenceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scu("scu-echo", target(colliding_scp), "--count", "1") == 0
    out = capsys.readouterr().out
    assert "released after a release collision (Sta7 -> Sta9 -> Sta11 -> Sta1)" in out


class ClosesInsteadOfItsRp(SimulatorProtocol):
    """Collides, then closes without its A-RELEASE-RP once ours arrived (Sta12)."""

    def on_release_indication(self) -> None:
        if self.state is State.STA12:
            self.emit(CloseTransport())
        else:
            super().on_release_indication()


def closes_instead_of_its_rp(config: ReferenceConfig, *, busy: bool) -> SimulatorProtocol:
    return ClosesInsteadOfItsRp(config, Behaviour(release_collision=True), busy=busy)


def test_release_collision_without_the_scp_rp_is_not_released(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Our RP sent (Sta11), the SCP closes: Evt17 (AA-4), not its RP (AR-3)."""
    config = ReferenceConfig(check_called_ae=False)
    with ReferenceServer(config, closes_instead_of_its_rp, port=0) as broken:
        assert scu("scu-release-collision", target(broken), "--count", "1") == 1
    out = capsys.readouterr().out
    assert "failed: not released (Sta7 -> Sta9 -> Sta11 -> Sta1; ended in Sta11 by Evt17" in out


def test_max_length_and_async_window_are_in_the_rq(server: ReferenceServer) -> None:
    assert scu("scu-max-length", target(server), "--count", "1") == 0
    assert scu("scu-async-window", target(server), "--count", "1") == 0
    first, second = server.wait_for_records(2, REPLY)
    assert first.protocol.rq is not None
    assert second.protocol.rq is not None
    assert first.protocol.rq.max_length == 4096
    assert second.protocol.rq.async_ops_window == (3, 2)


def ct_file(folder: Path, sop_class: str = str(CTImageStorage)) -> Path:
    data_set = Dataset()
    data_set.SOPClassUID = sop_class
    data_set.SOPInstanceUID = generate_uid()
    data_set.PatientName = "SIMULATOR^SCU"
    data_set.file_meta = FileMetaDataset()
    data_set.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    data_set.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    data_set.file_meta.MediaStorageSOPInstanceUID = data_set.SOPInstanceUID
    path = folder / "image.dcm"
    data_set.save_as(path, enforce_file_format=True)
    return path


def test_store_sends_the_file(server: ReferenceServer, tmp_path: Path) -> None:
    ct_file(tmp_path)
    profile = tmp_path / "scu-store.yaml"
    profile.write_text("behaviour:\n  store: image.dcm\n")
    assert scu(str(profile), target(server), "--count", "1") == 0
    (record,) = server.wait_for_records(1, REPLY)
    (stored,) = record.protocol.stored
    assert stored.sop_class_uid == CTImageStorage
    assert b"SIMULATOR^SCU" in stored.data


def test_store_of_an_unaccepted_sop_class_exits_1(
    server: ReferenceServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ct_file(tmp_path, sop_class="1.2.840.10008.5.1.4.1.1.4")  # MR Image Storage
    profile = tmp_path / "scu-store.yaml"
    profile.write_text("behaviour:\n  store: image.dcm\n")
    assert scu(str(profile), target(server), "--count", "1") == 1
    assert "failed: no accepted presentation context" in capsys.readouterr().out


def test_rejection_exits_1_and_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    config = ReferenceConfig(ae_title="RIGHT-AE", check_called_ae=True)
    with ReferenceServer(config, port=0) as server:
        code = scu("scu-echo", target(server), "--count", "1", "--called-ae", "WRONG-AE")
        assert code == 1
        server.wait_for_records(1, REPLY)
    out = capsys.readouterr().out
    assert "<< A-ASSOCIATE-RJ" in out
    assert "failed: rejected" in out


@pytest.mark.parametrize("where", ["10.0.0.1:104", "example.com:104", "127.0.0.1", "[::2]:1"])
def test_non_loopback_or_malformed_target_exits_2(
    capsys: pytest.CaptureFixture[str], where: str
) -> None:
    assert scu("scu-echo", where, "--count", "1") == 2
    err = capsys.readouterr().err
    assert f"--target {where}" in err


def test_loopback_targets_are_accepted() -> None:
    assert parse_target("localhost:104") == ("localhost", 104)
    assert parse_target("[::1]:11112") == ("::1", 11112)
    with pytest.raises(ValueError, match="loopback only"):
        parse_target("10.0.0.1:104")


def test_unreachable_port_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert scu("scu-echo", f"127.0.0.1:{free_port()}", "--count", "1") == 3
    assert "cannot reach" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("behaviour:\n  echo: 0\n", ":2: behaviour.echo: 0 is below the minimum 1"),
        ("name: x\nbehavior: {}\n", ":2: behavior: unknown field"),
        ("behaviour:\n  store: missing.dcm\n", ":2: behaviour.store: "),
        (
            "behaviour:\n  abort-after-associate: true\n  echo: 2\n",
            ":3: behaviour.echo: cannot be combined with abort-after-associate",
        ),
        (
            "behaviour:\n  abort-after-associate: true\n  release-collision: true\n",
            ":3: behaviour.release-collision: cannot be combined with abort-after-associate",
        ),
    ],
)
def test_bad_profile_exits_2_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert scu(str(path), "127.0.0.1:104", "--count", "1") == 2
    assert f"{path}{where}" in capsys.readouterr().err


def require_storescp() -> None:
    """Skip without storescp, except under CI (tests/test_real_peers.py ``require``)."""
    if shutil.which("storescp") is None:
        message = "DCMTK's storescp is not installed (apt-get install dcmtk; `make test` does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_echo_twice_against_dcmtk_storescp(tmp_path: Path) -> None:
    require_storescp()
    port = free_port()
    log = tmp_path / "storescp.log"
    command = ["storescp", "-v", "-aet", "STORESCP", "-od", str(tmp_path), str(port)]
    with PeerProcess(command, log_path=log) as storescp:
        storescp.wait_listening(port, 15)
        assert scu("scu-echo", f"127.0.0.1:{port}", "--count", "2") == 0
    assert storescp.log_tail().count("Association Received") == 2
