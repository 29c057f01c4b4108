"""The pytest plugin ``dicom_harness``: the conformance suite as pytest items.

Registered through the ``pytest11`` entry point, it does nothing until a peer profile or
a target is configured (``--dicom-peer``/``--dicom-target`` or the ini values
``dicom_peer``/``dicom_target``). Then:

- every YAML scenario file under the paths pytest walks is collected (a file with a
  top-level ``steps:`` key; other YAML is left alone), and so is the shipped suite
  (or ``--dicom-suite DIR``) when pytest is run without path arguments;
- each scenario gives one item per configured profile of its SUT role, named
  ``<scenario id>[<profile>]``, marked ``dicom_<area>``, ``dicom_<must|should|may>`` and
  ``dicom_<acceptor|requestor>``; ``--dicom-select GLOB`` filters as the CLI's ``--select``;
- verdicts map to outcomes (DESIGN.md, "Verdicts"): passed and informational pass,
  failed and error fail with the requirement, the message and the transcript, unsupported
  skips, a baseline's xfail is pytest's xfail and a stale one fails as ``XPASS(strict)``,
  non-strict passes with a :class:`DicomNonStrictWarning` (and fails under
  ``--dicom-strict``);
- each test case carries the scenario's references, requirement and verdict as
  ``user_properties``, which ``--junitxml`` writes as ``<property>`` elements of the
  ``<testcase>`` (valid in the ``xunit1`` family: set ``junit_family = xunit1``).

Each pytest process (each xdist worker) starts its own SUTs, on free ports, at their
first scenario. Nothing heavy is imported before the plugin is active.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest_session import (
    add_options,
    close_session,
    session_of,
    settings_of,
    start_session,
)

if TYPE_CHECKING:
    from harness.profile import Address, Profile
    from harness.results import ScenarioResult
    from harness.scenario import Scenario

#: A top-level ``steps:`` key: the cheap sign of a scenario file (profiles have none).
_SCENARIO_FILE = re.compile(rb"^steps\s*:", re.MULTILINE)
_LEVELS = ("must", "should", "may")
_ROLES = ("acceptor", "requestor")


class DicomNonStrictWarning(UserWarning):
    """A scenario's verdict is non-strict: a SHOULD not honoured, or a permitted but
    weaker path; ``--dicom-strict`` makes it a failure."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``dicom`` option group, each option also an ini value."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the fixtures; when a peer or target is configured, start the session
    (profiles loaded now, so a bad one is a usage error), register the markers and add
    the suite to a run without path arguments."""
    config.pluginmanager.import_plugin("harness.pytest_fixtures")
    settings = settings_of(config)
    if not settings.active:
        return
    start_session(config, settings).profiles()
    config.stash[_TALLY] = _Tally()
    config.pluginmanager.register(config.stash[_TALLY], "dicom_harness_tally")
    for level in _LEVELS:
        _register_marker(config, f"dicom_{level}", f"scenarios of requirement level {level}")
    for role in _ROLES:
        _register_marker(config, f"dicom_{role}", f"scenarios whose SUT is the {role}")
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args.append(str(_suite_dir(settings.suite)))


def _suite_dir(configured: Path | None) -> Path:
    """``--dicom-suite``, else the shipped suite; a missing folder is a usage error, so a
    run never goes green having run none of it (the suite ships with a checkout
    installed by ``pip install -e``, not inside a wheel)."""
    from harness import SUITE_DIR

    suite = configured or SUITE_DIR
    if not suite.is_dir():
        raise pytest.UsageError(
            f"--dicom-suite {suite}: no such folder (install the harness from its checkout "
            "with pip install -e, or give --dicom-suite DIR)"
        )
    return suite


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop every SUT this process started."""
    close_session(config)
    tally = config.stash.get(_TALLY, None)
    if tally is not None:
        config.pluginmanager.unregister(tally)
        del config.stash[_TALLY]


def pytest_report_header(config: pytest.Config) -> str | None:
    """One line naming the SUTs, when the plugin is active."""
    if _TALLY not in config.stash:
        return None
    session = session_of(config)
    names = ", ".join(p.name for p in session.profiles())
    strict = ", strict" if session.settings.strict else ""
    return f"dicom-ul-harness: {names} (timeout scale {session.settings.timeout_scale:g}{strict})"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A YAML scenario file, when the plugin is active."""
    if file_path.suffix not in (".yaml", ".yml") or _TALLY not in parent.config.stash:
        return None
    if not _SCENARIO_FILE.search(file_path.read_bytes()):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _register_marker(config: pytest.Config, name: str, text: str) -> None:
    """Declare ``name`` (so ``--strict-markers`` accepts it) unless it is declared."""
    if not any(line.split(":", 1)[0].strip() == name for line in config.getini("markers")):
        config.addinivalue_line("markers", f"{name}: {text}")


def markers_of(scenario: Scenario) -> list[str]:
    """``dicom_<area>`` (``acceptor/reject/x`` -> ``dicom_reject``), the requirement
    level and the SUT role, as marker names."""
    parts = scenario.id.split("/")
    area = [f"dicom_{parts[1].replace('-', '_')}"] if len(parts) > 2 else []
    return [*area, f"dicom_{str(scenario.requirement).lower()}", f"dicom_{scenario.sut_role}"]


class ScenarioFile(pytest.File):
    """One scenario file: an item per configured profile of the scenario's SUT role."""

    def collect(self) -> Iterator[ScenarioItem]:
        from harness.runner import select
        from harness.scenario import load_scenario
        from harness.yamlsrc import SourceError

        session = session_of(self.config)
        try:
            scenario = load_scenario(self.path)
        except SourceError as exc:  # shown as file:line: field: message, no traceback
            raise self.CollectError(str(exc)) from None
        if not select([scenario], session.settings.select):
            return
        for profile in session.profiles():
            if profile.sut_role == scenario.sut_role:
                name = f"{scenario.id}[{profile.name}]"
                yield ScenarioItem.from_parent(self, name=name, scenario=scenario, profile=profile)


