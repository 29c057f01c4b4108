"""The reference SCU over TCP: associate, run C-ECHO / C-STORE requests, release.

Also a command line, the trigger of the ``builtin-scu`` profiles (the SUT as requestor)::

    python -m harness.reference --host H --port P --called-ae X --calling-ae Y \
        [--echo N] [--store FILE ...] [--async-window INVOKED PERFORMED] [--abort] \
        [--protocol module:Class]

``--echo N`` C-ECHO requests (default 1), then a C-STORE of each ``--store`` file's data
set; ``--async-window`` proposes that window (PS3.7 D.3.3.3) and sends the requests
pipelined, as many outstanding as the AC grants. ``--protocol`` replaces
:class:`RequestorProtocol` by a subclass (the project's tests use it for deliberately
broken requestors). The exit code is 0 when the association was accepted, every request
sent and answered, and the association released (or aborted, as asked); a request the AC
left without an accepted presentation context is not sent, the association is released
and the exit code is 1.
"""

from __future__ import annotations

import argparse
import importlib
import socket
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from harness.association import AssociateAC, Rejection
from harness.fsm import State
from harness.reference.config import ReferenceConfig
from harness.reference.core import Output
from harness.reference.link import Link
from harness.reference.requestor import NoContextError, RequestorProtocol
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
    """What :func:`run_requestor` did: the protocol (state, cells, responses), the
    transcript of the connection, and why a request was not sent, for each one that was
    not (no accepted presentation context for it)."""

    protocol: RequestorProtocol
    transcript: Transcript
    unsent: list[str] = field(default_factory=list)

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
    """Associate with ``host:port``, send the requests and wait for their responses, release.

    Requests are sent one at a time, or pipelined within the negotiated asynchronous
    operations window (PS3.7 D.3.3.3). A request without an accepted presentation context
    for its SOP class is not sent (PS3.8 Table 9-23, PS3.7 D.3.3.1): the others go on, and
    the association is released all the same. Stops early when the association is
    rejected or aborted; a connection refused is Evt17 in Sta4 (AA-4). ``abort`` ends with
    an A-ABORT (Evt15, AA-1) instead of the release (Evt11, AR-1). ``protocol`` replaces the
    default ``RequestorProtocol(config, config.associate_rq(called_ae_title))``.
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
    run = RequestorRun(protocol, transcript)
    try:
        link.carry_out(protocol.connection_made())
        link.run(until=lambda: protocol.state is not State.STA5)
        run.unsent = _requests(link, protocol, actions)
        if protocol.state is State.STA6:
            link.carry_out(protocol.abort() if abort else protocol.release())
        link.run()
    finally:
        link.close()
    return run


def _requests(link: Link, protocol: RequestorProtocol, actions: Sequence[Request]) -> list[str]:
    """Send the requests in order, each as soon as the window has room for it (one at a
    time without one, PS3.7 D.3.3.3), until every response came or the association
    ended; why each request that has no accepted presentation context was not sent."""
    queue = deque(actions)
    unsent: list[str] = []
    while link.open and protocol.state is State.STA6 and (queue or protocol.outstanding):
        while queue and protocol.may_invoke and protocol.state is State.STA6:
            try:
                link.carry_out(_invoke(protocol, queue.popleft()))
            except NoContextError as exc:
                unsent.append(str(exc))
        if protocol.outstanding:
            link.run(until=_next_response(protocol))
    return unsent


def _next_response(protocol: RequestorProtocol) -> Callable[[], bool]:
    """Whether one more response came from now on, or the association left Sta6."""
    answered = len(protocol.responses)
    return lambda: len(protocol.responses) > answered or protocol.state is not State.STA6


def _invoke(protocol: RequestorProtocol, action: Request) -> list[Output]:
    """The outputs that send one request."""
    if isinstance(action, Store):
        return protocol.store(action.data_set)[1]
    return protocol.echo()[1]


def _protocol_class(text: str) -> type[RequestorProtocol]:
    """``module:Class`` naming a :class:`RequestorProtocol` subclass."""
    module, _, name = text.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, RequestorProtocol)):
        raise SystemExit(f"--protocol {text}: not a RequestorProtocol subclass")
    return cls


def _stored(path: str) -> Store:
    """A C-STORE request of the DICOM file at ``path`` (its data set, without the file
    meta information, PS3.10)."""
    try:
        data_set = dcmread(path)
        data_set.SOPClassUID, data_set.SOPInstanceUID  # noqa: B018 - both are required
    except (OSError, InvalidDicomError, AttributeError) as exc:
        raise SystemExit(f"--store {path}: {exc}") from exc
    return Store(data_set)


def _proposing(config: ReferenceConfig, stores: Sequence[Store]) -> ReferenceConfig:
    """``config`` proposing the SOP class of every data set to store as well."""
    classes = [str(store.data_set.SOPClassUID) for store in stores]
    missing = [uid for uid in dict.fromkeys(classes) if uid not in config.abstract_syntaxes]
    return replace(config, abstract_syntaxes=(*config.abstract_syntaxes, *missing))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.reference")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--called-ae", default="ANY-SCP")
    parser.add_argument("--calling-ae", default=DEFAULT_SCU_CONFIG.ae_title)
    parser.add_argument("--echo", type=int, default=1, metavar="N", help="C-ECHO requests")
    parser.add_argument(
        "--store", action="append", default=[], metavar="FILE", help="C-STORE this DICOM file"
    )
    parser.add_argument(
        "--async-window",
        type=int,
        nargs=2,
        metavar=("INVOKED", "PERFORMED"),
        help="propose this asynchronous operations window and pipeline the requests",
    )
    parser.add_argument("--abort", action="store_true", help="end with A-ABORT, not release")
    parser.add_argument("--timeout", type=float, default=10.0, help="idle timeout, seconds")
    parser.add_argument(
        "--user-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="its user answers a release indication (Sta8, Sta9) this late, reading on",
    )
    parser.add_argument("--protocol", metavar="MODULE:CLASS", help="a RequestorProtocol subclass")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Associate with ``--host:--port``, send ``--echo`` C-ECHO requests and a C-STORE
    request per ``--store`` file, release (or abort); exit 0 when all went as asked, 1
    otherwise."""
    args = _parser().parse_args(argv)
    actions: list[Request] = [Echo()] * args.echo
    stores = [_stored(path) for path in args.store]
    config = _proposing(
        replace(
            DEFAULT_SCU_CONFIG,
            ae_title=args.calling_ae,
            idle_timeout=args.timeout,
            user_delay=args.user_delay,
        ),
        stores,
    )
    window = tuple(args.async_window) if args.async_window else None
    protocol_class = _protocol_class(args.protocol) if args.protocol else RequestorProtocol
    run = run_requestor(
        args.host,
        args.port,
        config,
        called_ae_title=args.called_ae,
        actions=[*actions, *stores],
        protocol=protocol_class(config, config.associate_rq(args.called_ae, window)),
        abort=args.abort,
    )
    ok = run.ac is not None and len(run.protocol.responses) == args.echo + len(stores)
    outcome = "accepted" if run.ac else f"rejected {run.rejection}" if run.rejection else "failed"
    sys.stdout.write(f"association {outcome}; {len(run.protocol.responses)} responses\n")
    for reason in run.unsent:
        sys.stdout.write(f"not sent: {reason}\n")
    return 0 if ok and run.protocol.peer_abort is None else 1


if __name__ == "__main__":
    sys.exit(main())
