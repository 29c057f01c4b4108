"""The acceptor and requestor suites against real peers: verdicts must equal their baselines.

A baseline entry turns a known non-passing verdict into ``xfail``; anything else must
pass (or be unsupported, where the profile denies a capability). A new pass is an
``xpass`` and fails here until the baseline is updated. Under CI (``CI=true``) a peer
that is not installed fails the test instead of skipping it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from harness.profile import Profile, load_profile, running
from harness.reports.run import RunReport
from harness.results import Verdict
from harness.scenario import load_scenarios

#: What each profile needs on this machine, and how `make test` gets it.
NEEDS: dict[str, tuple[Callable[[], bool], str]] = {
    "builtin": (lambda: True, ""),
    "dcmtk-storescp": (
        lambda: shutil.which("storescp") is not None,
        "DCMTK's storescp is not installed (apt-get install dcmtk; `make test` does it)",
    ),
    "dcmtk-dcmqrscp": (
        lambda: shutil.which("dcmqrscp") is not None,
        "DCMTK's dcmqrscp is not installed (apt-get install dcmtk; `make test` does it)",
    ),
    "orthanc": (
        lambda: shutil.which("/usr/sbin/Orthanc") is not None,
        "Orthanc is not installed (apt-get install orthanc; `make test` does it)",
    ),
    "pynetdicom-scp": (
        lambda: importlib.util.find_spec("pynetdicom") is not None,
        "pynetdicom is not installed (pip install -e '.[test]'; `make test` does it)",
    ),
}


#: The same for the requestor profiles (the SUT connects to the harness).
REQUESTOR_NEEDS: dict[str, tuple[Callable[[], bool], str]] = {
    "builtin-scu": (lambda: True, ""),
    "dcmtk-echoscu": (
        lambda: shutil.which("echoscu") is not None,
        "DCMTK's echoscu is not installed (apt-get install dcmtk; `make test` does it)",
    ),
    "pynetdicom-scu": (
        lambda: importlib.util.find_spec("pynetdicom") is not None,
        "pynetdicom is not installed (pip install -e '.[test]'; `make test` does it)",
    ),
    "dcmtk-storescu": (
        lambda: shutil.which("storescu") is not None,
        "DCMTK's storescu is not installed (apt-get install dcmtk; `make test` does it)",
    ),
}


def require(name: str) -> Profile:
    """The profile, once its implementation is known to be installed."""
    available, message = {**NEEDS, **REQUESTOR_NEEDS}[name]
    if not available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name}: {message}")
        pytest.skip(f"{name}: {message}")
    return load_profile(name)


def assert_verdicts_equal_the_baseline(profile: Profile, report: RunReport) -> None:
    """Every result passed, unsupported or xfail, and the xfails are exactly the baseline."""
    unexpected = {
        r.id: f"{r.verdict}: {r.message}"
        for r in report.results
        if r.verdict not in (Verdict.PASSED, Verdict.UNSUPPORTED, Verdict.XFAIL)
    }
    assert unexpected == {}
    assert {r.id for r in report.results if r.verdict is Verdict.XFAIL} == set(profile.baseline)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_acceptor_suite_verdicts_equal_the_peer_baseline(
    name: str, run_acceptor_suite: Callable[[Profile], RunReport]
) -> None:
    profile = require(name)
    assert_verdicts_equal_the_baseline(profile, run_acceptor_suite(profile))


@pytest.mark.parametrize("name", sorted(REQUESTOR_NEEDS))
def test_requestor_suite_verdicts_equal_the_peer_baseline(
    name: str, run_requestor_suite: Callable[[Profile], RunReport]
) -> None:
    profile = require(name)
    assert_verdicts_equal_the_baseline(profile, run_requestor_suite(profile))


# -- what the real peers' profiles rely on --------------------------------------------------


def test_start_files_may_create_folders_for_the_peer(tmp_path: Path) -> None:
    """dcmqrscp needs its storage folder to exist: a file name with folders creates them."""
    listen = "import socket, time; s = socket.create_server(('127.0.0.1', {port})); time.sleep(60)"
    profile = Profile(
        name="listener",
        sut_role="acceptor",
        ae_title="LISTENER",
        command=("{python}", "-c", listen),
        files={"db/README": "storage of {ae_title} on port {port}\n", "top.cfg": "{workdir}"},
    )
    with running(profile, tmp_path) as address:
        readme = (tmp_path / "db" / "README").read_text()
        assert readme == f"storage of LISTENER on port {address.port}\n"
        assert (tmp_path / "top.cfg").read_text() == str(tmp_path.resolve())


SLOW = """\
id: acceptor/serial/slow-{n}
title: Associate, stay quiet, release
references: ["PS3.8 7.1"]
requirement: MUST
sut_role: acceptor
steps:
  - associate: {{}}
  - wait: 0.4
  - release: {{}}
"""


def test_max_jobs_caps_jobs_for_a_peer_that_serves_one_association_at_a_time(
    tmp_path: Path, run_acceptor_suite: Callable[..., RunReport]
) -> None:
    """Orthanc and dcmqrscp answer RQs one at a time: ``max_jobs: 1`` runs them serially."""
    for n in range(4):
        (tmp_path / f"slow-{n}.yaml").write_text(SLOW.format(n=n))
    scenarios = load_scenarios([tmp_path])
    profile = replace(load_profile("builtin"), max_jobs=1)
    report = run_acceptor_suite(profile, scenarios)  # with --jobs 8
    assert [r.verdict for r in report.results] == [Verdict.PASSED] * 4
    assert sum(r.duration_s for r in report.results) <= report.duration_s
