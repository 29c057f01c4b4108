"""A comparison matrix of one run over several peers: scenario ids down, peers across.

``dicom-harness run --peer A --peer B ...`` prints it after the summary, so the peers'
verdicts for one scenario can be read on one line. Cells are compact verdict names;
upper case marks the verdicts that make the run fail (``FAIL``, ``XPASS``, ``ERROR``),
``-`` a scenario a peer did not run (another role, or an interrupted run), and ``*`` at
the end of a row a scenario whose verdicts are not all the same.
"""

from __future__ import annotations

from harness.reports.run import RunReport
from harness.results import Verdict

#: The cell text of each verdict: short, and shouting where the run fails.
CELL: dict[Verdict, str] = {
    Verdict.PASSED: "pass",
    Verdict.NON_STRICT: "non-strict",
    Verdict.INFORMATIONAL: "info",
    Verdict.UNSUPPORTED: "unsup",
    Verdict.XFAIL: "xfail",
    Verdict.XPASS: "XPASS",
    Verdict.FAILED: "FAIL",
    Verdict.ERROR: "ERROR",
}
MISSING = "-"
DIFFERS = "*"


def peers_of(report: RunReport) -> list[str]:
    """The peers of the report's results, in the order they first appear."""
    return list(dict.fromkeys(result.peer for result in report.results))


def render_matrix(report: RunReport) -> str:
    """The matrix as text (no trailing newline); empty when the report has no result."""
    peers = peers_of(report)
    if not peers:
        return ""
    cells: dict[str, dict[str, str]] = {}
    for result in report.results:
        cells.setdefault(result.id, {})[result.peer] = CELL[result.verdict]
    ids = sorted(cells)
    id_width = max(len("scenario"), *(len(i) for i in ids))
    widths = [max(len(peer), *(len(c) for c in CELL.values())) for peer in peers]

    def line(first: str, columns: list[str], mark: str = "") -> str:
        row = "  ".join(text.ljust(width) for text, width in zip(columns, widths, strict=True))
        return f"{first.ljust(id_width)}  {row}  {mark}".rstrip()

    lines = [line("scenario", peers)]
    for scenario in ids:
        row = [cells[scenario].get(peer, MISSING) for peer in peers]
        lines.append(line(scenario, row, DIFFERS if len(set(row)) > 1 else ""))
    return "\n".join(lines)
