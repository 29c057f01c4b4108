"""``dicom-harness fuzz``: stateful fuzzing of a SUT through PS3.8 Table 9-10.

``dicom-harness fuzz (--peer PROFILE | --target HOST:PORT [--called-ae AE])
[--max-examples N] [--seed N] [--deadline S] [--timeout-scale X] [--silence S]
[--steps N] [--artim] [--out DIR] [--json FILE] [--coverage-min N|N%]`` runs
:mod:`harness.fuzz` and writes each finding as a scenario under ``--out``.

Exit codes as ``run``: 0 no finding, 1 a finding (or coverage below ``--coverage-min``),
2 usage, 3 the SUT could not be started or failed its first sanity association, 130
interrupted (Ctrl-C or SIGTERM; the JSON report is still written). The heavy modules load
only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add ``fuzz`` to the ``dicom-harness`` subcommands (``add_subparsers()``)."""
    from harness.cli import _add_coverage_options

    fuzz = commands.add_parser("fuzz", help="fuzz a SUT through the PS3.8 state table")
    sut = fuzz.add_mutually_exclusive_group()
    sut.add_argument("--peer", action="append", default=[], metavar="PROFILE")
    sut.add_argument("--target", metavar="HOST:PORT", help="an SCP already listening")
    fuzz.add_argument("--called-ae", metavar="AE")
    fuzz.add_argument("--calling-ae", metavar="AE")
    fuzz.add_argument("--max-examples", type=int, default=200, metavar="N")
    fuzz.add_argument("--seed", type=int, metavar="N", help="replay a run (default: random)")
    fuzz.add_argument(
        "--deadline", type=float, metavar="S", help="stop cleanly after S seconds in all"
    )
    fuzz.add_argument("--timeout-scale", type=float, default=1.0, metavar="X")
    fuzz.add_argument(
        "--silence",
        type=float,
        default=0.02,
        metavar="S",
        help="seconds of no reaction that count as none (default 0.02, scaled)",
    )
    fuzz.add_argument("--steps", type=int, default=8, metavar="N", help="moves per example")
    fuzz.add_argument(
        "--artim", action="store_true", help="also wait for the SUT's ARTIM in Sta2 and Sta13"
    )
    fuzz.add_argument("--out", type=Path, default=Path("reports") / "fuzz", metavar="DIR")
    fuzz.add_argument("--json", metavar="FILE")
    _add_coverage_options(fuzz)
    fuzz.set_defaults(handler=cmd_fuzz, trigger=None)


def cmd_fuzz(args: argparse.Namespace) -> int:
    """Fuzz one SUT; print progress and a summary; write the JSON report (also when
    interrupted)."""
    from harness import cli
    from harness.fuzz import FuzzOptions, FuzzReport, new_seed, run_fuzz, write_report
    from harness.runner import SanityError

    if args.max_examples < 1 or args.steps < 1 or args.timeout_scale <= 0 or args.silence < 0:
        raise cli.UsageError(
            "--max-examples and --steps must be 1 or more, --timeout-scale above 0, "
            "--silence 0 or more"
        )
    profiles = cli._profiles(args)
    if len(profiles) != 1:
        raise cli.UsageError("fuzz takes one SUT: one --peer or --target")
    profile = profiles[0]
    options = FuzzOptions(
        max_examples=args.max_examples,
        seed=args.seed,
        deadline=args.deadline,
        timeout_scale=args.timeout_scale,
        silence=args.silence,
        steps=args.steps,
        artim=args.artim,
        out=args.out,
        replay=f"--target {args.target}"
        if args.target
        else f"--peer {(args.peer or ['builtin'])[0]}",
    )
    report = FuzzReport(sut={}, seed=args.seed if args.seed is not None else new_seed())
    print(f"fuzz {profile.name}: seed {report.seed}", file=sys.stderr)
    code = cli.EXIT_OK
    try:
        with cli.stop_signals() as stop:
            progress = _progress(sys.stderr, args.max_examples)
            run_fuzz(profile, options, report, on_example=progress, stop=stop)
    except SanityError as exc:
        print(f"dicom-harness fuzz: {exc}", file=sys.stderr)
        code = cli.EXIT_UNREACHABLE
    except KeyboardInterrupt:
        print("\ndicom-harness fuzz: interrupted; writing the report", file=sys.stderr)
        code = cli.EXIT_INTERRUPTED
    finally:
        if args.json:
            write_report(report, args.json)
    print(summary(report, args.coverage_matrix))
    if code == cli.EXIT_OK and report.findings:
        code = cli.EXIT_FAILED
    return cli._with_coverage(code, report.coverage, args.coverage_min, "fuzz")


def _progress(stream: Any, total: int) -> Any:
    """A line with the counts so far each time another 50 examples have run."""
    shown = [0]

    def show(report: Any) -> None:
        if report.examples // 50 > shown[0]:
            shown[0] = report.examples // 50
            stream.write(
                f"[{report.examples}/{total}] {report.hostile_cases} hostile, "
                f"{len(report.flaky)} flaky\n"
            )
            stream.flush()

    return show


def summary(report: Any, coverage_matrix: bool = False) -> str:
    """The terminal summary: counts, findings with their scenario files, coverage."""
    from harness.reports.coverage import coverage_lines

    lines = [
        "",
        f"fuzz: {report.examples} example(s), {report.hostile_cases} hostile, "
        f"seed {report.seed}, {report.duration_s:.1f} s"
        + (f" (stopped: {report.stopped})" if report.stopped else ""),
    ]
    for finding in report.findings:
        lines.append(f"finding ({finding.kind}): {finding.message}")
        lines.append(f"  scenario: {finding.path}")
    lines += [f"flaky (not a finding): {text}" for text in report.flaky]
    if not report.findings:
        lines.append("no finding")
    lines += ["", *coverage_lines(report.coverage, coverage_matrix)]
    return "\n".join(lines)
