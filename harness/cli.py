"""The ``dicom-harness`` command line (contract in DESIGN.md, "Command line").

Exit codes: 0 no failure, 1 at least one failed scenario (or error, or xpass), 2 usage,
scenario-file or decode error, 3 the SUT could not be reached or failed its sanity
association, 130 interrupted (Ctrl-C or SIGTERM; the partial reports are written).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from harness import SUITE_DIR
from harness.yamlsrc import SourceError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

_HEX_TEXT = re.compile(rb"[0-9A-Fa-f\s:]*")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class UsageError(Exception):
    """A command-line argument that cannot be used; the message names it."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors leave with EXIT_USAGE and name the argument."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _hex_to_bytes(text: bytes, origin: str) -> bytes:
    """Hex digits with optional whitespace, ``:`` separators and ``#`` comments."""
    lines = [line.split(b"#", 1)[0] for line in text.splitlines()]
    digits = re.sub(rb"[\s:]", b"", b"".join(lines))
    if len(digits) % 2:
        raise UsageError(f"{origin}: odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits.decode("ascii"))


def _is_hex_text(data: bytes) -> bool:
    body = b"".join(line.split(b"#", 1)[0] for line in data.splitlines())
    return bool(body.strip()) and _HEX_TEXT.fullmatch(body) is not None


def read_pdu_input(source: str) -> bytes:
    """The bytes named by ``decode``'s argument.

    ``-`` reads standard input (hex text or raw binary, told apart by content), an
    existing path reads that file the same way, anything else is taken as hex text.
    """
    if source == "-":
        data, origin = sys.stdin.buffer.read(), "<stdin>"
    elif os.path.isfile(source):
        with open(source, "rb") as handle:
            data, origin = handle.read(), source
    else:
        data, origin = source.encode("utf-8", "replace"), "argument HEX"
        if not _is_hex_text(data):
            raise UsageError(f"{origin}: not hex text and not an existing file: {source!r}")
    return _hex_to_bytes(data, origin) if _is_hex_text(data) else data


def cmd_decode(args: argparse.Namespace) -> int:
    """Dissect one or more concatenated PDUs (PS3.8 section 9.3) and print them."""
    from harness import pdu

    data = read_pdu_input(args.source)
    error: pdu.PDUDecodeError | None = None
    try:
        packets = pdu.dissect(data)
    except pdu.PDUDecodeError as exc:
        packets, error = exc.partial, exc
    if args.json:
        json.dump([pdu.to_dict(p) for p in packets], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        offset = 0
        for index, packet in enumerate(packets, 1):
            size = len(bytes(packet))
            print(f"# PDU {index} at byte offset {offset}: {pdu.pdu_name(packet)}, {size} bytes")
            print(pdu.describe(packet))
            offset += size
    if error is not None:
        print(f"dicom-harness decode: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _scenarios(args: argparse.Namespace) -> list[Any]:
    """The scenarios named on the command line (the whole suite by default), selected."""
    from harness.runner import select
    from harness.scenario import load_scenarios

    paths = args.paths or [SUITE_DIR]
    return select(load_scenarios(paths), args.select, args.exclude)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files (and peer profiles) without any network."""
    from harness.profile import load_profile
    from harness.scenario import load_scenarios

    scenarios = load_scenarios(args.paths or [SUITE_DIR])
    for name in args.peer:
        load_profile(name)
    print(
        f"{len(scenarios)} scenario(s) valid"
        + (f", {len(args.peer)} profile(s)" if args.peer else "")
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """Print id, requirement, references and title of each scenario."""
    for scenario in _scenarios(args):
        references = ", ".join(scenario.references)
        print(f"{scenario.id}  [{scenario.requirement}]  {scenario.title}  ({references})")
    return EXIT_OK


def _profiles(args: argparse.Namespace) -> list[Any]:
    from harness.profile import parse_target, sut_profiles, trigger_profile

    if args.trigger:
        return [trigger_profile(args.trigger, args.called_ae, args.calling_ae)]
    try:
        target = parse_target(args.target) if args.target else None
    except ValueError as exc:
        raise UsageError(f"--target {exc}") from None
    peers = args.peer or ([] if target else ["builtin"])
    return sut_profiles(peers, target, args.called_ae, args.calling_ae)


def _suite_version(scenarios: list[Any]) -> str:
    digest = hashlib.sha256()
    for scenario in scenarios:
        digest.update(Path(scenario.path).read_bytes() if scenario.path else b"")
    return f"{len(scenarios)} scenarios, sha256 {digest.hexdigest()[:12]}"


class _Progress:
    """The live progress line on a terminal, one line per result elsewhere."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def __call__(self, result: Any, done: int, total: int) -> None:
        text = f"[{done}/{total}] {result.peer} {result.id}: {result.verdict}"
        if self.live:
            self.stream.write(f"\r\033[K{text}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _summary(report: Any, coverage_matrix: bool = False) -> str:
    from harness.reports.coverage import coverage_lines
    from harness.reports.matrix import peers_of, render_matrix
    from harness.results import Verdict, summarize

    lines = ["", "verdict         count"]
    for verdict, count in summarize(report.results).items():
        if count:
            lines.append(f"{verdict:<15} {count:>5}")
    noteworthy = [r for r in report.results if r.verdict is not Verdict.PASSED]
    if noteworthy:
        lines.append("")
        for result in noteworthy:
            lines.append(f"{result.verdict:<13} {result.peer} {result.id}: {result.message}")
    lines += ["", *coverage_lines(report.coverage, coverage_matrix)]
    lines.append(f"{len(report.results)} scenario result(s) in {report.duration_s:.1f} s")
    if len(peers_of(report)) > 1:
        lines += ["", render_matrix(report)]
    return "\n".join(lines)


def _write_reports(args: argparse.Namespace, report: Any) -> None:
    from harness.reports.junit import write_junit
    from harness.reports.run import write_json

    if args.json:
        write_json(report, args.json)
    if args.junit:
        write_junit(report, args.junit)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the scenarios against each peer and write the reports (also when interrupted)."""
    from harness.peer import interrupt_all
    from harness.reports.run import RunReport
    from harness.runner import RunOptions, SanityError, run_suite

    if args.jobs < 1 or args.timeout_scale <= 0:
        raise UsageError("--jobs must be 1 or more and --timeout-scale above 0")
    scenarios = _scenarios(args)
    profiles = _profiles(args)
    report = RunReport(sut={}, suite_version=_suite_version(scenarios))
    options = RunOptions(
        timeout_scale=args.timeout_scale, jobs=args.jobs, strict=args.strict, seed=args.seed
    )
    code = EXIT_OK
    try:
        with stop_signals():
            for profile in profiles:
                run_suite(scenarios, profile, report, options, on_result=_Progress(sys.stderr))
    except SanityError as exc:
        print(f"dicom-harness run: {exc}", file=sys.stderr)
        code = EXIT_UNREACHABLE
    except KeyboardInterrupt:
        interrupt_all()  # the scenarios in flight end now, not at their deadlines
        report.interrupted = True
        print("\ndicom-harness run: interrupted; writing partial reports", file=sys.stderr)
        code = EXIT_INTERRUPTED
    finally:
        _write_reports(args, report)
    print(_summary(report, args.coverage_matrix))
    if code == EXIT_OK and any(r.verdict.is_failure for r in report.results):
        code = EXIT_FAILED
    code = _with_coverage(code, report.coverage, args.coverage_min, "run")
    if code == EXIT_OK and not report.results:
        print("dicom-harness run: no scenario selected", file=sys.stderr)
    return code


def _coverage_minimum(text: str) -> str:
    """``--coverage-min``: a number of cells, or a percentage of the defined ones."""
    from harness.runner import required_cells

    try:
        required_cells(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_coverage_options(parser: argparse.ArgumentParser) -> None:
    """``--coverage-min`` and ``--coverage-matrix`` (PS3.8 Table 9-10 coverage)."""
    parser.add_argument(
        "--coverage-min",
        type=_coverage_minimum,
        metavar="N|N%",
        help="exit 1 when fewer PS3.8 Table 9-10 cells were exercised: N cells, or N%% of "
        "the 123 the table defines",
    )
    parser.add_argument(
        "--coverage-matrix",
        action="store_true",
        help="print the Table 9-10 cells exercised as a states x events matrix",
    )


def _with_coverage(code: int, coverage: dict[str, Any], minimum: str | None, command: str) -> int:
    """``code``, or EXIT_FAILED (the reason on stderr) when a finished run's ``coverage``
    is below ``--coverage-min``."""
    from harness.runner import coverage_shortfall

    if code not in (EXIT_OK, EXIT_FAILED) or minimum is None:
        return code
    shortfall = coverage_shortfall(coverage, minimum)
    if shortfall is None:
        return code
    print(f"dicom-harness {command}: {shortfall}", file=sys.stderr)
    return EXIT_FAILED


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Ctrl-C (SIGINT) and SIGTERM end a command like KeyboardInterrupt, so that its
    partial reports are still written; the event is set as well, for a loop to check
    where a KeyboardInterrupt raised inside a callback may be swallowed (hypothesis's gc
    hook). The previous handlers come back on exit."""
    stop = threading.Event()

    def interrupt(signum: int, frame: Any) -> None:
        stop.set()
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in _STOP_SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATHS", help="scenario files or folders")
    parser.add_argument("--select", action="append", default=[], metavar="GLOB")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options, registered in one place."""
    parser = _Parser(prog="dicom-harness", description=__doc__.splitlines()[0])
    from harness import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run scenarios against peers and write reports")
    _add_selection(run)
    sut = run.add_mutually_exclusive_group()
    sut.add_argument("--peer", action="append", default=[], metavar="PROFILE")
    sut.add_argument("--target", metavar="HOST:PORT", help="an SCP already listening")
    sut.add_argument(
        "--trigger",
        metavar="CMD",
        help="a requestor SUT: the command (with {host} {port} {called_ae} {calling_ae}) "
        "that makes it connect to the harness, run once per scenario",
    )
    run.add_argument("--called-ae", metavar="AE")
    run.add_argument("--calling-ae", metavar="AE")
    run.add_argument("--strict", action="store_true", help="non-strict counts as failed")
    run.add_argument("--jobs", type=int, default=1, metavar="N")
    run.add_argument("--timeout-scale", type=float, default=1.0, metavar="X")
    run.add_argument("--json", metavar="FILE")
    run.add_argument("--junit", metavar="FILE")
    run.add_argument("--seed", type=int, metavar="N")
    _add_coverage_options(run)
    run.set_defaults(handler=cmd_run)

    listing = commands.add_parser("list", help="list scenarios")
    _add_selection(listing)
    listing.set_defaults(handler=cmd_list)

    validate = commands.add_parser("validate", help="check scenario files, no network")
    validate.add_argument("paths", nargs="*", metavar="PATHS")
    validate.add_argument("--peer", action="append", default=[], metavar="PROFILE")
    validate.set_defaults(handler=cmd_validate)

    decode = commands.add_parser("decode", help="dissect PDUs from hex text or binary input")
    decode.add_argument(
        "source",
        nargs="?",
        default="-",
        metavar="HEX|-|FILE",
        help="hex text, a file (hex or binary), or - for standard input (default)",
    )
    decode.add_argument("--json", action="store_true", help="print a JSON list of PDUs")
    decode.set_defaults(handler=cmd_decode)

    from harness.simulator import register as register_simulate

    register_simulate(commands)  # simulate scp (harness/simulator.py)
    from harness.fuzz_cli import register as register_fuzz

    register_fuzz(commands)  # fuzz (harness/fuzz_cli.py)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dicom-harness`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        print(f"dicom-harness {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SourceError as exc:
        print(f"dicom-harness {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``| head``): not an error of ours; keep Python quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
