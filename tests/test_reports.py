"""The JSON and JUnit reports of a run (DESIGN.md, "Verdicts" and the JSON report contract).

A report is built by hand with one result per verdict; the JSON must carry exactly the
contract keys, the JUnit XML must validate against the Ant/Jenkins JUnit schema
(tests/data/junit.xsd) and map each verdict to the element CI servers understand, and
both files must be written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from harness import __version__
from harness.profile import Address, load_profile
from harness.reports import write_atomically
from harness.reports.junit import junit_xml, write_junit
from harness.reports.run import RunReport, sut_record, write_json
from harness.results import ScenarioResult, Verdict, summarize
from harness.scenario import Scenario
from harness.transcript import Direction, Transcript, TransportEvent

JUNIT_XSD = Path(__file__).parent / "data" / "junit.xsd"
STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RELEASE_RQ = bytes.fromhex("05000000000400000000")
RELEASE_RP = bytes.fromhex("06000000000400000000")

REPORT_KEYS = [
    "harness_version",
    "suite_version",
    "sut",
    "started",
    "duration_s",
    "summary",
    "results",
    "coverage",
    "interrupted",
]
RESULT_KEYS = {
    "id",
    "title",
    "references",
    "requirement",
    "sut_role",
    "verdict",
    "message",
    "duration_s",
    "transcript",
    "cells",
}

#: One scenario per verdict: (verdict, id, requirement, message).
OUTCOMES = [
    (Verdict.PASSED, "acceptor/release/rp-is-ten-bytes", "MUST", ""),
    (Verdict.NON_STRICT, "acceptor/release/waits-for-close", "SHOULD", "closed after RP"),
    (Verdict.INFORMATIONAL, "acceptor/association/max-length-zero", "MAY", "0 accepted"),
    (Verdict.UNSUPPORTED, "acceptor/reject/called-ae-unknown", "MUST", "accepts any AE"),
    (Verdict.XFAIL, "acceptor/state-table/sta2-unknown-pdu", "MUST", "no A-ABORT"),
    (Verdict.XPASS, "acceptor/reject/application-context-unknown", "MUST", "now rejects"),
    (Verdict.FAILED, "acceptor/abort/sta6-abort-from-harness", "MUST", "got A-RELEASE-RP"),
    (Verdict.ERROR, "acceptor/artim/silent-connection", "MUST", "connection refused"),
]
VERDICT_IDS = [str(verdict) for verdict, *_ in OUTCOMES]
JUNIT_OUTCOME = {
    Verdict.PASSED: None,
    Verdict.NON_STRICT: None,
    Verdict.INFORMATIONAL: None,
    Verdict.UNSUPPORTED: "skipped",
    Verdict.XFAIL: "skipped",
    Verdict.XPASS: "failure",
    Verdict.FAILED: "failure",
    Verdict.ERROR: "error",
}


def release_transcript() -> Transcript:
    """A short real transcript: a release exchange and the SUT's close."""
    transcript = Transcript()
    transcript.add(Direction.SENT, "A-RELEASE-RQ", RELEASE_RQ)
    transcript.add(Direction.RECEIVED, "A-RELEASE-RP", RELEASE_RP)
    transcript.event(TransportEvent.CLOSED_BY_PEER)
    return transcript


