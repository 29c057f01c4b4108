"""The pytest plugin (harness/pytest_plugin.py) run by pytest in a fresh project.

Each test writes a small project with ``pytester`` and runs pytest on it in a subprocess
(the plugin comes from the installed ``pytest11`` entry point), against the built-in
reference peer, a profile with a baseline, or DCMTK's storescp. Under CI (``CI=true``) a
missing storescp fails the test instead of skipping it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from test_real_peers import require

from harness import SUITE_DIR
from harness.process import free_port
from harness.profile import PEERS_DIR
from harness.runner import select
from harness.scenario import load_scenarios

HEAD = """\
id: acceptor/inline/{name}
title: "{title}"
references: ["PS3.8 7.1.1", "PS3.8 9.3.3"]
requirement: {level}
sut_role: acceptor
steps:
"""

#: Inline scenarios, one per outcome the built-in peer gives.
SCENARIOS = {
    "pass": (
        "MUST",
        "An association is accepted and released",
        "  - associate: {}\n  - release: {}\n",
    ),
    "fail": (
        "MUST",
        "A well-formed A-ASSOCIATE-RQ is rejected (it is not: the check fails)",
        "  - send: A-ASSOCIATE-RQ\n  - expect: A-ASSOCIATE-RJ\n",
    ),
    "unsupported": (
        "MUST",
        "An accepted association means the check does not apply",
        "  - send: A-ASSOCIATE-RQ\n"
        "  - any_of:\n"
        "      - expect: A-ASSOCIATE-RJ\n"
        "      - expect: A-ASSOCIATE-AC\n"
        "        verdict: unsupported\n"
        "        message: the SUT accepts, nothing to check\n",
    ),
    "non-strict": (
        "SHOULD",
        "A well-formed A-ASSOCIATE-RQ should be rejected (a SHOULD not honoured)",
        "  - send: A-ASSOCIATE-RQ\n  - expect: A-ASSOCIATE-RJ\n",
    ),
}

#: The built-in peer under another name, with a baseline: a held one and a stale one.
BASELINE = """
baseline:
  acceptor/inline/fail:
    verdict: failed
    reason: the built-in peer accepts a well-formed request
  acceptor/inline/pass:
    verdict: failed
    reason: this entry is stale, the scenario passes
"""

#: Both profiles over the inline scenarios: outcome -> ids (with ``[profile]``).
OUTCOMES = {
    "passed": 3,  # pass [builtin], and non-strict for each profile
    "failed": 2,  # fail [builtin], and pass [baselined] as XPASS(strict)
    "skipped": 2,
    "xfailed": 1,
    "warnings": 2,  # the non-strict ones
}


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the inline scenarios in scenarios/ and the profile peers/baselined.yaml."""
    for name, (level, title, steps) in SCENARIOS.items():
        text = HEAD.format(name=name, title=title, level=level) + steps
        pytester.path.joinpath("scenarios").mkdir(exist_ok=True)
        pytester.path.joinpath("scenarios", f"{name}.yaml").write_text(text)
    builtin = (PEERS_DIR / "builtin.yaml").read_text()
    pytester.path.joinpath("peers").mkdir()
    pytester.path.joinpath("peers", "baselined.yaml").write_text(
        builtin.replace("name: builtin", "name: baselined") + BASELINE
    )
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers", *args)


BOTH = ("--dicom-peer", "builtin", "--dicom-peer", "peers/baselined.yaml", "scenarios")


def collected(result: pytest.RunResult) -> list[str]:
    """The node ids ``--collect-only -q`` printed."""
    return [line for line in result.outlines if "::" in line]


# -- collection ---------------------------------------------------------------------------


def test_the_shipped_suite_is_collected_per_scenario_for_each_profile_of_its_role(
    pytester: pytest.Pytester,
) -> None:
    globs = ["acceptor/reject/*", "requestor/reject/permanent-*"]
    result = run(
        pytester,
        "--collect-only",
        "-q",
        *("--dicom-peer", "builtin", "--dicom-peer", "builtin-scu"),
        *(arg for glob in globs for arg in ("--dicom-select", glob)),
    )
    suite = select(load_scenarios([SUITE_DIR]), globs)
    expected = {
        f"{s.id}[{'builtin' if s.sut_role == 'acceptor' else 'builtin-scu'}]" for s in suite
    }
    assert {node.split("::")[1] for node in collected(result)} == expected
    assert "acceptor/reject/called-ae-unknown.yaml::acceptor/reject/called-ae-unknown[builtin]" in (
        collected(result)
    )
    assert result.ret == pytest.ExitCode.OK


