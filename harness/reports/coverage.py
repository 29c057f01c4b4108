"""The PS3.8 Table 9-10 coverage of a run as a terminal matrix: states down, events across.

``dicom-harness run --coverage-matrix`` (and the fuzzer) print it under the counts line.
Each of the 13 x 19 cells shows the action seen there (its name, the branch left out:
"AE-6"), ``!`` when the SUT only deviated from the table there, ``?`` when its reaction
was never seen, ``-`` a defined cell no scenario exercised, and ``.`` a blank cell of the
table (no action is defined, so nothing can be exercised there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from harness.fsm import ACTIONS, Event, State, cell
from harness.tracker import DEVIATED, UNOBSERVED

BLANK: Final = "."
NOT_EXERCISED: Final = "-"
_MARKS: Final = {DEVIATED: "!", UNOBSERVED: "?"}
_WIDTH: Final = max(len(name) for name in ACTIONS)

LEGEND: Final = (
    "action seen; ! deviated from the table; ? reaction not seen; "
    "- defined, not exercised; . blank in PS3.8 Table 9-10"
)


def coverage_line(coverage: Mapping[str, Any]) -> str:
    """The counts line: cells exercised of the defined ones and of the whole table."""
    return (
        f"PS3.8 Table 9-10 cells exercised: {coverage.get('cells_exercised', 0)} of "
        f"{coverage.get('cells_defined', 0)} defined ({coverage.get('cells_total', 0)} in "
        "the table)"
    )


def _mark(entry: Mapping[str, Any]) -> str:
    """One exercised cell: the name of an action seen there, else why there is none."""
    actions = [name for name in entry["actions"] if name not in _MARKS]
    if actions:
        return str(actions[0]).split(" ", 1)[0]
    return _MARKS[DEVIATED] if DEVIATED in entry["actions"] else _MARKS[UNOBSERVED]


def render_coverage(coverage: Mapping[str, Any]) -> str:
    """The matrix of a :func:`harness.runner.cell_coverage` record, with a legend line
    (no trailing newline)."""
    matrix: Mapping[str, Mapping[str, Mapping[str, Any]]] = coverage.get("matrix", {})
    label = max(len(state) for state in State)

    def row(first: str, columns: list[str]) -> str:
        return " ".join([first.ljust(label), *(text.ljust(_WIDTH) for text in columns)]).rstrip()

    lines = [row("", [event.removeprefix("Evt") for event in Event])]
    for state in State:
        exercised = matrix.get(state, {})
        lines.append(
            row(
                state,
                [
                    _mark(exercised[event])
                    if event in exercised
                    else NOT_EXERCISED
                    if cell(state, event) is not None
                    else BLANK
                    for event in Event
                ],
            )
        )
    lines.append(LEGEND)
    return "\n".join(lines)


def coverage_lines(coverage: Mapping[str, Any], matrix: bool) -> list[str]:
    """What ``run`` and ``fuzz`` print: the counts line, and the matrix with ``matrix``
    (``--coverage-matrix``)."""
    return [coverage_line(coverage), *([render_coverage(coverage)] if matrix else [])]