def untimed(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcript entries without their times (which differ from one transcript to the next)."""
    return [{key: value for key, value in entry.items() if key != "t"} for entry in entries]


def result(
    verdict: Verdict, scenario_id: str, requirement: str, message: str, peer: str = "builtin"
) -> ScenarioResult:
    transcript = release_transcript()
    return ScenarioResult(
        id=scenario_id,
        title=f"The behaviour checked by {scenario_id.rsplit('/', 1)[1]}",
        references=["PS3.8 9.3.7", "PS3.8 Table 9-10"],
        requirement=requirement,
        sut_role="acceptor",
        verdict=verdict,
        message=message,
        duration_s=0.25,
        transcript=transcript.to_json(),
        transcript_text=transcript.render(),
        cells=[("Sta6", "Evt11", "AR-1"), ("Sta13", "Evt17", "AR-5")],
        peer=peer,
        baseline_reason="known since 1.0" if verdict in (Verdict.XFAIL, Verdict.XPASS) else "",
    )


@pytest.fixture
def report() -> RunReport:
    """A finished run against one peer with one result per verdict."""
    return RunReport(
        sut={"peer": "builtin", "host": "127.0.0.1", "port": 11112},
        suite_version="8 scenarios, sha256 0123456789ab",
        started=STARTED,
        duration_s=2.0,
        results=[result(*outcome) for outcome in OUTCOMES],
        coverage={"cells_exercised": 2},
    )


# -- JSON ------------------------------------------------------------------------------------


@pytest.fixture
def json_report(report: RunReport, tmp_path: Path) -> dict[str, Any]:
    """The JSON report as written to disk and read back."""
    path = tmp_path / "report.json"
    write_json(report, str(path))
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_json_has_exactly_the_contract_keys_in_order(json_report: dict[str, Any]) -> None:
    assert list(json_report) == REPORT_KEYS
    assert json_report["harness_version"] == __version__
    assert json_report["suite_version"] == "8 scenarios, sha256 0123456789ab"
    assert json_report["sut"] == {"peer": "builtin", "host": "127.0.0.1", "port": 11112}
    assert json_report["started"] == "2026-01-02T03:04:05+00:00"
    assert json_report["duration_s"] == 2.0
    assert json_report["coverage"] == {"cells_exercised": 2}
    assert json_report["interrupted"] is False


def test_the_sut_block_says_where_an_acceptor_listens() -> None:
    profile = load_profile("builtin")

    assert sut_record(profile, Address("127.0.0.1", 11112)) == {
        "name": "builtin",
        "role": "acceptor",
        "ae_title": profile.ae_title,
        "host": "127.0.0.1",
        "port": 11112,
        "profile": profile.path,
    }


def test_the_sut_block_of_a_requestor_shows_its_trigger_command_not_a_port() -> None:
    """Each scenario listens on its own port: the command is shown with its templates."""
    profile = load_profile("builtin-scu")

    record = sut_record(profile, Address("127.0.0.1", 0))

    assert record == {
        "name": "builtin-scu",
        "role": "requestor",
        "ae_title": "HARNESS-SCU",
        "trigger": list(profile.trigger),
        "called_ae_title": "DICOM-HARNESS",
        "profile": profile.path,
    }
    assert "{port}" in record["trigger"]


def test_a_requestor_run_writes_that_sut_block(
    run_requestor_suite: Callable[..., RunReport],
    requestor_suite: list[Scenario],
    tmp_path: Path,
) -> None:
    profile = load_profile("builtin-scu")
    report = run_requestor_suite(profile, requestor_suite[:1])
    path = tmp_path / "report.json"

    write_json(report, str(path))

    written = json.loads(path.read_text(encoding="utf-8"))["sut"]
    assert written == sut_record(profile, Address("127.0.0.1", 0))


def test_json_results_carry_the_contract_keys(json_report: dict[str, Any]) -> None:
    results = json_report["results"]

    assert [r["id"] for r in results] == [scenario_id for _, scenario_id, _, _ in OUTCOMES]
    for entry, (verdict, _, requirement, message) in zip(results, OUTCOMES, strict=True):
        assert set(entry) >= RESULT_KEYS
        assert (entry["verdict"], entry["requirement"], entry["message"]) == (
            str(verdict),
            requirement,
            message,
        )
        assert entry["references"] == ["PS3.8 9.3.7", "PS3.8 Table 9-10"]
        assert entry["sut_role"] == "acceptor"
        assert entry["duration_s"] == 0.25
        assert entry["cells"] == [["Sta6", "Evt11", "AR-1"], ["Sta13", "Evt17", "AR-5"]]
        assert untimed(entry["transcript"]) == untimed(release_transcript().to_json())
        assert [e["label"] for e in entry["transcript"]] == [
            "A-RELEASE-RQ",
            "A-RELEASE-RP",
            "closed-by-peer",
        ]


def test_json_summary_counts_each_verdict(report: RunReport, tmp_path: Path) -> None:
    report.results.append(result(*OUTCOMES[0]))
    path = tmp_path / "report.json"

    write_json(report, str(path))
    summary = json.loads(path.read_text(encoding="utf-8"))["summary"]

    assert summary == {str(v): 2 if v is Verdict.PASSED else 1 for v in Verdict}
    assert sum(summary.values()) == len(report.results)


def test_summary_lists_every_verdict_even_when_none_occurred() -> None:
    assert summarize([]) == {str(v): 0 for v in Verdict}


def test_an_interrupted_run_says_so(report: RunReport, tmp_path: Path) -> None:
    report.interrupted = True
    path = tmp_path / "partial.json"

    write_json(report, str(path))

    assert json.loads(path.read_text(encoding="utf-8"))["interrupted"] is True


# -- JUnit XML -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(JUNIT_XSD)))


def parse(text: str) -> Any:
    return etree.fromstring(text.encode("utf-8"))


@pytest.fixture
def junit(report: RunReport, junit_schema: etree.XMLSchema) -> Any:
    """The report's JUnit XML, parsed, after checking it against the schema."""
    document = parse(junit_xml(report))
    junit_schema.assertValid(document)
    return document


def cases_by_name(document: Any) -> dict[str, Any]:
    return {case.get("name"): case for case in document.iter("testcase")}


def test_the_junit_schema_is_not_vacuous(junit_schema: etree.XMLSchema) -> None:
    nameless_case = "<testsuites><testsuite name='s' tests='1'><testcase/></testsuite></testsuites>"
    outcome_outside_a_case = (
        "<testsuites><testsuite name='s' tests='0'><failure/></testsuite></testsuites>"
    )
    negative_count = "<testsuites><testsuite name='s' tests='-1'/></testsuites>"

    for text in (nameless_case, outcome_outside_a_case, negative_count):
        assert not junit_schema.validate(parse(text)), text


def test_junit_of_an_empty_run_is_valid(junit_schema: etree.XMLSchema) -> None:
    document = parse(junit_xml(RunReport(sut={}, suite_version="0 scenarios")))

    junit_schema.assertValid(document)
    assert document.tag == "testsuites"
    assert len(document) == 0


def test_junit_has_one_suite_with_the_counts(junit: Any) -> None:
    (suite,) = junit.findall("testsuite")

    assert suite.get("name") == "dicom-ul-harness builtin"
    counts = {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "8", "failures": "2", "errors": "1", "skipped": "2"}
    assert suite.get("timestamp") == "2026-01-02T03:04:05+00:00"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"peer": "builtin", "suite_version": "8 scenarios, sha256 0123456789ab"}


