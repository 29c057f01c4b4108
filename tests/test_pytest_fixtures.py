"""The plugin's fixtures in hand-written tests: dicom_peer, dicom_listener, dicom_scenario,
dicom_sut, each run by pytester in a fresh folder against the built-in peers (and DCMTK's
storescp for a SUT with a log). Under CI a missing storescp fails, never skips."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from harness import SUITE_DIR
from harness.profile import PEERS_DIR, load_profile
from harness.reference import ReferenceServer, config_from_mapping
from harness.transcript import Direction

BUILTIN = ("--dicom-peer", str(PEERS_DIR / "builtin.yaml"))
BUILTIN_SCU = ("--dicom-peer", "builtin-scu")


def run(pytester: pytest.Pytester, source: str, *options: str) -> pytest.RunResult:
    """Write ``source`` as a test file and run pytest on it (that file only, so the
    shipped suite is not collected) with ``options``; without hypothesis's plugin, which
    would import hypothesis afresh in every run."""
    path = pytester.makepyfile(textwrap.dedent(source))
    return pytester.runpytest(
        str(path), "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *options
    )


def test_associate_echo_and_release_pass(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_echo(dicom_peer):
            accepted = dicom_peer.associate()
            assert accepted["pc_results"] == {1: 0, 3: 0}
            assert dicom_peer.echo() == 0
            dicom_peer.release()
            assert ">> A-RELEASE-RQ" in dicom_peer.transcript

        def test_any_step_as_its_mapping(dicom_peer):
            dicom_peer.step({"send": "A-ASSOCIATE-RQ", "split": [10, 20]})
            dicom_peer.expect("A-ASSOCIATE-AC", pc_results={1: 0})
            assert "in 3 TCP writes" in dicom_peer.transcript
            dicom_peer.abort()
            dicom_peer.expect("transport-closed")
        """,
        *BUILTIN,
    )
    result.assert_outcomes(passed=2)


def test_fixtures_work_on_xdist_workers(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_echo(dicom_peer, dicom_sut, n):
            assert dicom_sut.port > 0
            dicom_peer.associate()
            assert dicom_peer.echo() == 0
        """,
        *BUILTIN,
        "-n",
        "2",
    )
    result.assert_outcomes(passed=4)


def test_an_unexpected_pdu_fails_with_expected_actual_and_the_transcript(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        def test_wrong_answer(dicom_peer):
            dicom_peer.associate()
            dicom_peer.send("C-ECHO-RQ")
            dicom_peer.expect("A-RELEASE-RP")
        """,
        *BUILTIN,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * expected A-RELEASE-RP, got P-DATA-TF",
            "E * transcript so far:",
            "E * >> A-ASSOCIATE-RQ *",
            "E * << A-ASSOCIATE-AC *",
            "E * >> P-DATA-TF *",
            "E * << P-DATA-TF *",
        ]
    )


def test_a_failing_assert_shows_the_transcript_in_the_report(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_status(dicom_peer):
            dicom_peer.associate()
            assert dicom_peer.echo() == 0x0110
        """,
        *BUILTIN,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*- dicom transcript -*", "* >> A-ASSOCIATE-RQ *", "* << A-ASSOCIATE-AC *"]
    )


def test_a_wrong_called_ae_title_is_rejected_as_the_step_expects(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        def test_rejected(dicom_peer):
            dicom_peer.send("A-ASSOCIATE-RQ", called_ae_title="WRONG")
            rejected = dicom_peer.expect("A-ASSOCIATE-RJ", result=1, source=1, reason=7)
            assert (rejected["result"], rejected["source"], rejected["reason"]) == (1, 1, 7)

        def test_symbolic_values_as_in_yaml(dicom_peer):
            dicom_peer.send("A-ASSOCIATE-RQ", called_ae_title="WRONG")
            dicom_peer.expect("A-ASSOCIATE-RJ", reason="called-ae-title-not-recognized")

        def test_associate_wants_an_ac(dicom_peer):
            dicom_peer.associate(called_ae_title="WRONG")
        """,
        *BUILTIN,
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["E * association not accepted: got A-ASSOCIATE-RJ (result 1, source 1, reason 7)"]
    )


