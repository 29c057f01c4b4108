"""The built-in SCU's command line as the requestor suite needs it, observed on the wire.

``--store FILE`` sends a C-STORE-RQ of the file's data set (PS3.7 9.1.1) after the
echoes, proposing its SOP class; fragmented to the maximum length of our AC (PS3.8 D.1),
which the harness checks on every P-DATA-TF. ``--async-window INVOKED PERFORMED``
proposes a 53H (PS3.7 D.3.3.3) and pipelines the C-ECHO requests, as many outstanding as
the AC grants, one at a time when it grants none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from broken_requestors import builtin_scu

from harness import association as assoc
from harness.profile import Profile, load_profile
from harness.reference import RequestorProtocol, client
from harness.reports.run import RunReport
from harness.results import ScenarioResult, Verdict
from harness.scenario import parse_scenario
from harness.yamlsrc import load_text

TESTS = Path(__file__).resolve().parent
RunSuite = Callable[..., RunReport]
HEAD = """\
id: requestor/test/probe
title: A probe scenario
references: ["PS3.8 9.2"]
requirement: MUST
sut_role: requestor
steps:
"""
RELEASE: list[dict[str, Any]] = [
    {"expect": "A-RELEASE-RQ"},
    {"send": "A-RELEASE-RP"},
    {"expect": "transport-closed"},
    {"expect": "sut-exited", "where": {"exit_code": 0}},
]


class IgnoresMaxLength(RequestorProtocol):
    """Sends P-DATA-TF PDUs up to its own maximum length, whatever the AC's 51H says
    (PS3.8 D.1: the acceptor's maximum binds the requestor)."""

    def establish(self, rq: assoc.AssociateRQ, ac: assoc.AssociateAC) -> None:
        super().establish(rq, ac)
        self.peer_max_length = self.own_max_length


def with_argument(sut: Profile, option: str, *values: str) -> Profile:
    """``sut`` whose trigger command gives ``option`` these ``values``."""
    trigger = list(sut.trigger)
    at = trigger.index(option) + 1
    trigger[at : at + len(values)] = values
    return replace(sut, trigger=tuple(trigger))


def run_steps(run_requestor_suite: RunSuite, sut: Profile, steps: list[Any]) -> ScenarioResult:
    """One requestor scenario of ``steps`` (on lines 7, 8, 9...) against ``sut``."""
    text = HEAD + "".join(f"  - {json.dumps(step)}\n" for step in steps)
    scenario = parse_scenario(load_text(text, "<test>"), "<test>")
    (result,) = run_requestor_suite(sut, [scenario]).results
    return result


def received_p_data_lengths(result: ScenarioResult) -> list[int]:
    """The PDU-length of every P-DATA-TF the SUT sent."""
    return [
        entry["size"] - 6
        for entry in result.transcript
        if entry["direction"] == "received" and entry["label"] == "P-DATA-TF"
    ]


# -- --store ---------------------------------------------------------------------------------


def test_store_proposes_the_files_sop_class_and_sends_its_data_set(
    run_requestor_suite: RunSuite,
) -> None:
    steps = [
        {
            "expect": "A-ASSOCIATE-RQ",
            "where": {
                "abstract_syntaxes": [
                    assoc.VERIFICATION_SOP_CLASS,
                    assoc.CT_IMAGE_STORAGE,
                    assoc.SECONDARY_CAPTURE_IMAGE_STORAGE,
                ]
            },
        },
        {"send": "A-ASSOCIATE-AC"},
        {
            "expect": "C-STORE-RQ",
            "where": {
                "affected_sop_class_uid": assoc.CT_IMAGE_STORAGE,
                "affected_sop_instance_uid": "1.2.826.0.1.3680043.8.498.1001",
            },
        },
        {"send": "C-STORE-RSP"},
        *RELEASE,
    ]

    result = run_steps(run_requestor_suite, builtin_scu("builtin-storescu"), steps)

    assert result.verdict is Verdict.PASSED, result.message


def test_store_fragments_to_the_maximum_length_of_our_ac(
    run_requestor_suite: RunSuite,
) -> None:
    steps = [
        {"accept": {"set": {"max_length": 256}}},
        {"expect": "C-STORE-RQ"},
        {"send": "C-STORE-RSP"},
        *RELEASE,
    ]

    result = run_steps(run_requestor_suite, builtin_scu("builtin-storescu"), steps)

    assert result.verdict is Verdict.PASSED, result.message
    lengths = received_p_data_lengths(result)
    assert len(lengths) > 2
    assert max(lengths) <= 256


def test_a_p_data_tf_over_the_maximum_length_of_our_ac_fails(
    run_requestor_suite: RunSuite,
) -> None:
    steps = [{"accept": {"set": {"max_length": 256}}}, {"expect": "C-STORE-RQ"}]

    result = run_steps(
        run_requestor_suite, builtin_scu("builtin-storescu", IgnoresMaxLength), steps
    )

    assert result.verdict is Verdict.FAILED
    (command,) = received_p_data_lengths(result)
    refused = next(e for e in result.transcript if e["label"] == "pdu-too-long")
    data_set = int.from_bytes(bytes.fromhex(refused["hex"])[2:6], "big")  # its header only
    assert command <= 256 < data_set
    assert result.message == (
        f"line 8: expected C-STORE-RQ, got 1 P-DATA-TF PDU(s) ({command + 6} bytes) without "
        f"a complete DIMSE message, then a P-DATA-TF of PDU-length {data_set} over our "
        "maximum 256 (PS3.8 D.1)"
    )


def test_store_comes_after_the_echoes_and_counts_for_the_exit_code(
    run_requestor_suite: RunSuite,
) -> None:
    sut = with_argument(builtin_scu("builtin-storescu"), "--echo", "1")
    steps = [
        {"accept": {}},
        {"expect": "C-ECHO-RQ"},
        {"send": "C-ECHO-RSP"},
        {"expect": "C-STORE-RQ"},
        {"send": "C-STORE-RSP"},
        *RELEASE,
    ]

    result = run_steps(run_requestor_suite, sut, steps)

    assert result.verdict is Verdict.PASSED, result.message


def test_a_request_without_an_accepted_context_is_not_sent_and_fails_the_exit_code(
    run_requestor_suite: RunSuite,
) -> None:
    """The AC rejects Verification (PS3.8 Table 9-23: no PDV on it): no C-ECHO-RQ, the
    C-STORE-RQ goes on, then the release; the exit code says a request went unanswered."""
    sut = with_argument(builtin_scu("builtin-storescu"), "--echo", "1")
    steps = [
        {"accept": {"set": {"pc_results": {1: "abstract-syntax-not-supported"}}}},
        {"expect": "C-STORE-RQ"},
        {"send": "C-STORE-RSP"},
        *RELEASE[:-1],
        {"expect": "sut-exited", "where": {"exit_code": 1}},
    ]

    result = run_steps(run_requestor_suite, sut, steps)

    assert result.verdict is Verdict.PASSED, result.message
    (output,) = [e["note"] for e in result.transcript if e["label"] == "sut-output"]
    assert f"not sent: no accepted presentation context for {assoc.VERIFICATION_SOP_CLASS}" in (
        output
    )


def test_store_of_a_file_that_is_not_dicom_exits_with_a_message(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a DICOM file")

    with pytest.raises(SystemExit, match=f"--store {text}: "):
        client.main(["--port", "104", "--store", str(text)])


# -- --async-window --------------------------------------------------------------------------


def test_async_window_pipelines_as_many_echoes_as_the_ac_grants(
    run_requestor_suite: RunSuite,
) -> None:
    """Four C-ECHO requests with 3 granted: three at once, the fourth only after a
    response (PS3.7 D.3.3.3)."""
    steps = [
        {"expect": "A-ASSOCIATE-RQ", "where": {"async_ops_window": [3, 3]}},
        {"send": "A-ASSOCIATE-AC", "set": {"async_ops_window": [3, 3]}},
        {"expect": "C-ECHO-RQ", "where": {"message_id": 1}},
        {"expect": "C-ECHO-RQ", "where": {"message_id": 2}},
        {"expect": "C-ECHO-RQ", "where": {"message_id": 3}},
        {"expect": "silence"},
        {"send": "C-ECHO-RSP", "set": {"message_id_being_responded_to": 2}},
        {"expect": "C-ECHO-RQ", "where": {"message_id": 4}},
        *({"send": "C-ECHO-RSP", "set": {"message_id_being_responded_to": n}} for n in (1, 3, 4)),
        *RELEASE,
    ]

    result = run_steps(run_requestor_suite, builtin_scu("builtin-scu-async"), steps)

    assert result.verdict is Verdict.PASSED, result.message


def test_async_window_sends_one_at_a_time_when_the_ac_has_no_53h(
    run_requestor_suite: RunSuite,
) -> None:
    steps = [
        {"accept": {"set": {"async_ops_window": None}}},
        *({"expect": "C-ECHO-RQ"}, {"expect": "silence"}, {"send": "C-ECHO-RSP"}) * 4,
        *RELEASE,
    ]

    result = run_steps(run_requestor_suite, builtin_scu("builtin-scu-async"), steps)

    assert result.verdict is Verdict.PASSED, result.message


def test_an_unlimited_window_sends_every_echo_at_once(run_requestor_suite: RunSuite) -> None:
    """0 is unlimited in both the offer and the answer (PS3.7 D.3.3.3)."""
    sut = with_argument(builtin_scu("builtin-scu-async"), "--async-window", "0", "0")
    steps = [
        {"accept": {"set": {"async_ops_window": [0, 0]}}},
        *({"expect": "C-ECHO-RQ"},) * 4,
        *({"send": "C-ECHO-RSP", "set": {"message_id_being_responded_to": n}} for n in range(1, 5)),
        *RELEASE,
    ]

    result = run_steps(run_requestor_suite, sut, steps)

    assert result.verdict is Verdict.PASSED, result.message


# -- the profiles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sends_c_echo", "sends_c_store", "async_ops"),
    [
        ("builtin-scu", True, False, False),
        ("builtin-storescu", False, True, False),
        ("builtin-scu-async", False, False, True),  # four pipelined C-ECHOs, not one
        ("dcmtk-echoscu", True, False, False),
        ("dcmtk-storescu", False, True, False),
        ("pynetdicom-scu", True, False, False),
    ],
)
def test_requestor_profiles_state_what_they_send(
    name: str, sends_c_echo: bool, sends_c_store: bool, async_ops: bool
) -> None:
    capabilities = load_profile(name).capabilities

    assert (
        capabilities["sends_c_echo"],
        capabilities["sends_c_store"],
        capabilities["async_ops"],
    ) == (sends_c_echo, sends_c_store, async_ops)
