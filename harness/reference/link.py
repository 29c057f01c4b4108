"""One transport connection driven by a sans-I/O protocol: the reference peer's socket loop.

:class:`Link` carries out a protocol's outputs (send, close, ARTIM) and feeds it what
happens on the socket. Every wait is bounded: a read waits until ARTIM expires when it is
running, else for ``config.idle_timeout``, and never past the moment the protocol's user
is due to answer (:class:`AwaitUser`). A read that leaves the stream off a PDU
boundary (a PDU cut by a timeout, or one refused for its declared length) leaves nothing
to parse: the link then discards what arrives until the connection ends or a timer fires.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable

from harness import framing
from harness.fsm import PDU_TYPES
from harness.reference.core import (
    AwaitUser,
    CloseTransport,
    OpenTransport,
    Output,
    Send,
    StartArtim,
    StopArtim,
    ULProtocol,
)
from harness.transcript import Direction, Transcript, TransportEvent

READ_CAP = 64 * 1024 * 1024
"""Largest PDU-length read (PS3.8 D.1 allows 0 = unlimited; a lying length must not
allocate more). A longer PDU is invalid to the protocol."""

_DISCARD_CHUNK = 64 * 1024


class Link:
    """A connected socket, the protocol that drives it, and its transcript (if any)."""

    def __init__(
        self, sock: socket.socket, protocol: ULProtocol, transcript: Transcript | None
    ) -> None:
        self.sock = sock
        self.protocol = protocol
        self.transcript = transcript
        self.open = True
        self._artim_deadline: float | None = None
        self._user_deadline: float | None = None
        self._in_sync = True
        self._idle = protocol.config.idle_timeout
        sock.settimeout(self._idle)

    def carry_out(self, outputs: Iterable[Output]) -> None:
        """Do what the protocol asked, in order; stop at the first output once closed."""
        for output in outputs:
            if not self.open:
                return
            if isinstance(output, Send):
                self._send(output.data)
            elif isinstance(output, StartArtim):
                self._artim_deadline = time.monotonic() + output.seconds
            elif isinstance(output, StopArtim):
                self._artim_deadline = None
            elif isinstance(output, AwaitUser):
                self._user_deadline = time.monotonic() + output.seconds
            elif isinstance(output, CloseTransport):
                self.close()
            elif not isinstance(output, OpenTransport):  # the requestor's caller connects
                raise TypeError(f"unknown output {output!r}")

    def run(self, until: Callable[[], bool] = lambda: False) -> None:
        """React to the socket until it is closed, or ``until()`` holds."""
        while self.open and not until():
            self.step()

    def step(self) -> None:
        """Wait for one thing (a PDU, the end of the connection, a timer) and react."""
        timers = [t for t in (self._artim_deadline, self._user_deadline) if t is not None]
        deadline = min(timers, default=time.monotonic() + self._idle)
        outputs = self._read(deadline) if self._in_sync else self._discard(deadline)
        self.carry_out(outputs)

    def close(self) -> None:
        """Close our side of the connection (graceful FIN), once."""
        if self.open:
            self._record_event(TransportEvent.CLOSED_BY_HARNESS, "closed by the reference peer")
            self._shut()

    # -- internals -----------------------------------------------------------------------

    def _read(self, deadline: float) -> list[Output]:
        try:
            frame = framing.read_pdu(self.sock, deadline=deadline, max_pdu_length=READ_CAP)
        except framing.PeerClosedError:
            return self._ended(TransportEvent.CLOSED_BY_PEER, b"")
        except framing.TruncatedPDUError as exc:
            return self._ended(TransportEvent.TRUNCATED, exc.data)
        except framing.PeerResetError as exc:
            return self._ended(TransportEvent.RESET_BY_PEER, exc.data)
        except framing.ReadTimeoutError as exc:
            self._in_sync = not exc.data
            return self._timer_fired()
        except framing.PDUTooLongError as exc:
            self._in_sync = False
            self._record_event(TransportEvent.TOO_LONG, f"declared {exc.declared}", exc.header)
            return self.protocol.receive_oversized(exc.pdu_type, exc.declared)
        raw = bytes(frame.raw)
        if self.transcript is not None:
            self.transcript.add(Direction.RECEIVED, _label(raw), raw)
        return self.protocol.receive(raw)

    def _discard(self, deadline: float) -> list[Output]:
        """Off a PDU boundary: drop what arrives; only the end or a timer matters."""
        self.sock.settimeout(max(deadline - time.monotonic(), 0.0))
        try:
            count = len(self.sock.recv(_DISCARD_CHUNK))
        except TimeoutError:
            return self._timer_fired()
        except OSError:
            return self._ended(TransportEvent.RESET_BY_PEER, b"")
        finally:
            with contextlib.suppress(OSError):
                self.sock.settimeout(self._idle)
        return self._ended(TransportEvent.CLOSED_BY_PEER, b"") if count == 0 else []

    def _timer_fired(self) -> list[Output]:
        if self._user_deadline is not None and time.monotonic() >= self._user_deadline:
            self._user_deadline = None
            return self.protocol.user_turn()
        if self._artim_deadline is not None:
            self._artim_deadline = None
            self._record_event(TransportEvent.TIMED_OUT, "ARTIM expired")
            return self.protocol.artim_expired()
        self._record_event(TransportEvent.TIMED_OUT, f"nothing for {self._idle:g} s")
        return self.protocol.timed_out()

    def _send(self, data: bytes) -> None:
        if self.transcript is not None:
            self.transcript.add(Direction.SENT, _label(data), data)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.carry_out(self._ended(TransportEvent.RESET_BY_PEER, b"", f"sending: {exc}"))

    def _ended(self, event: TransportEvent, data: bytes, note: str = "") -> list[Output]:
        """The peer is gone (Evt17); the socket is closed on our side too."""
        self._record_event(event, note, data)
        self._shut()
        return self.protocol.transport_closed()

    def _record_event(self, event: TransportEvent, note: str, data: bytes = b"") -> None:
        if self.transcript is not None:
            self.transcript.event(event, note, data)

    def _shut(self) -> None:
        self.open = False
        with contextlib.suppress(OSError):
            self.sock.close()


def _label(raw: bytes) -> str:
    """The PS3.8 name of a PDU from its type byte."""
    pdu = PDU_TYPES.get(raw[0])
    return str(pdu) if pdu is not None else f"unknown PDU type 0x{raw[0]:02X}"