def test_a_step_field_unknown_to_the_format_is_an_error_naming_it(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        def test_typo(dicom_peer):
            dicom_peer.expect("A-ASSOCIATE-AC", max_lenght=16384)
        """,
        *BUILTIN,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_typo*where.max_lenght: not a field of A-ASSOCIATE-AC*"])


def test_dicom_scenario_runs_an_inline_mapping_and_a_file(pytester: pytest.Pytester) -> None:
    called_ae_unknown = SUITE_DIR / "acceptor" / "reject" / "called-ae-unknown.yaml"
    result = run(
        pytester,
        f"""
        import pathlib

        import pytest


        def echo(status):
            return {{
                "id": "acceptor/vendor/echo",
                "title": "C-ECHO answered",
                "references": ["PS3.7 9.1.5"],
                "requirement": "MUST",
                "sut_role": "acceptor",
                "steps": [
                    {{"associate": {{}}}},
                    {{"send": "C-ECHO-RQ"}},
                    {{"expect": "C-ECHO-RSP", "where": {{"status": status}}}},
                    {{"release": {{}}}},
                ],
            }}

        def test_inline(dicom_scenario):
            result = dicom_scenario(echo(0), peer="builtin")
            assert result.verdict == "passed", result.message

        def test_inline_mismatch(dicom_scenario):
            result = dicom_scenario(echo(0x0110))
            assert result.verdict == "failed"
            assert "status: expected 272, got 0" in result.message

        def test_file(dicom_scenario):
            result = dicom_scenario(pathlib.Path({str(called_ae_unknown)!r}))
            assert (result.id, result.verdict) == ("acceptor/reject/called-ae-unknown", "passed")

        def test_invalid_mapping(dicom_scenario, request):
            document = echo(0)
            document["steps"][1]["set"] = {{"priorty": 1}}
            with pytest.raises(pytest.fail.Exception, match=request.node.nodeid) as error:
                dicom_scenario(document)
            assert "set.priorty" in str(error.value)

        def test_no_such_requestor(dicom_scenario):
            document = echo(0)
            document.update(id="requestor/vendor/echo", sut_role="requestor")
            document["steps"] = [{{"accept": {{}}}}]
            dicom_scenario(document)
        """,
        *BUILTIN,
    )
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*the scenario needs a requestor SUT; none of the configured*"])


def test_dicom_listener_accepts_a_triggered_scu(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_scu_echo_and_release(dicom_listener):
            dicom_listener.trigger()
            peer = dicom_listener.accept()
            request = peer.expect("A-ASSOCIATE-RQ", calling_ae_title="HARNESS-SCU")
            assert request["called_ae_title"] == "DICOM-HARNESS"
            peer.send("A-ASSOCIATE-AC")
            peer.expect("C-ECHO-RQ", affected_sop_class_uid="1.2.840.10008.1.1")
            peer.send("C-ECHO-RSP")
            peer.expect("A-RELEASE-RQ")
            peer.send("A-RELEASE-RP")
            peer.expect("transport-closed")
            assert dicom_listener.exit_code() == 0

        def test_accept_step(dicom_listener):
            dicom_listener.trigger()
            peer = dicom_listener.accept()
            peer.accept_association()
            peer.expect("C-ECHO-RQ")
            peer.send("C-ECHO-RSP", status=0x0110)
            peer.expect("A-RELEASE-RQ")
            peer.send("A-RELEASE-RP")
            assert dicom_listener.exit_code() is not None
        """,
        *BUILTIN_SCU,
    )
    result.assert_outcomes(passed=2)


def test_a_requestor_that_does_not_connect_fails_the_trigger(pytester: pytest.Pytester) -> None:
    silent = pytester.path / "silent-scu.yaml"
    silent.write_text(
        textwrap.dedent(
            """
            name: silent-scu
            sut_role: requestor
            ae_title: SILENT-SCU
            trigger: {command: ["{python}", "-c", "pass"], connect_timeout: 0.5}
            """
        )
    )
    result = run(
        pytester,
        """
        def test_trigger(dicom_listener):
            dicom_listener.trigger()
        """,
        "--dicom-peer",
        str(silent),
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E * the SUT did not connect to 127.0.0.1:* within 0.5 s of its trigger*"]
    )


