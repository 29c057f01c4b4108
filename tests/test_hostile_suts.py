"""The harness under a SUT that lies: bounded time and memory, a verdict, whole reports.

Each lie of :mod:`hostile_suts` answers a real scenario of the suite, run through the
command line (``dicom-harness run --target ... --json ... --junit ...``) after an honest
sanity association. Whatever the SUT claims or does (PS3.8 9.3.1 lengths, 9.3.5 PDVs,
9.3.2-9.3.3 items, 9.1.4 transport ends), the run must end within the timers of the
profile, stay under :data:`MEMORY_CAP`, fail the scenario with a message that names what
the SUT did (with the byte offset of a decode error), and write both reports whole.
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import hostile_suts as lies
import pytest
from hostile_suts import HostileSut, Lie

from harness import pdu
from harness.cli import EXIT_FAILED, main
from harness.exchange import DIMSE_MESSAGE_CAP, Timers
from harness.framing import encode_p_data_tf
from harness.pdu.render import SUMMARIZED_ELEMENTS
from harness.transcript import HEAD_ENTRIES, LISTED_ELEMENTS, RAW_BUDGET, TAIL_ENTRIES

SUITE = Path(__file__).resolve().parent.parent / "scenarios"
ECHO = "acceptor/association/echo-and-release"
NOTHING_AFTER_RP = "acceptor/release/nothing-after-rp"

TIMEOUT_SCALE = 0.2
REPLY = Timers(scale=TIMEOUT_SCALE).seconds("reply")
"""The ``--target`` profile's reply timer (5 s) at ``--timeout-scale 0.2``: 1 s."""
WAITS = 6
"""Waits on the SUT a run may make, each at most ``reply``: the sanity association's
(its AC, its C-ECHO-RSP, its A-RELEASE-RP) and as many for the scenario."""
SLACK = 4.0
"""Seconds for everything but waiting: startup, dissection and the reports, traced."""
DEADLINE = WAITS * REPLY + SLACK
"""The deadline contract of one run: 10 s at this scale, whatever the SUT does."""

MEMORY_CAP = 24 * 1024 * 1024
"""Peak traced memory of one run. The most a lie can make the harness hold is one DIMSE
message being reassembled (``DIMSE_MESSAGE_CAP``, 16 MiB, a flood of P-DATA-TF) or one
association PDU (``DEFAULT_READ_CAP``, 1 MiB, none of the lies gets that far); the
transcript keeps ``RAW_BUDGET`` (128 KiB) of bytes in at most 1,100 entries; the rest
(scapy, pydicom, the reports) fits in the margin."""


def _run(lie: Lie, scenario: str, tmp_path: Path) -> tuple[int, float, int, dict[str, Any]]:
    """The scenario run by the command line against ``lie``: exit code, seconds, peak
    traced bytes, and the JSON report's result."""
    json_path, junit_path = tmp_path / "run.json", tmp_path / "run.xml"
    with HostileSut(lie) as sut:
        args = ["run", "--target", sut.target, "--called-ae", "HARNESS-SCP"]
        args += ["--timeout-scale", str(TIMEOUT_SCALE), str(SUITE / f"{scenario}.yaml")]
        args += ["--json", str(json_path), "--junit", str(junit_path)]
        tracemalloc.start()
        started = time.monotonic()
        try:
            code = main(args)
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert sut.errors == [], "the hostile SUT itself broke"
    (result,) = json.loads(json_path.read_text())["results"]
    (case,) = ET.parse(junit_path).getroot().iter("testcase")
    assert case.get("name") == result["id"] == scenario
    failure = case.find("failure")
    assert failure is not None, "the JUnit report does not fail the scenario"
    assert "transcript:" in (failure.text or "")
    return code, elapsed, peak, result


