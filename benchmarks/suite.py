"""Wall time of the whole acceptor suite against DCMTK storescp, and the harness's own CPU.

Run ``.venv/bin/python benchmarks/suite.py [--timeout-scale X] [--peer NAME]``. The suite
runs twice in the same process against the same peer, with ``--jobs 1`` and ``--jobs 8``;
the table gives each wall time, the harness's CPU time (this process only: the peer runs
in its own processes), the CPU per scenario, and the ratios against the targets:

- the whole suite in 10 s or less with ``--jobs 8`` (timers scaled by ``--timeout-scale``);
- the harness's CPU under 20 % of the wall time.

Most of a run is waiting on purpose: ARTIM expiries and silence checks, which ``--jobs``
overlaps. The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import SUITE_DIR
from harness.profile import load_profile
from harness.reports.run import RunReport
from harness.results import summarize
from harness.runner import RunOptions, run_suite
from harness.scenario import load_scenarios

WALL_TARGET_S = 10.0
CPU_SHARE_TARGET = 0.20


@dataclass(frozen=True)
class Measure:
    """One run of the suite: its jobs, wall and CPU seconds, and verdict counts."""

    jobs: int
    wall: float
    cpu: float
    scenarios: int
    summary: dict[str, int]

    @property
    def cpu_share(self) -> float:
        return self.cpu / self.wall if self.wall else 0.0


def measure(peer: str, jobs: int, scale: float) -> Measure:
    """Run the acceptor suite once against ``peer`` with ``jobs`` threads."""
    profile = load_profile(peer)
    scenarios = [s for s in load_scenarios([SUITE_DIR]) if s.sut_role == profile.sut_role]
    with tempfile.TemporaryDirectory() as workdir:
        options = RunOptions(timeout_scale=scale, jobs=jobs, workdir=Path(workdir))
        report = RunReport(sut={}, suite_version="benchmark")
        wall, cpu = time.perf_counter(), time.process_time()
        run_suite(scenarios, profile, report, options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Measure(jobs, wall, cpu, len(report.results), summarize(report.results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", default="dcmtk-storescp")
    parser.add_argument("--timeout-scale", type=float, default=1.0)
    args = parser.parse_args()
    serial = measure(args.peer, 1, args.timeout_scale)
    parallel = measure(args.peer, 8, args.timeout_scale)
    print(f"acceptor suite against {args.peer}, --timeout-scale {args.timeout_scale:g}")
    print(f"{'jobs':>4} {'scenarios':>9} {'wall s':>8} {'cpu s':>7} {'cpu/scenario ms':>16}")
    for run in (serial, parallel):
        per = 1000 * run.cpu / max(run.scenarios, 1)
        print(f"{run.jobs:>4} {run.scenarios:>9} {run.wall:>8.2f} {run.cpu:>7.2f} {per:>16.1f}")
    print()
    speedup = serial.wall / parallel.wall
    wall_ok = "PASS" if parallel.wall <= WALL_TARGET_S else "MISS"
    cpu_ok = "PASS" if parallel.cpu_share < CPU_SHARE_TARGET else "MISS"
    print(f"jobs 1 / jobs 8 wall time: {speedup:.2f}x")
    print(
        f"jobs 8 wall / target {WALL_TARGET_S:g} s: {parallel.wall / WALL_TARGET_S:.2f}  {wall_ok}"
    )
    print(
        f"harness cpu / wall (jobs 8): {parallel.cpu_share:.1%} "
        f"(target < {CPU_SHARE_TARGET:.0%})  {cpu_ok}"
    )
    print(f"harness cpu / wall (jobs 1): {serial.cpu_share:.1%}")
    print(f"verdicts (jobs 8): { {k: v for k, v in parallel.summary.items() if v} }")


if __name__ == "__main__":
    main()
