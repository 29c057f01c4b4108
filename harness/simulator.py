"""``dicom-harness simulate``: a standing fake peer for manual testing of a device.

``simulate scp --profile FILE`` listens (on 127.0.0.1 unless ``--bind``) as the built-in
reference acceptor with the behaviour the profile names (see
:mod:`harness.simulator_scp`), logs every association's transcript (one line per PDU)
to standard output and/or ``--log-dir``, and runs until Ctrl-C or SIGTERM, or until
``--max-associations`` associations have ended. The heavy modules load only when the
command runs, so registering it costs the other subcommands nothing.

Exit codes: 0 after a clean stop, 2 for a profile or usage error (file:line:field),
3 when the address cannot be bound.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_UNREACHABLE = 3


def register(commands: Any) -> None:
    """Add ``simulate scp`` to the ``dicom-harness`` subcommands (``add_subparsers()``)."""
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
