"""The reference SCU over TCP: associate, run C-ECHO / C-STORE requests, release.

Also a command line, the trigger of the ``builtin-scu`` profile (the SUT as requestor)::

    python -m harness.reference --host H --port P --called-ae X --calling-ae Y \
        [--echo N] [--abort] [--protocol module:Class]

``--protocol`` replaces :class:`RequestorProtocol` by a subclass (the project's tests use
it for deliberately broken requestors). The exit code is 0 when the association was
accepted, every response received and the association released (or aborted, as asked).
"""

from __future__ import annotations

import argparse
import importlib
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pydicom.dataset import Dataset

from harness.association import AssociateAC, Rejection
from harness.fsm import State
from harness.reference.config import ReferenceConfig
from harness.reference.link import Link
from harness.reference.requestor import RequestorProtocol
from harness.transcript import Transcript, TransportEvent

DEFAULT_SCU_CONFIG = ReferenceConfig(ae_title="HARNESS-SCU")


@dataclass(frozen=True)
class Echo:
    """A C-ECHO request (PS3.7 9.1.5)."""


@dataclass(frozen=True)
class Store:
    """A C-STORE request of ``data_set`` (PS3.7 9.1.1); SOPClassUID and SOPInstanceUID
    are taken from it."""

    data_set: Dataset = field(compare=False)


Request = Echo | Store


@dataclass
class RequestorRun:
    """What :func:`run_requestor` did: the protocol (state, cells, responses) and the
    transcript of the connection."""

    protocol: RequestorProtocol
    transcript: Transcript

    @property
    def ac(self) -> AssociateAC | None:
        return self.protocol.ac

    @property
    def rejection(self) -> Rejection | None:
        return self.protocol.rejection

    @property
    def statuses(self) -> list[int]:
        """The Status of each response received, in MessageID order."""
        return [
            int(message.command.Status) for _, message in sorted(self.protocol.responses.items())
        ]


def run_requestor(
    host: str,
    port: int,
    config: ReferenceConfig = DEFAULT_SCU_CONFIG,
    *,
    called_ae_title: str = "ANY-SCP",
    actions: Sequence[Request] = (Echo(),),
    protocol: RequestorProtocol | None = None,
    abort: bool = False,
) -> RequestorRun:
    """Associate with ``host:port``, send each request and wait for its response, release.

    Stops early when the association is rejected or aborted; a connection refused is
    Evt17 in Sta4 (AA-4). ``abort`` ends with an A-ABORT (Evt15, AA-1) instead of the
    release (Evt11, AR-1). ``protocol`` replaces the default
    ``RequestorProtocol(config, config.associate_rq(called_ae_title))``.
    """
    if protocol is None:
        protocol = RequestorProtocol(config, config.associate_rq(called_ae_title))
    transcript = Transcript()
    protocol.associate()
    try:
        sock = socket.create_connection((host, port), timeout=config.idle_timeout)
    except OSError as exc:
        transcript.event(TransportEvent.RESET_BY_PEER, f"connect to {host}:{port}: {exc}")
        protocol.transport_closed()
        return RequestorRun(protocol, transcript)
    transcript.event(TransportEvent.CONNECTED, f"{host}:{port}")
    link = Link(sock, protocol, transcript)
    try:
        link.carry_out(protocol.connection_made())
        link.run(until=lambda: protocol.state is not State.STA5)
        for action in actions:
            if protocol.state is not State.STA6:
                break
            _request(link, protocol, action)
        if protocol.state is State.STA6:
            link.carry_out(protocol.abort() if abort else protocol.release())
        link.run()
    finally:
        link.close()
    return RequestorRun(protocol, transcript)


def _request(link: Link, protocol: RequestorProtocol, action: Request) -> None:
    """Send one request and wait for its response (or the end of the association)."""
    if isinstance(action, Store):
        message_id, outputs = protocol.store(action.data_set)
    else:
        message_id, outputs = protocol.echo()
    link.carry_out(outputs)
    link.run(until=lambda: message_id in protocol.responses or protocol.state is not State.STA6)


def _protocol_class(text: str) -> type[RequestorProtocol]:
    """``module:Class`` naming a :class:`RequestorProtocol` subclass."""
    module, _, name = text.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, RequestorProtocol)):
        raise SystemExit(f"--protocol {text}: not a RequestorProtocol subclass")
    return cls


def main(argv: Sequence[str] | None = None) -> int:
    """Associate with ``--host:--port``, send ``--echo`` C-ECHO requests, release (or
    abort); exit 0 when all went as asked, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m harness.reference")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--called-ae", default="ANY-SCP")
    parser.add_argument("--calling-ae", default=DEFAULT_SCU_CONFIG.ae_title)
    parser.add_argument("--echo", type=int, default=1, metavar="N")
    parser.add_argument("--abort", action="store_true", help="end with A-ABORT, not release")
    parser.add_argument("--timeout", type=float, default=10.0, help="idle timeout, seconds")
    parser.add_argument("--protocol", metavar="MODULE:CLASS", help="a RequestorProtocol subclass")
    args = parser.parse_args(argv)
    config = replace(DEFAULT_SCU_CONFIG, ae_title=args.calling_ae, idle_timeout=args.timeout)
    protocol = None
    if args.protocol:
        protocol = _protocol_class(args.protocol)(config, config.associate_rq(args.called_ae))
    run = run_requestor(
        args.host,
        args.port,
        config,
        called_ae_title=args.called_ae,
        actions=[Echo()] * args.echo,
        protocol=protocol,
        abort=args.abort,
    )
    ok = run.ac is not None and len(run.protocol.responses) == args.echo
    outcome = "accepted" if run.ac else f"rejected {run.rejection}" if run.rejection else "failed"
    sys.stdout.write(f"association {outcome}; {len(run.protocol.responses)} responses\n")
    return 0 if ok and run.protocol.peer_abort is None else 1


if __name__ == "__main__":
    sys.exit(main())
