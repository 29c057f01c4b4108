"""`dicom-harness decode`: dissect PDUs from hex text, a file or binary stdin."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from harness import pdu
from harness.cli import EXIT_OK, EXIT_USAGE, main

SAMPLE = Path(__file__).parent.parent / "examples" / "echo-association.hex"
ABORT_HEX = "07000000000400000201"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_sample_exchange_decodes_to_six_pdus(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decode", str(SAMPLE))
    assert (code, err) == (EXIT_OK, "")
    names = [
        line.split(": ", 1)[1].split(",")[0] for line in out.splitlines() if line[:5] == "# PDU"
    ]
    assert names == [
        "A-ASSOCIATE-RQ",
        "A-ASSOCIATE-AC",
        "P-DATA-TF",
        "P-DATA-TF",
        "A-RELEASE-RQ",
        "A-RELEASE-RP",
    ]


def test_json_output_carries_the_ps38_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "--json", str(SAMPLE))
    assert code == EXIT_OK
    rq, ac, *_ = json.loads(out)
    assert rq["pdu_type"] == 1
    assert rq["length"] == 281
    assert rq["called_ae_title"].strip() == "ECHOSCP"
    assert rq["calling_ae_title"].strip() == "ECHOSCU"
    assert rq["protocol_version"] == 1
    item_types = [item["item_type"] for item in rq["variable_items"]]
    assert item_types == [0x10, 0x20, 0x50]
    assert rq["variable_items"][0]["application_context_name"] == "1.2.840.10008.3.1.1.1"
    assert ac["variable_items"][1]["result_reason"] == 0


def test_reject_and_abort_fields_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "--json", "03 00 00000004 00 01 01 07" + ABORT_HEX)
    assert code == EXIT_OK
    reject, abort = json.loads(out)
    assert (reject["result"], reject["source"], reject["reason"]) == (1, 1, 7)
    assert (abort["source"], abort["reason"]) == (2, 1)


def test_binary_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(bytes(pdu.A_RELEASE_RQ())))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "decode", "-", "--json")
    assert code == EXIT_OK
    assert json.loads(out) == [{"pdu_type": 5, "reserved1": 0, "length": 4, "reserved2": 0}]


def test_a_truncated_pdu_prints_what_was_understood_and_the_offset(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "decode", ABORT_HEX + "0600000000040000")
    assert code == EXIT_USAGE
    assert "A-ABORT" in out
    assert "at byte offset 10" in err


def test_malformed_json_input_still_lists_the_understood_pdus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "decode", "--json", ABORT_HEX + "01")
    assert code == EXIT_USAGE
    assert [p["pdu_type"] for p in json.loads(out)] == [7]
    assert "at byte offset 10" in err


@pytest.mark.parametrize(
    ("argument", "message"),
    [("0700zz", "not hex text"), ("070", "odd number of hex digits")],
)
def test_bad_hex_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argument: str, message: str
) -> None:
    code, _, err = run(capsys, "decode", argument)
    assert code == EXIT_USAGE
    assert message in err


def test_an_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err
