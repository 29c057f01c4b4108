"""The scriptable fake peer: one TCP association, as requestor or acceptor.

It sends frames exactly as given (whole, split over several TCP writes with pauses, or
several PDUs coalesced into one write), receives one PDU at a time with one deadline per
wait (for the whole PDU, however slowly its bytes come), and tells "closed by peer", "reset
by peer" and "timed out" apart. A declared PDU-length over the cap is reported from its
6-byte header alone (:attr:`Observed.TOO_LONG`), nothing allocated for it. Every byte both
ways and every transport event goes into a :class:`~harness.transcript.Transcript`.

All the I/O of a scenario lives here; what the bytes mean is decided elsewhere (the
runner, against :mod:`harness.fsm`).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from harness import framing
from harness.fsm import PDU_TYPES
from harness.transcript import Direction, Transcript, TransportEvent

DEFAULT_READ_CAP = 1024 * 1024
"""Largest PDU-length read of a PDU other than a P-DATA-TF (and of a P-DATA-TF when the
caller names no maximum). PS3.8 bounds only P-DATA-TF (D.1); an A-ASSOCIATE-RQ proposing
128 presentation contexts with 64-character UIDs stays far below 1 MiB."""
UNLIMITED_P_DATA_CAP = 64 * 1024 * 1024
"""Largest P-DATA-TF read when we announced no maximum length (0 = unlimited, PS3.8 D.1)."""
_LINGER_RESET = struct.pack("ii", 1, 0)
_live: weakref.WeakSet[socket.socket] = weakref.WeakSet()
_live_lock = threading.Lock()


class SendStalledError(Exception):
    """The SUT took none of our bytes for the socket's whole deadline: it stopped reading
    (its receive window stayed shut), which is its behaviour to judge, not ours."""


class Observed(StrEnum):
    """What one wait on the SUT ended with."""

    PDU = "pdu"
    CLOSED = "closed"
    RESET = "reset"
    TIMEOUT = "timeout"
    TRUNCATED = "truncated"
    TOO_LONG = "too-long"


@dataclass(frozen=True)
class Observation:
    """One outcome of :meth:`FakePeer.receive`: a PDU, or how the wait ended instead."""

    kind: Observed
    pdu_type: int | None = None
    raw: bytes = b""
    waited: float = 0.0
    cap: int = 0
    """For :attr:`Observed.TOO_LONG`: the PDU-length cap the declared length is over."""

    @property
    def is_transport_end(self) -> bool:
        """The connection is gone (closed, reset, or closed in the middle of a PDU)."""
        return self.kind in (Observed.CLOSED, Observed.RESET, Observed.TRUNCATED)

    @property
    def is_off_boundary(self) -> bool:
        """The connection is open but the stream is no longer at a PDU boundary (a PDU
        refused for its length, or cut by the deadline): nothing more can be read."""
        return self.kind is Observed.TOO_LONG or (self.kind is Observed.TIMEOUT and bool(self.raw))


def pdu_label(raw: bytes | memoryview) -> str:
    """The PS3.8 name of a PDU from its type byte, cheaply (no dissection)."""
    if not raw:
        return "unknown PDU"
    known = PDU_TYPES.get(raw[0])
    return str(known) if known is not None else f"unknown PDU type 0x{raw[0]:02X}"


class FakePeer:
    """One connected socket and its transcript (PS3.8 section 9.1.1: the UL over TCP)."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        transcript: Transcript | None = None,
        read_cap: int = DEFAULT_READ_CAP,
    ) -> None:
        self.sock = sock
        self.transcript = transcript if transcript is not None else Transcript()
        self.read_cap = read_cap
        self.open = True
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _track(sock)

    @classmethod
    def connect(
        cls, host: str, port: int, *, timeout: float, transcript: Transcript | None = None
    ) -> FakePeer:
        """Connect as association-requestor (the SUT sees Evt5 in Sta1); the socket can be
        interrupted (:func:`interrupt_all`) from before it connects."""
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        _track(sock)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError:
            _untrack(sock)
            sock.close()
            raise
        peer = cls(sock, transcript=transcript)
        peer.transcript.event(TransportEvent.CONNECTED, f"{host}:{port}")
        return peer

    @classmethod
    def accept(
        cls, listener: socket.socket, *, timeout: float, transcript: Transcript | None = None
    ) -> FakePeer:
        """Accept the SUT's connection as association-acceptor, waiting at most ``timeout``."""
        listener.settimeout(timeout)
        sock, address = listener.accept()
        peer = cls(sock, transcript=transcript)
        peer.transcript.event(TransportEvent.ACCEPTED, f"{address[0]}:{address[1]}")
        return peer

    # -- sending -------------------------------------------------------------------------

    def send(
        self,
        data: bytes,
        *,
        writes: Sequence[int] = (),
        pause: float = 0.0,
        label: str | None = None,
        note: str = "",
    ) -> bool:
        """Send ``data``, in one write or in writes of the given sizes, pausing between.

        Sizes that do not add up to ``len(data)`` get the rest as a last write. Returns
        False (and records how) when the transport is already gone; after our own
        :meth:`close` or :meth:`reset` nothing is sent or recorded.
        """
        if self.sock.fileno() < 0:
            return False
        chunks = _chunks(data, writes)
        if len(chunks) > 1:
            note = ", ".join(filter(None, [note, f"in {len(chunks)} TCP writes"]))
        label = label or pdu_label(data)
        self.transcript.add(Direction.SENT, label, data, note)
        for index, chunk in enumerate(chunks):
            if index and pause:
                time.sleep(pause)
            try:
                self.sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
                self.transcript.event(TransportEvent.RESET_BY_PEER, f"while sending: {exc}")
                self.open = False
                return False
            except TimeoutError:
                stalled = (
                    f"the SUT stopped reading: our {len(data)}-byte {label} was not taken "
                    f"within {self.sock.gettimeout():g} s"
                )
                self.transcript.event(TransportEvent.TIMED_OUT, f"while sending: {stalled}")
                raise SendStalledError(stalled) from None
        return True

    # -- receiving -----------------------------------------------------------------------

    def receive(self, timeout: float, *, max_p_data_length: int | None = None) -> Observation:
        """Wait at most ``timeout`` seconds for one whole PDU; never raises for transport
        events. ``max_p_data_length`` caps a P-DATA-TF's PDU-length (the maximum length we
        announced, PS3.8 D.1); every other PDU is capped by :attr:`read_cap`."""
        if not self.open:
            return Observation(Observed.CLOSED)
        started = time.monotonic()
        deadline = started + max(timeout, 0.0)
        try:
            frame = framing.read_pdu(
                self.sock,
                deadline=deadline,
                max_pdu_length=self.read_cap,
                max_p_data_length=max_p_data_length,
            )
        except framing.PeerClosedError:
            return self._ended(Observed.CLOSED, TransportEvent.CLOSED_BY_PEER, b"", started)
        except framing.TruncatedPDUError as exc:
            note = f"closed after {exc.received} of {exc.expected} bytes"
            return self._ended(
                Observed.TRUNCATED, TransportEvent.TRUNCATED, exc.data, started, note
            )
        except framing.PeerResetError as exc:
            return self._ended(Observed.RESET, TransportEvent.RESET_BY_PEER, exc.data, started)
        except framing.ReadTimeoutError as exc:
            note = f"after {timeout:.3f} s" + (
                f", {exc.received} bytes of a PDU" if exc.data else ""
            )
            self.transcript.event(TransportEvent.TIMED_OUT, note, exc.data)
            return Observation(Observed.TIMEOUT, raw=exc.data, waited=time.monotonic() - started)
        except framing.PDUTooLongError as exc:
            note = f"declared PDU-length {exc.declared} > cap {exc.cap}"
            self.transcript.event(TransportEvent.TOO_LONG, note, exc.header)
            return Observation(
                Observed.TOO_LONG, exc.pdu_type, exc.header, time.monotonic() - started, exc.cap
            )
        raw = bytes(frame.raw)
        self.transcript.add(Direction.RECEIVED, pdu_label(raw), raw)
        return Observation(Observed.PDU, frame.pdu_type, raw, time.monotonic() - started)

    def _ended(
        self, kind: Observed, event: TransportEvent, data: bytes, started: float, note: str = ""
    ) -> Observation:
        self.transcript.event(event, note, data)
        self._shut(reset=False)
        return Observation(kind, data[0] if data else None, data, time.monotonic() - started)

    # -- ending --------------------------------------------------------------------------

    def close(self) -> None:
        """Close our side gracefully (FIN): the SUT sees Evt17."""
        if self.open:
            self.transcript.event(TransportEvent.CLOSED_BY_HARNESS)
        self._shut(reset=False)

    def reset(self) -> None:
        """Abort the connection with an RST (SO_LINGER 0): the SUT sees Evt17."""
        if self.open:
            self.transcript.event(TransportEvent.RESET_BY_HARNESS)
        self._shut(reset=True)

    def _shut(self, *, reset: bool) -> None:
        self.open = False
        _untrack(self.sock)
        with contextlib.suppress(OSError):
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self.sock.close()


def interrupt_all() -> None:
    """Shut down every fake-peer socket now, whatever thread waits on it (an interrupted
    run): each wait on a SUT ends at once, as a close, and a connect in progress fails,
    instead of lasting to its deadline; the scenarios in flight end, the process can exit."""
    with _live_lock:
        socks = list(_live)
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _track(sock: socket.socket) -> None:
    with _live_lock:
        _live.add(sock)


def _untrack(sock: socket.socket) -> None:
    with _live_lock:
        _live.discard(sock)


def _chunks(data: bytes, writes: Sequence[int]) -> list[bytes]:
    """``data`` cut into the given write sizes; what remains is the last write."""
    chunks: list[bytes] = []
    start = 0
    for size in writes:
        if start >= len(data):
            break
        chunks.append(data[start : start + size])
        start += size
    if start < len(data) or not chunks:
        chunks.append(data[start:])
    return chunks
