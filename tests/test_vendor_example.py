"""The vendor project in examples/vendor-ci runs green as a vendor's CI would run it.

A copy of the project (no reports, no caches: a clean checkout) is run with plain
``python -m pytest`` in its own folder, so its ``[tool.pytest.ini_options]`` configure the
installed ``dicom_harness`` plugin: the shipped acceptor suite against the project's own
profile (the built-in reference SCP, which passes every scenario), plus its hand-written
tests, with the JUnit XML its ``addopts`` ask for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from harness.profile import load_profile
from harness.scenario import Scenario

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vendor-ci"
JUNIT_XSD = Path(__file__).parent / "data" / "junit.xsd"
HAND_WRITTEN = 4  # tests/test_my_device.py: two calling AE titles, two rejections
DEADLINE_S = 120


@dataclass(frozen=True)
class VendorRun:
    """One pytest run of the copied project: exit code, output, its folder."""

    returncode: int
    output: str
    folder: Path

    def counts(self) -> dict[str, int]:
        """The final summary line's counts (``111 passed, 2 skipped in 3.4s``)."""
        summary = self.output.strip().splitlines()[-1]
        return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}


def run_the_example(folder: Path) -> VendorRun:
    """``python -m pytest`` in a copy of the example at ``folder``, without this run's
    pytest settings (xdist's worker variables included)."""
    shutil.copytree(
        EXAMPLE, folder, ignore=shutil.ignore_patterns("reports", "__pycache__", ".pytest_cache")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    return VendorRun(done.returncode, done.stdout + done.stderr, folder)


def test_the_example_runs_green_and_reports_junit_properties(
    tmp_path: Path, acceptor_suite: list[Scenario]
) -> None:
    """Exit 0 with every acceptor scenario and hand-written test passed, but those that
    require a capability the profile denies, skipped (nothing failed or errored);
    reports/dicom.xml (the project's addopts) has a test case per item, and each
    scenario's case carries its id, references, requirement and verdict."""
    run = run_the_example(tmp_path / "vendor-ci")

    denied = len(unsupported(acceptor_suite))
    assert run.returncode == 0, run.output
    assert run.counts() == {
        "passed": len(acceptor_suite) - denied + HAND_WRITTEN,
        "skipped": denied,
    }, run.output
    assert "my-scp: " in run.output  # the plugin's verdict summary names the profile
    assert_junit_properties(run.folder / "reports" / "dicom.xml", acceptor_suite)


def unsupported(acceptor_suite: list[Scenario]) -> set[str]:
    """The scenarios requiring a capability the example's profile denies (skipped)."""
    profile = load_profile(str(EXAMPLE / "my-scp.yaml"))
    return {s.id for s in acceptor_suite if any(profile.lacks(name) for name in s.requires)}


def assert_junit_properties(path: Path, acceptor_suite: list[Scenario]) -> None:
    """The file validates against the JUnit schema; every item is a passed (or, when its
    capability is denied, unsupported) test case; the scenarios' cases carry their
    metadata as ``<property>`` elements, the hand-written tests' cases none."""
    document = etree.parse(str(path))
    etree.XMLSchema(etree.parse(str(JUNIT_XSD))).assertValid(document)
    suite = document.getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    cases = suite.findall("testcase")
    assert len(cases) == len(acceptor_suite) + HAND_WRITTEN
    properties = {
        case.get("name", ""): {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        for case in cases
    }
    by_id = {s.id: s for s in acceptor_suite}
    scenario_cases = {name: props for name, props in properties.items() if props}
    assert len(scenario_cases) == len(acceptor_suite)
    denied = unsupported(acceptor_suite)
    for props in scenario_cases.values():
        scenario = by_id[props["dicom_id"]]
        assert props["dicom_references"] == "; ".join(scenario.references)
        assert props["dicom_requirement"] == str(scenario.requirement)
        wanted = ("unsupported",) if scenario.id in denied else ("passed", "informational")
        assert props["dicom_verdict"] in wanted
    hand_written = [name for name, props in properties.items() if not props]
    assert len(hand_written) == HAND_WRITTEN
    assert all(name.startswith("test_") for name in hand_written)
