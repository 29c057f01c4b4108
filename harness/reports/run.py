"""The record of one run, as the JSON report contract of DESIGN.md describes it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness import __version__
from harness.profile import Address, Profile
from harness.reports import write_atomically
from harness.results import ScenarioResult, summarize


def sut_record(profile: Profile, address: Address) -> dict[str, Any]:
    """The report's ``sut`` block: the profile and the SUT's role; where an acceptor
    listens, or the command (templates unfilled: each scenario has its own port) that
    makes a requestor connect to us, and the AE title it must call (PS3.8 7.1.1.3)."""
    record: dict[str, Any] = {
        "name": profile.name,
        "role": profile.sut_role,
        "ae_title": profile.ae_title,
    }
    if profile.sut_role == "requestor":
        record["trigger"] = list(profile.trigger)
        record["called_ae_title"] = profile.harness_ae_title
    else:
        record.update(host=address.host, port=address.port)
    record["profile"] = profile.path
    return record


@dataclass
class RunReport:
    """Everything a report needs: the SUT, the timing, the results and the coverage."""

    sut: dict[str, Any]
    suite_version: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    results: list[ScenarioResult] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        """The contract keys, in the contract's order."""
        return {
            "harness_version": __version__,
            "suite_version": self.suite_version,
            "sut": self.sut,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_s": round(self.duration_s, 3),
            "summary": summarize(self.results),
            "results": [result.to_json() for result in self.results],
            "coverage": self.coverage,
            "interrupted": self.interrupted,
        }


def write_json(report: RunReport, path: str) -> None:
    """Write the JSON report (UTF-8, indented, atomically)."""
    write_atomically(path, json.dumps(report.to_json(), indent=2) + "\n")
