"""Verdicts and results: what a run produced, independent of how it is reported.

Verdicts (DESIGN.md, "Verdicts"): ``passed``, ``non-strict`` (a SHOULD not honoured, or a
permitted but weaker path), ``informational``, ``unsupported`` (a required capability or
negotiation absent), ``xfail`` / ``xpass`` (against the profile's baseline), ``failed``,
``error`` (the harness or the network, not the SUT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """The outcome of one scenario against one SUT."""

    PASSED = "passed"
    NON_STRICT = "non-strict"
    INFORMATIONAL = "informational"
    UNSUPPORTED = "unsupported"
    XFAIL = "xfail"
    XPASS = "xpass"
    FAILED = "failed"
    ERROR = "error"

    @property
    def is_failure(self) -> bool:
        """Whether this verdict makes the run exit with code 1 (xpass: stale baseline)."""
        return self in (Verdict.FAILED, Verdict.XPASS, Verdict.ERROR)


class Requirement(StrEnum):
    """How strongly the standard asks for the checked behaviour."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def verdict_when_unmet(self) -> Verdict:
        """What a mismatch means at this level: MUST fails, SHOULD is non-strict, MAY informs."""
        return {
            Requirement.MUST: Verdict.FAILED,
            Requirement.SHOULD: Verdict.NON_STRICT,
            Requirement.MAY: Verdict.INFORMATIONAL,
        }[self]


@dataclass
class ScenarioResult:
    """One scenario run against one SUT; ``transcript`` is a list of JSON-able entries."""

    id: str
    title: str
    references: list[str]
    requirement: str
    sut_role: str
    verdict: Verdict
    message: str = ""
    duration_s: float = 0.0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    transcript_text: str = ""
    cells: list[tuple[str, str, str]] = field(default_factory=list)
    """PS3.8 Table 9-10 cells the SUT went through: (state, event, action observed)."""
    teardown: dict[str, Any] = field(default_factory=dict)
    peer: str = ""
    baseline_reason: str = ""

    @property
    def folder(self) -> str:
        """The scenario's group: its id without the last component (JUnit classname)."""
        return self.id.rsplit("/", 1)[0] if "/" in self.id else self.id

    def to_json(self) -> dict[str, Any]:
        """The per-result keys of the JSON report contract (DESIGN.md)."""
        return {
            "id": self.id,
            "title": self.title,
            "references": list(self.references),
            "requirement": self.requirement,
            "sut_role": self.sut_role,
            "verdict": str(self.verdict),
            "message": self.message,
            "duration_s": round(self.duration_s, 6),
            "transcript": self.transcript,
            "cells": [list(cell) for cell in self.cells],
            "teardown": self.teardown,
            "peer": self.peer,
            "baseline_reason": self.baseline_reason,
        }


def summarize(results: list[ScenarioResult]) -> dict[str, int]:
    """Counts per verdict, every verdict present (zero where none)."""
    counts = {str(v): 0 for v in Verdict}
    for result in results:
        counts[str(result.verdict)] += 1
    return counts
