"""The reference SCU over TCP: associate, run C-ECHO / C-STORE requests, release."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

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
) -> RequestorRun:
    """Associate with ``host:port``, send each request and wait for its response, release.

    Stops early when the association is rejected or aborted; a connection refused is
    Evt17 in Sta4 (AA-4). ``protocol`` replaces the default
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
            link.carry_out(protocol.release())
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