class ScenarioItem(pytest.Item):
    """One scenario against one profile (PS3.8 conformance per DESIGN.md, "Verdicts")."""

    def __init__(self, *, scenario: Scenario, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.profile = profile
        self.address: Address | None = None
        for marker in markers_of(scenario):
            _register_marker(self.config, marker, "DICOM scenarios of this area")
            self.add_marker(marker)
        self.user_properties += [
            ("dicom_id", scenario.id),
            ("dicom_title", scenario.title),
            ("dicom_references", "; ".join(scenario.references)),
            ("dicom_requirement", str(scenario.requirement)),
            ("dicom_sut_role", scenario.sut_role),
            ("dicom_peer", profile.name),
        ]

    def setup(self) -> None:
        """The profile's SUT, started (and sanity-checked) at its first scenario; if it
        cannot be, every scenario of the profile is an error with the reason."""
        from harness.errors import HarnessError

        try:
            self.address = session_of(self.config).address(self.profile)
        except (HarnessError, OSError) as exc:
            message = f"{self.profile.name}: the SUT is not usable: {exc}"
            raise pytest.fail.Exception(message, pytrace=False) from None

    def runtest(self) -> None:
        """Run the scenario and map its verdict to the pytest outcome."""
        from harness.runner import run_scenario

        assert self.address is not None  # setup() succeeded
        session = session_of(self.config)
        result = run_scenario(self.scenario, self.profile, self.address, session.options())
        self.user_properties += [
            ("dicom_verdict", str(result.verdict)),
            ("dicom_message", result.message[:300]),
            ("dicom_cells", " ".join(f"{state}/{event}" for state, event, _ in result.cells)),
        ]
        _judge(result, self.path)

    def reportinfo(self) -> tuple[Path, int, str]:
        """The scenario file and the scenario id with the profile."""
        return self.path, 0, self.name


def _judge(result: ScenarioResult, path: Path) -> None:
    """Verdict -> pytest outcome (the module docstring has the table); a warning is
    shown at the scenario file ``path``."""
    from harness.results import Verdict

    verdict = result.verdict
    if verdict is Verdict.NON_STRICT:
        warning = DicomNonStrictWarning(f"{result.id}: {result.message}")
        warnings.warn_explicit(warning, DicomNonStrictWarning, str(path), 1)
    elif verdict is Verdict.UNSUPPORTED:
        # Reported at the scenario file, as a skip mark's is (not at this line).
        raise pytest.skip.Exception(f"unsupported: {result.message}", _use_item_location=True)
    elif verdict is Verdict.XFAIL:
        pytest.xfail(f"{result.baseline_reason} ({result.message})")
    elif verdict in (Verdict.FAILED, Verdict.ERROR, Verdict.XPASS):
        pytest.fail(failure_text(result), pytrace=False)


def failure_text(result: ScenarioResult) -> str:
    """What a failed item shows: the verdict, the scenario and its requirement, expected
    versus actual, and the transcript one PDU per line."""
    from harness.reports.junit import result_details
    from harness.results import Verdict

    head = "[XPASS(strict)] " if result.verdict is Verdict.XPASS else ""
    return f"{head}{result.id} [{result.peer}]\n{result_details(result)}"


class _Tally:
    """Verdicts and Table 9-10 cells per profile, from the reports (xdist's included);
    registered as a plugin while the harness is active."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Counter[str]] = {}
        self.cells: dict[str, set[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count each scenario's verdict once (its call phase)."""
        properties = {name: str(value) for name, value in report.user_properties}
        if report.when == "call" and "dicom_verdict" in properties:
            peer = properties["dicom_peer"]
            self.verdicts.setdefault(peer, Counter())[properties["dicom_verdict"]] += 1
            self.cells.setdefault(peer, set()).update(properties["dicom_cells"].split())

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Per profile: the verdict counts and the state-table cells exercised."""
        from harness.reports.coverage import coverage_line
        from harness.runner import CELLS_DEFINED, CELLS_TOTAL

        if not self.verdicts:
            return
        terminalreporter.write_sep("-", "DICOM verdicts")
        for peer, counts in sorted(self.verdicts.items()):
            verdicts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items()))
            cells = {
                "cells_exercised": len(self.cells[peer]),
                "cells_defined": CELLS_DEFINED,
                "cells_total": CELLS_TOTAL,
            }
            terminalreporter.write_line(f"{peer}: {verdicts}; {coverage_line(cells)}")


_TALLY = pytest.StashKey[_Tally]()