def test_dicom_listener_accepts_an_scu_started_by_the_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import subprocess, sys

        def test_own_scu(dicom_listener):
            command = [sys.executable, "-m", "harness.reference", "--host", dicom_listener.host,
                       "--port", str(dicom_listener.port), "--called-ae", "DICOM-HARNESS",
                       "--calling-ae", "MY-SCU", "--echo", "1", "--timeout", "5"]
            with subprocess.Popen(command) as scu:
                peer = dicom_listener.accept(timeout=10)
                peer.accept_association()
                peer.expect("C-ECHO-RQ")
                peer.send("C-ECHO-RSP")
                peer.expect("A-RELEASE-RQ")
                peer.send("A-RELEASE-RP")
                assert scu.wait(10) == 0
        """,
        *BUILTIN,
    )
    result.assert_outcomes(passed=1)


def test_every_fixture_without_dicom_options_errors_clearly(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_peer(dicom_peer): pass
        def test_listener(dicom_listener): pass
        def test_scenario(dicom_scenario): pass
        def test_sut(dicom_sut): pass
        """,
    )
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(
        ["*UsageError: the DICOM harness needs --dicom-peer or --dicom-target*"] * 4
    )


def test_dicom_peer_with_only_a_requestor_profile_errors_clearly(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "def test_peer(dicom_peer):\n    pass\n", *BUILTIN_SCU)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*dicom_peer needs an acceptor SUT (an SCP)*"])


def test_teardown_aborts_an_association_left_open(pytester: pytest.Pytester) -> None:
    builtin = load_profile("builtin")
    config = config_from_mapping(builtin.ae_title, builtin.builtin or {})
    with ReferenceServer(config) as server:
        host, port = server.address
        result = run(
            pytester,
            """
            def test_left_open(dicom_peer):
                dicom_peer.associate()
            """,
            "--dicom-target",
            f"{host}:{port}",
            "--dicom-called-ae",
            builtin.ae_title,
        )
        result.assert_outcomes(passed=1)
        _sanity, left_open = server.wait_for_records(2, timeout=5)
    assert left_open.transcript is not None
    received = [e.label for e in left_open.transcript.entries if e.direction is Direction.RECEIVED]
    assert received == ["A-ASSOCIATE-RQ", "A-ABORT"]
    assert left_open.error is None


@pytest.fixture
def storescp_profile(pytester: pytest.Pytester) -> Path:
    """A vendor's own profile file: DCMTK's storescp, logging verbosely."""
    if shutil.which("storescp") is None:
        message = "DCMTK's storescp is not installed (apt-get install dcmtk; `make test` does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    text = (PEERS_DIR / "dcmtk-storescp.yaml").read_text()
    text = text.replace("command: [storescp, ", "command: [storescp, --verbose, ")
    path = pytester.path / "my-storescp.yaml"
    path.write_text(text.replace("name: dcmtk-storescp", "name: my-storescp"))
    return path


@pytest.mark.peer("dcmtk-storescp")
def test_dicom_sut_is_the_started_scp_with_its_log(
    pytester: pytest.Pytester, storescp_profile: Path
) -> None:
    result = run(
        pytester,
        """
        def test_log(dicom_sut, dicom_peer):
            assert dicom_sut.profile.name == "my-storescp"
            assert dicom_sut.port > 0 and dicom_sut.log_path.exists()
            dicom_peer.associate()
            assert dicom_peer.echo() == 0
            dicom_peer.release()
            assert "Association Received" in dicom_sut.log_tail(lines=200)

        def test_same_sut(dicom_sut, dicom_peer):
            dicom_peer.associate()
            assert dicom_peer.echo() == 0
        """,
        "--dicom-peer",
        storescp_profile.name,
    )
    result.assert_outcomes(passed=2)


def test_dicom_sut_of_the_builtin_peer_has_no_log(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_sut(dicom_sut):
            assert (dicom_sut.profile.name, dicom_sut.host) == ("builtin", "127.0.0.1")
            assert dicom_sut.port > 0
            assert (dicom_sut.log_path, dicom_sut.log_tail()) == (None, "")
        """,
        *BUILTIN,
    )
    result.assert_outcomes(passed=1)
