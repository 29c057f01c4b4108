"""``dicom-harness simulate``: a standing fake peer for manual testing of a device.

``simulate scp --profile FILE`` listens (on 127.0.0.1 unless ``--bind``) as the built-in
reference acceptor with the behaviour the profile names (see
:mod:`harness.simulator_scp`), logs every association's transcript (one line per PDU)
to standard output and/or ``--log-dir``, and runs until Ctrl-C or SIGTERM, or until
``--max-associations`` associations have ended. The heavy modules load only when the
command runs, so registering it costs the other subcommands nothing.

``simulate scu --profile FILE --target HOST:PORT`` is the mirror (see
:mod:`harness.simulator_scu`): one association with the profile's behaviour per line of
standard input, or ``--count N`` of them, each transcript logged the same way.

Exit codes: 0 after a clean stop (scu: every association did as the profile says), 1 (scu)
some association failed, 2 for a profile or usage error (file:line:field), 3 when the
address cannot be bound (scu: the target cannot be reached).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREACHABLE = 3


def register(commands: Any) -> None:
    """Add ``simulate scp`` and ``simulate scu`` to the ``dicom-harness`` subcommands
    (``add_subparsers()``)."""
    simulate = commands.add_parser(
        "simulate", help="a standing fake peer, behaviour from a profile"
    )
    roles = simulate.add_subparsers(dest="role", required=True, parser_class=type(simulate))
    scp = roles.add_parser("scp", help="a standing acceptor (SCP)")
    scp.add_argument("--profile", required=True, metavar="FILE", help="simulator profile")
    scp.add_argument("--bind", default="127.0.0.1", metavar="ADDR", help="default 127.0.0.1")
    scp.add_argument("--port", type=int, metavar="N", help="default: the profile's, or 11112")
    scp.add_argument("--log-dir", type=Path, metavar="DIR", help="one file per association")
    scp.add_argument("--quiet", action="store_true", help="no transcripts on standard output")
    scp.add_argument("--max-associations", type=int, metavar="N", help="exit after N")
    scp.set_defaults(handler=cmd_simulate_scp)
    scu = roles.add_parser("scu", help="a requestor (SCU) that associates on demand")
    scu.add_argument("--profile", required=True, metavar="FILE", help="simulator profile")
    scu.add_argument("--target", required=True, metavar="HOST:PORT", help="loopback only")
    scu.add_argument("--called-ae", metavar="AE", help="default: the profile's, or ANY-SCP")
    scu.add_argument("--count", type=int, metavar="N", help="run N associations, then exit")
    scu.add_argument("--log-dir", type=Path, metavar="DIR", help="one file per association")
    scu.add_argument("--quiet", action="store_true", help="no transcripts on standard output")
    scu.set_defaults(handler=cmd_simulate_scu)


def cmd_simulate_scp(args: argparse.Namespace) -> int:
    """Run the simulated SCP until stopped; profile errors propagate as SourceError."""
    from harness.simulator_scp import (
        RecordLogger,
        load_simulator_profile,
        serve,
        simulator_server,
    )

    profile = load_simulator_profile(args.profile)
    server = simulator_server(profile, host=args.bind, port=args.port)
    log = RecordLogger(None if args.quiet else sys.stdout, args.log_dir)
    previous = _on_sigterm_interrupt()  # before "listening": a SIGTERM from then on is clean
    try:
        server.start()
        host, port = server.address
        print(f"simulate scp {profile.name}: listening on {host}:{port}", flush=True)
        serve(server, log, max_associations=args.max_associations)
    except OSError as exc:
        print(f"dicom-harness simulate: cannot listen on {args.bind}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        print("simulate scp: interrupted, stopping", file=sys.stderr)
    finally:
        server.stop()
        _restore_sigterm(previous)
    return EXIT_OK


def cmd_simulate_scu(args: argparse.Namespace) -> int:
    """One association per line of standard input (``go`` or empty; ``quit`` or EOF
    stops), or ``--count`` of them; 0 all did as the profile says, 1 some failed, 3 the
    target was not reachable."""
    from harness.cli import UsageError
    from harness.profile import parse_target
    from harness.simulator_scp import RecordLogger
    from harness.simulator_scu import ScuSimulator, load_scu_profile

    try:
        host, port = parse_target(args.target)
    except ValueError as exc:
        raise UsageError(f"--target {exc}") from exc
    if args.count is not None and args.count < 1:
        raise UsageError(f"--count {args.count}: must be at least 1")
    profile = load_scu_profile(args.profile)
    simulator = ScuSimulator(profile, host, port, called_ae=args.called_ae)
    log = RecordLogger(None if args.quiet else sys.stdout, args.log_dir)
    print(f"simulate scu {profile.name}: target {host}:{port}", flush=True)
    try:
        while args.count is None or simulator.associations < args.count:
            if args.count is None:
                line = sys.stdin.readline()
                command = line.strip().lower()
                if not line or command == "quit":
                    break
                if command not in ("", "go"):
                    print(f"simulate scu: unknown command {command!r} (go, quit)", file=sys.stderr)
                    continue
            outcome = simulator.run_once()
            log(simulator.record(outcome))
            print(f"=> association {log.written}: {outcome.summary}", flush=True)
    except KeyboardInterrupt:
        print("simulate scu: interrupted, stopping", file=sys.stderr)
    if simulator.unreachable:
        print(f"dicom-harness simulate: cannot reach {host}:{port}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return EXIT_FAILED if simulator.failed else EXIT_OK


def _raise_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops the simulator like Ctrl-C."""
    raise KeyboardInterrupt


def _on_sigterm_interrupt() -> Any:
    """Make SIGTERM a KeyboardInterrupt (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
