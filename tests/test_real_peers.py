"""The acceptor suite against real implementations: verdicts must equal their baselines.

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

import pytest

from harness.profile import Profile, load_profile
from harness.reports.run import RunReport
from harness.results import Verdict

#: What each profile needs on this machine, and how `make test` gets it.
NEEDS: dict[str, tuple[Callable[[], bool], str]] = {
    "builtin": (lambda: True, ""),
    "dcmtk-storescp": (
        lambda: shutil.which("storescp") is not None,
        "DCMTK's storescp is not installed (apt-get install dcmtk; `make test` does it)",
    ),
    "pynetdicom-scp": (
        lambda: importlib.util.find_spec("pynetdicom") is not None,
        "pynetdicom is not installed (pip install -e '.[test]'; `make test` does it)",
    ),
}


def require(name: str) -> Profile:
    """The profile, once its implementation is known to be installed."""
    available, message = NEEDS[name]
    if not available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name}: {message}")
        pytest.skip(f"{name}: {message}")
    return load_profile(name)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_acceptor_suite_verdicts_equal_the_peer_baseline(
    name: str, run_acceptor_suite: Callable[[Profile], RunReport]
) -> None:
    profile = require(name)
    report = run_acceptor_suite(profile)
    unexpected = {
        r.id: f"{r.verdict}: {r.message}"
        for r in report.results
        if r.verdict not in (Verdict.PASSED, Verdict.UNSUPPORTED, Verdict.XFAIL)
    }
    assert unexpected == {}
    assert {r.id for r in report.results if r.verdict is Verdict.XFAIL} == set(profile.baseline)