def test_named_paths_restrict_collection_to_them(project: pytest.Pytester) -> None:
    result = run(project, "--collect-only", "-q", "--dicom-peer", "builtin", "scenarios")
    assert sorted(collected(result)) == [
        f"scenarios/{name}.yaml::acceptor/inline/{name}[builtin]" for name in sorted(SCENARIOS)
    ]


def test_dicom_suite_replaces_the_shipped_suite_in_a_run_without_paths(
    project: pytest.Pytester,
) -> None:
    result = run(
        project, "--collect-only", "-q", "--dicom-peer", "builtin", "--dicom-suite", "scenarios"
    )
    assert sorted(collected(result)) == [
        f"scenarios/{name}.yaml::acceptor/inline/{name}[builtin]" for name in sorted(SCENARIOS)
    ]


def test_a_missing_suite_is_a_usage_error_not_an_empty_green_run(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "--dicom-peer", "builtin", "--dicom-suite", "nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dicom-suite *nowhere: no such folder*"])


def test_other_yaml_files_are_not_collected(project: pytest.Pytester) -> None:
    project.makefile(".yml", ci="jobs:\n  test:\n    steps:\n      - run: make\n")
    result = run(project, "--collect-only", "-q", "--dicom-peer", "builtin", ".")
    assert not [node for node in collected(result) if "ci.yml" in node or "peers/" in node]
    assert len(collected(result)) == len(SCENARIOS)


def test_a_broken_scenario_file_is_a_collection_error_naming_file_and_line(
    project: pytest.Pytester,
) -> None:
    project.path.joinpath("scenarios", "pass.yaml").write_text(
        HEAD.format(name="bad", title="t", level="MUST") + "  - expect: A-ASSOCIATE-AC\n"
        "    within: forever\n"
    )
    result = run(project, "--dicom-peer", "builtin", "scenarios")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*scenarios/pass.yaml:8: within: 'forever' is not a number*"])
    assert "Traceback" not in result.stdout.str()


# -- outcomes -----------------------------------------------------------------------------


def test_verdicts_map_to_pytest_outcomes(project: pytest.Pytester) -> None:
    result = run(project, "-rA", *BOTH)
    result.assert_outcomes(**OUTCOMES)
    result.stdout.fnmatch_lines_random(
        [
            "PASSED scenarios/pass.yaml::acceptor/inline/pass[[]builtin[]]",
            "FAILED scenarios/fail.yaml::acceptor/inline/fail[[]builtin[]]*",
            "SKIPPED [[]2[]] scenarios/unsupported.yaml:1: unsupported: *the SUT accepts*",
            "XFAIL scenarios/fail.yaml::acceptor/inline/fail[[]baselined[]] - the built-in *",
            "FAILED scenarios/pass.yaml::acceptor/inline/pass[[]baselined[]] - Failed: [[]XPASS*",
            "*scenarios/non-strict.yaml:1: DicomNonStrictWarning: acceptor/inline/non-strict: *",
            "builtin: 1 failed, 1 non-strict, 1 passed, 1 unsupported; "
            "PS3.8 Table 9-10 cells exercised: * of 123 defined (247 in the table)",
        ]
    )


def test_a_failure_shows_requirement_expected_actual_and_transcript_not_a_traceback(
    project: pytest.Pytester,
) -> None:
    result = run(project, "--dicom-peer", "builtin", "scenarios/fail.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "acceptor/inline/fail [[]builtin[]]",
            "MUST: A well-formed A-ASSOCIATE-RQ is rejected * (PS3.8 7.1.1, PS3.8 9.3.3)",
            "verdict: failed",
            "message: *expected A-ASSOCIATE-RJ*A-ASSOCIATE-AC*",
            "transcript:",
            "*A-ASSOCIATE-RQ*",
            "*A-ASSOCIATE-AC*",
        ]
    )
    assert "pytest_plugin.py" not in result.stdout.str()


