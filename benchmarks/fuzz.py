"""Hostile cases per second of ``dicom-harness fuzz`` against the built-in reference SCP.

Run ``.venv/bin/python benchmarks/fuzz.py [--examples N] [--seed N]``. A hostile case is
one fuzz example (one or more connections, up to 8 moves) that sent at least one PDU
whose bytes break a PS3.8 rule (:attr:`harness.fuzz_strategies.Move.hostile`), with the
SUT's reaction to every move judged against Table 9-10 and the liveness association
(associate, C-ECHO, release) done after it. Examples without a hostile move are run and
timed but not counted. Two SUTs:

- ``in-process``: the built-in SCP on a thread of this process (``--peer builtin``);
- ``process``: the same SCP in its own process (``dicom-harness simulate scp``).

The table gives the examples, the hostile cases, the wall time and its share per example,
this process's CPU time (for ``in-process`` it includes the SCP's), the SUT process's CPU
time (``process`` only), and hostile cases per second against the target of 200/s. The
load average before the runs is printed too: other work on the machine slows the wall
times, not the CPU times. The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.fuzz import FuzzOptions, FuzzReport, run_fuzz
from harness.profile import Profile, load_profile

TARGET_PER_S = 200.0
_SIMULATOR = Path(__file__).resolve().parent.parent / "examples" / "simulator" / "accept.yaml"


@dataclass(frozen=True)
class Measure:
    """One fuzz run: its counts and times."""

    sut: str
    examples: int
    hostile: int
    wall: float
    cpu: float
    sut_cpu: float | None
    """CPU time of the SUT's own process (None: it ran in this one)."""
    findings: int

    @property
    def per_second(self) -> float:
        return self.hostile / self.wall if self.wall else 0.0


def measure(sut: str, profile: Profile, examples: int, seed: int, out: Path) -> Measure:
    """Fuzz ``profile`` for ``examples`` examples and time it."""
    options = FuzzOptions(max_examples=examples, out=out / sut)
    report = FuzzReport(sut={}, seed=seed)
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    run_fuzz(profile, options, report)
    return Measure(
        sut,
        report.examples,
        report.hostile_cases,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        _children_cpu() - children if profile.command else None,
        len(report.findings),
    )


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the SUT process, once stopped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def simulator_profile(folder: Path) -> Profile:
    """The built-in SCP in its own process, started by the profile (simulate scp)."""
    document = {
        "name": "builtin-process",
        "sut_role": "acceptor",
        "ae_title": "SIMULATOR",
        "start": {
            "command": [
                "{python}",
                "-m",
                "harness",
                "simulate",
                "scp",
                "--profile",
                str(_SIMULATOR),
                "--port",
                "{port}",
                "--quiet",
            ]
        },
        "timers": {"reply": 5, "artim": 30, "silence": 0.4},
    }
    path = folder / "builtin-process.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_profile(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        measures = [
            measure("in-process", load_profile("builtin"), args.examples, args.seed, out),
            measure("process", simulator_profile(out), args.examples, args.seed, out),
        ]
    print(f"load average before the runs: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min)")
    print(
        "| SUT | examples | hostile cases | wall (per example) | CPU (this process) "
        "| CPU (SUT process) | hostile/s | target |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for m in measures:
        met = "met" if m.per_second >= TARGET_PER_S else "not met"
        sut_cpu = "-" if m.sut_cpu is None else f"{m.sut_cpu:.1f} s"
        print(
            f"| {m.sut} | {m.examples} | {m.hostile} "
            f"| {m.wall:.1f} s ({1000 * m.wall / max(m.examples, 1):.1f} ms) | {m.cpu:.1f} s "
            f"| {sut_cpu} | {m.per_second:.0f} | >= {TARGET_PER_S:.0f} ({met}) |"
        )
        if m.findings:
            print(f"  ({m.findings} finding(s): a defect in the built-in SCP or the fuzzer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
