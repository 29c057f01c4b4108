"""JUnit XML report (DESIGN.md, "Verdicts"), written with junit-xml.

One test suite per peer; one test case per scenario with the scenario id as ``name`` and
its folder as ``classname``. ``failed`` and ``xpass`` become ``<failure>``, ``error``
becomes ``<error>``, ``unsupported`` and ``xfail`` become ``<skipped>``; the body holds
the requirement, the verdict's message and the transcript, one readable line per PDU.
"""

from __future__ import annotations

from itertools import groupby

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.reports import write_atomically
from harness.reports.run import RunReport
from harness.results import ScenarioResult, Verdict


def result_details(result: ScenarioResult) -> str:
    """The requirement, verdict, message, baseline, teardown and transcript of a result:
    the JUnit body, and the pytest plugin's failure text."""
    lines = [
        f"{result.requirement}: {result.title} ({', '.join(result.references)})",
        f"verdict: {result.verdict}",
    ]
    if result.message:
        lines.append(f"message: {result.message}")
    if result.baseline_reason:
        lines.append(f"baseline: {result.baseline_reason}")
    if result.teardown:
        lines.append(f"teardown: {result.teardown}")
    if result.transcript_text:
        lines += ["transcript:", result.transcript_text]
    return "\n".join(lines)


def junit_case(result: ScenarioResult) -> TestCase:
    """The JUnit test case of one result."""
    case = TestCase(
        name=result.id,
        classname=result.folder,
        elapsed_sec=round(result.duration_s, 3),
        stdout=result_details(result),
    )
    summary = f"{result.verdict}: {result.message}".strip(": ")
    if result.verdict in (Verdict.FAILED, Verdict.XPASS):
        case.add_failure_info(message=summary[:500], output=result_details(result))
    elif result.verdict is Verdict.ERROR:
        case.add_error_info(message=summary[:500], output=result_details(result))
    elif result.verdict in (Verdict.UNSUPPORTED, Verdict.XFAIL):
        case.add_skipped_info(message=summary[:500], output=result_details(result))
    return case


def junit_xml(report: RunReport) -> str:
    """The report as JUnit XML text, one suite per peer."""
    suites = [
        TestSuite(
            name=" ".join(filter(None, ["dicom-ul-harness", peer])),
            test_cases=[junit_case(result) for result in results],
            properties={"peer": peer, "suite_version": report.suite_version},
            timestamp=report.started.isoformat(timespec="seconds"),
        )
        for peer, results in groupby(
            sorted(report.results, key=lambda r: (r.peer, r.id)), key=lambda r: r.peer
        )
    ]
    text: str = to_xml_report_string(suites, prettyprint=True, encoding="utf-8")
    return text


def write_junit(report: RunReport, path: str) -> None:
    """Write the JUnit XML report atomically."""
    write_atomically(path, junit_xml(report))