def test_non_strict_fails_under_dicom_strict(project: pytest.Pytester) -> None:
    result = run(project, "--dicom-peer", "builtin", "--dicom-strict", "scenarios/non-strict.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["SHOULD: *", "verdict: failed"])


def test_a_sut_that_cannot_be_reached_errors_every_item_of_its_profile(
    project: pytest.Pytester,
) -> None:
    target = f"127.0.0.1:{free_port()}"
    result = run(project, "--dicom-target", target, "--dicom-timeout-scale", "0.2", "scenarios")
    result.assert_outcomes(errors=len(SCENARIOS))
    result.stdout.fnmatch_lines(["target-127.0.0.1-*: the SUT is not usable: *sanity*"])
    assert "During handling" not in result.stdout.str()


# -- selection ----------------------------------------------------------------------------


def test_keywords_and_markers_select_scenarios(pytester: pytest.Pytester) -> None:
    suite = ("--dicom-peer", "builtin", "--dicom-select", "acceptor/re*", "--collect-only", "-q")
    by_keyword = collected(run(pytester, *suite, "-k", "builtin and called"))
    by_marker = collected(run(pytester, *suite, "-m", "dicom_reject and dicom_must"))
    assert [node.split("::")[1] for node in by_keyword] == [
        "acceptor/reject/called-ae-unknown[builtin]"
    ]
    reject = [
        s.id for s in load_scenarios([SUITE_DIR / "acceptor" / "reject"]) if s.requirement == "MUST"
    ]
    assert sorted(node.split("::")[1] for node in by_marker) == sorted(
        f"{i}[builtin]" for i in reject
    )


def test_xdist_gives_the_outcomes_of_a_serial_run(project: pytest.Pytester) -> None:
    result = run(project, "-n", "2", *BOTH)
    result.assert_outcomes(**OUTCOMES)
    result.stdout.fnmatch_lines(["builtin: 1 failed, 1 non-strict, 1 passed, 1 unsupported;*"])


# -- JUnit --------------------------------------------------------------------------------

SCHEMA = Path(__file__).parent / "data" / "junit.xsd"


def test_junitxml_is_valid_and_carries_the_scenario_properties(project: pytest.Pytester) -> None:
    report = project.path / "junit.xml"
    run(project, "-o", "junit_family=xunit1", f"--junitxml={report}", *BOTH)
    document = etree.parse(str(report))
    etree.XMLSchema(etree.parse(str(SCHEMA))).assertValid(document)
    case = document.find(".//testcase[@name='acceptor/inline/fail[baselined]']")
    assert case is not None
    properties = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
    assert properties == {
        "dicom_id": "acceptor/inline/fail",
        "dicom_title": SCENARIOS["fail"][1],
        "dicom_references": "PS3.8 7.1.1; PS3.8 9.3.3",
        "dicom_requirement": "MUST",
        "dicom_sut_role": "acceptor",
        "dicom_peer": "baselined",
        "dicom_verdict": "xfail",
        "dicom_message": properties["dicom_message"],
        "dicom_cells": properties["dicom_cells"],
    }
    assert "expected A-ASSOCIATE-RJ" in properties["dicom_message"]
    assert case.find("skipped") is not None


# -- a real peer --------------------------------------------------------------------------


def test_dcmtk_storescp_gets_its_profile_outcomes(pytester: pytest.Pytester) -> None:
    require("dcmtk-storescp")
    result = run(
        pytester,
        "-rA",
        "--dicom-peer",
        "dcmtk-storescp",
        *("--dicom-select", "acceptor/reject/called-ae-unknown"),
        *("--dicom-select", "acceptor/reject/application-context-unknown"),
        *("--dicom-select", "acceptor/state-table/sta2-unknown-pdu"),
    )
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines_random(
        [
            "PASSED *::acceptor/reject/application-context-unknown[[]dcmtk-storescp[]]",
            "SKIPPED * the profile says the SUT lacks checks_called_ae",
            "XFAIL *::acceptor/state-table/sta2-unknown-pdu[[]dcmtk-storescp[]] - *",
        ]
    )


# -- configuration ------------------------------------------------------------------------


def test_a_project_without_dicom_options_sees_no_change(project: pytest.Pytester) -> None:
    project.makepyfile(test_plain="def test_one():\n    assert True\n")
    with_plugin = run(project, "--collect-only")
    without = run(project, "--collect-only", "-p", "no:dicom_harness")

    def stable(result: pytest.RunResult) -> list[str]:
        """The output without timings and the list of installed plugins."""
        return [
            re.sub(r" in [0-9.]+s", "", line)
            for line in result.outlines
            if not line.startswith("plugins:")
        ]

    assert stable(with_plugin) == stable(without)
    assert "1 test collected" in with_plugin.stdout.str()


def test_ini_options_configure_the_plugin_with_paths_from_the_ini_folder(
    project: pytest.Pytester,
) -> None:
    project.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        dicom_peer = ["peers/baselined.yaml"]
        dicom_select = ["acceptor/inline/pass"]
        dicom_strict = true
        dicom_timeout_scale = "2"
        """
    )
    project.path.joinpath("sub").mkdir()
    result = project.runpytest_subprocess(
        "-p", "no:cacheprovider", "--collect-only", str(project.path / "scenarios")
    )
    result.stdout.fnmatch_lines(
        [
            "dicom-ul-harness: baselined (timeout scale 2, strict)",
            "*<ScenarioFile pass.yaml>",
            "*<ScenarioItem acceptor/inline/pass[[]baselined[]]>",
        ]
    )
    assert result.ret == pytest.ExitCode.OK
