"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from harness.profile import Profile, load_profile
from harness.reference import AcceptorFactory, ReferenceServer, config_from_mapping
from harness.reports.run import RunReport
from harness.runner import RunOptions, run_suite
from harness.scenario import Scenario, load_scenarios

pytest_plugins = ["pytester"]


@pytest.fixture
def reference_scp() -> Iterator[tuple[str, int]]:
    """The (host, port) of a started built-in reference SCP with the default config."""
    with ReferenceServer() as server:
        yield server.address


SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="session")
def acceptor_suite() -> list[Scenario]:
    """Every acceptor-side scenario shipped in scenarios/."""
    return [s for s in load_scenarios([SCENARIOS]) if s.sut_role == "acceptor"]


@pytest.fixture
def run_acceptor_suite(acceptor_suite: list[Scenario], tmp_path: Path) -> Callable[..., RunReport]:
    """Run the acceptor suite against a profile; the report's results, sorted by id."""

    def run(
        profile: Profile, scenarios: list[Scenario] | None = None, into: RunReport | None = None
    ) -> RunReport:
        report = RunReport(sut={}, suite_version="test") if into is None else into
        options = RunOptions(jobs=8, workdir=tmp_path)
        chosen = acceptor_suite if scenarios is None else scenarios
        return run_suite(chosen, profile, report, options)

    return run


BUILTIN_PROFILES = ("builtin", "builtin-slow-user", "builtin-releasing")
"""The built-in SCP profiles the acceptor suite runs against in the tests."""


def builtin_profile_for(scenario: Scenario) -> str:
    """The built-in SCP profile an acceptor scenario runs against in the tests:
    peers/builtin-releasing.yaml for a scenario that needs the SUT to release by itself
    (``initiates_release``: Sta10, Sta12), peers/builtin-slow-user.yaml for one that needs
    its user to hold its answers (``slow_user``: Sta3, Sta8), peers/builtin.yaml for the
    others: those behaviours would slow every other association down."""
    if "initiates_release" in scenario.requires:
        return "builtin-releasing"
    return "builtin-slow-user" if "slow_user" in scenario.requires else "builtin"


@pytest.fixture(scope="session")
def requestor_suite() -> list[Scenario]:
    """Every requestor-side scenario shipped in scenarios/."""
    return [s for s in load_scenarios([SCENARIOS]) if s.sut_role == "requestor"]


@pytest.fixture
def run_requestor_suite(
    requestor_suite: list[Scenario], tmp_path: Path
) -> Callable[..., RunReport]:
    """Run the requestor suite (or ``scenarios``) against a requestor profile."""

    def run(profile: Profile, scenarios: list[Scenario] | None = None) -> RunReport:
        report = RunReport(sut={}, suite_version="test")
        options = RunOptions(jobs=8, workdir=tmp_path)
        return run_suite(scenarios or requestor_suite, profile, report, options)

    return run


@pytest.fixture
def builtin_with(
    acceptor_suite: list[Scenario], run_acceptor_suite: Callable[..., RunReport]
) -> Callable[..., RunReport]:
    """Run the acceptor suite against the built-in peer made by ``factory``, one report.

    The peer runs with the settings of the profile :func:`builtin_profile_for` names for
    each scenario, for the scenarios of the ``profiles`` named (all by default); the
    harness waits at most 2 s for a reply, so a peer that stays silent where it should
    answer costs little.
    """

    def run(factory: AcceptorFactory, profiles: Sequence[str] = BUILTIN_PROFILES) -> RunReport:
        report = RunReport(sut={}, suite_version="test")
        for name in profiles:
            builtin = load_profile(name)
            config = config_from_mapping(builtin.ae_title, builtin.builtin or {})
            scenarios = [s for s in acceptor_suite if builtin_profile_for(s) == name]
            with ReferenceServer(config, factory, keep_transcripts=False) as server:
                profile = replace(
                    builtin,
                    builtin=None,
                    port=server.address[1],
                    timers={**builtin.timers, "reply": 2.0},
                )
                run_acceptor_suite(profile, scenarios, report)
        return report

    return run