@pytest.mark.parametrize(
    ("verdict", "scenario_id", "requirement", "message"), OUTCOMES, ids=VERDICT_IDS
)
def test_junit_maps_each_verdict_to_its_element(
    junit: Any, verdict: Verdict, scenario_id: str, requirement: str, message: str
) -> None:
    case = cases_by_name(junit)[scenario_id]

    outcomes = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
    expected = JUNIT_OUTCOME[verdict]
    assert outcomes == ([expected] if expected else [])
    assert case.get("classname") == scenario_id.rsplit("/", 1)[0]
    assert float(case.get("time")) == 0.25
    for outcome in case.iterfind(expected or "-"):
        assert outcome.get("message") == f"{verdict}: {message}"


@pytest.mark.parametrize(
    ("verdict", "scenario_id", "requirement"),
    [outcome[:3] for outcome in OUTCOMES],
    ids=VERDICT_IDS,
)
def test_junit_body_holds_the_requirement_and_the_transcript(
    report: RunReport, junit: Any, verdict: Verdict, scenario_id: str, requirement: str
) -> None:
    (scenario,) = [r for r in report.results if r.id == scenario_id]
    case = cases_by_name(junit)[scenario_id]

    bodies = [case.find("system-out"), *case.iterfind("failure"), *case.iterfind("error")]
    for text in (body.text for body in bodies):
        assert text.startswith(
            f"{requirement}: {scenario.title} ({', '.join(scenario.references)})"
        )
        assert f"\nverdict: {verdict}\n" in text
        assert text.endswith(f"\ntranscript:\n{scenario.transcript_text}")
        assert ">> A-RELEASE-RQ" in text
        assert "<< A-RELEASE-RP" in text


def test_junit_has_one_suite_per_peer(report: RunReport, junit_schema: etree.XMLSchema) -> None:
    report.results += [result(v, i, r, m, peer="dcmtk-storescp") for v, i, r, m in OUTCOMES[:3]]

    document = parse(junit_xml(report))

    junit_schema.assertValid(document)
    suites = {s.get("name"): int(s.get("tests")) for s in document.iter("testsuite")}
    assert suites == {"dicom-ul-harness builtin": 8, "dicom-ul-harness dcmtk-storescp": 3}
    assert document.get("tests") == "11"


def test_junit_escapes_what_the_sut_said(report: RunReport, junit_schema: etree.XMLSchema) -> None:
    report.results[6].message = 'got <A-ABORT source="2"> & \x1b[31mred\x00'

    document = parse(junit_xml(report))

    junit_schema.assertValid(document)
    failure = cases_by_name(document)["acceptor/abort/sta6-abort-from-harness"].find("failure")
    assert failure.get("message").startswith('failed: got <A-ABORT source="2"> & ')


# -- writing -------------------------------------------------------------------------------


Writer = Callable[[RunReport, str], None]


@pytest.mark.parametrize("write", [write_json, write_junit], ids=["json", "junit"])
def test_a_report_is_written_into_a_missing_folder_without_leftovers(
    report: RunReport, tmp_path: Path, write: Writer
) -> None:
    target = tmp_path / "reports" / "nightly" / "run.out"

    write(report, str(target))

    assert [p.name for p in target.parent.iterdir()] == ["run.out"]
    assert target.read_text(encoding="utf-8").lstrip().startswith(("{", "<?xml"))


@pytest.mark.parametrize("write", [write_json, write_junit], ids=["json", "junit"])
def test_a_report_replaces_the_previous_one_whole(
    report: RunReport, tmp_path: Path, write: Writer
) -> None:
    target = tmp_path / "run.out"
    target.write_text("previous run\n", encoding="utf-8")

    write(report, str(target))

    assert [p.name for p in tmp_path.iterdir()] == ["run.out"]
    assert "previous run" not in target.read_text(encoding="utf-8")


def test_a_failed_write_keeps_the_previous_report_and_no_temporary_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous run\n", encoding="utf-8")

    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "a lone surrogate cannot be UTF-8: \ud800")

    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert target.read_text(encoding="utf-8") == "previous run\n"
