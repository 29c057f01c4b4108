"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

    def run(profile: Profile, scenarios: list[Scenario] | None = None) -> RunReport:
        report = RunReport(sut={}, suite_version="test")
        options = RunOptions(jobs=8, workdir=tmp_path)
        return run_suite(scenarios or acceptor_suite, profile, report, options)

    return run


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
    run_acceptor_suite: Callable[..., RunReport],
) -> Callable[[AcceptorFactory], RunReport]:
    """Run the acceptor suite against the built-in peer made by ``factory``.

    The peer runs with the settings of peers/builtin.yaml; the harness waits at most
    2 s for a reply, so a peer that stays silent where it should answer costs little.
    """
    builtin = load_profile("builtin")
    config = config_from_mapping(builtin.ae_title, builtin.builtin or {})

    def run(factory: AcceptorFactory) -> RunReport:
        with ReferenceServer(config, factory, keep_transcripts=False) as server:
            profile = replace(
                builtin,
                builtin=None,
                port=server.address[1],
                timers={**builtin.timers, "reply": 2.0},
            )
            return run_acceptor_suite(profile)

    return run