LIES: list[tuple[Lie, str, str]] = [  # the lie, the scenario, what the message must say
    # 4 GiB length claims (PS3.8 9.3.1): refused from the 6-byte header.
    (
        lies.ac_claims_4_gib,
        ECHO,
        "A-ASSOCIATE-AC of PDU-length 4294967295 over the 1048576 bytes the harness reads",
    ),
    (lies.ac_claims_63_mib, ECHO, "PDU-length 66060288 over the 1048576 bytes"),
    (lies.ac_claims_the_read_cap, ECHO, r"only 10 byte\(s\) of a A-ASSOCIATE-AC within"),
    (
        lies.p_data_claims_4_gib,
        ECHO,
        r"P-DATA-TF of PDU-length 4294967295 over our maximum 16384 \(PS3.8 D.1\)",
    ),
    # Endless slow bytes, one per second: the deadline is per PDU, not per byte.
    (lies.ac_dripped, ECHO, r"only [12] byte\(s\) of a A-ASSOCIATE-AC within"),
    (lies.garbage_dripped, ECHO, r"only [12] byte\(s\) of a unknown PDU type"),
    # Resets in the middle of a PDU (PS3.8 9.1.4, Evt17).
    (
        lies.reset_after_ac_header,
        ECHO,
        r"reset the transport after 6 byte\(s\) of a A-ASSOCIATE-AC",
    ),
    (lies.reset_mid_ac, ECHO, r"reset the transport after \d+ byte\(s\) of a A-ASSOCIATE-AC"),
    (lies.reset_mid_echo_rsp, ECHO, r"reset the transport after \d+ byte\(s\) of a P-DATA-TF"),
    # Thousands of PDVs and P-DATA-TF PDUs (PS3.8 9.3.5, Annex E).
    (lies.ten_thousand_empty_pdvs, ECHO, "PDU-length 60000 over our maximum 16384"),
    (
        lies.ten_thousand_empty_pdvs_in_four_pdus,
        ECHO,
        r"4 P-DATA-TF PDU\(s\) \(60024 bytes\) without a complete DIMSE message",
    ),
    (
        lies.ten_thousand_one_byte_pdvs_in_five_pdus,
        ECHO,
        "breaks PS3.8 Annex E: at byte offset 0",
    ),
    (lies.endless_p_data, ECHO, "without a complete DIMSE message, then the (deadline|harness)"),
    (lies.thousands_of_tiny_p_data, ECHO, "without a complete DIMSE message, then the deadline"),
    # Item lengths that overrun, repeat 0, or nest thousands deep (PS3.8 9.3.3).
    (lies.ac_item_overruns_pdu, ECHO, "does not decode: at byte offset 74: Presentation Context"),
    (
        lies.ac_with_100_000_empty_items,
        ECHO,
        "does not decode: at byte offset 65610: more than 16384 elements",
    ),
    (
        lies.user_information_with_16_000_sub_items,
        ECHO,
        "does not decode: at byte offset 64074: Maximum Length Sub-Item",
    ),
    # Garbage after a valid PDU.
    (lies.ac_then_garbage, ECHO, "expected C-ECHO-RSP"),
    (lies.release_rp_then_unknown_pdu, NOTHING_AFTER_RP, "got unknown PDU type 0x99"),
]


@pytest.mark.parametrize(
    ("lie", "scenario", "named"), LIES, ids=[lie.__name__ for lie, _, _ in LIES]
)
def test_a_lying_sut_fails_the_scenario_within_the_deadline_and_the_memory_cap(
    lie: Lie, scenario: str, named: str, tmp_path: Path
) -> None:
    code, elapsed, peak, result = _run(lie, scenario, tmp_path)

    assert code == EXIT_FAILED
    assert elapsed < DEADLINE, f"{elapsed:.1f} s"
    assert peak < MEMORY_CAP, f"{peak / 2**20:.1f} MiB"
    assert result["verdict"] == "failed"
    assert re.search(named, result["message"]), result["message"]
    assert result["transcript"]


def test_a_flood_is_summarised_in_a_bounded_transcript(tmp_path: Path) -> None:
    _, _, _, result = _run(lies.thousands_of_tiny_p_data, ECHO, tmp_path)

    entries = result["transcript"]
    omitted = [entry for entry in entries if entry["label"] == "entries-omitted"]
    assert len(entries) == HEAD_ENTRIES + 1 + TAIL_ENTRIES
    assert len(omitted) == 1
    assert omitted[0]["note"].endswith("bytes) not kept")
    kept = sum(len(entry.get("hex", "")) // 2 for entry in entries)
    assert kept <= RAW_BUDGET
    assert entries[-1]["label"] == "closed-by-harness"


def test_a_flood_of_p_data_is_cut_at_the_message_cap_before_the_deadline(tmp_path: Path) -> None:
    """With ``reply`` at 5 s (``--timeout-scale 1``) the flood reaches the cap first."""
    json_path = tmp_path / "run.json"
    with HostileSut(lies.endless_p_data) as sut:
        args = ["run", "--target", sut.target, "--called-ae", "HARNESS-SCP"]
        code = main([*args, str(SUITE / f"{ECHO}.yaml"), "--json", str(json_path)])

    assert code == EXIT_FAILED
    (result,) = json.loads(json_path.read_text())["results"]
    assert f"then the harness closed at its cap of {DIMSE_MESSAGE_CAP} bytes" in result["message"]
    assert result["teardown"]["closed_by"] == "harness"


def test_the_report_of_a_p_data_tf_is_read_without_scapy_and_says_the_same() -> None:
    """:func:`harness.pdu.p_data_views` gives what scapy's dissection would, for the few
    PDVs a report lists, and counts the rest."""
    many = encode_p_data_tf([(1, 0, b"\x00\x00")] * (LISTED_ELEMENTS + 5))
    for raw in (encode_p_data_tf([(1, 3, b"ab"), (3, 0, b"")]), many):
        packet = pdu.dissect_one(raw)
        views = pdu.p_data_views(raw, LISTED_ELEMENTS)
        assert views == (pdu.to_dict(packet, listed=LISTED_ELEMENTS), pdu.summarize(packet))
    views = pdu.p_data_views(many, LISTED_ELEMENTS)
    assert views is not None
    described, summary = views
    assert described["pdvs_omitted"] == 5
    assert summary.endswith(f"+{LISTED_ELEMENTS + 5 - SUMMARIZED_ELEMENTS} more]")
