"""PDU framing on a byte stream, and P-DATA-TF built and read as bytes.

Reading (PS3.8 section 9.3.1): every PDU starts with a 6-byte header (PDU-type, a reserved
byte, a big-endian uint32 PDU-length counting the bytes after it). :func:`read_pdu` reads
exactly one PDU with plain ``socket.recv_into``: the header first, then the declared length
is checked against a cap *before* any buffer is allocated (a P-DATA-TF against its own:
the maximum length we announced, PS3.8 D.1), then the body is received into a buffer of
exactly that size, so a lying length costs at most the cap. It never reads past the PDU,
so the next one stays in the socket. One absolute ``time.monotonic()`` deadline bounds the
whole PDU (a peer dripping a byte at a time cannot stretch it), and the ways a read can
end early are told apart by type (:class:`FramingError` and its subclasses).

P-DATA-TF (PS3.8 section 9.3.5, Tables 9-22 and 9-23; Annex E): PDVs are encoded with
``struct`` and decoded as ``memoryview`` slices, so a large payload is never copied more
than once and never turned into a scapy object. :func:`fragment` splits a command or data
set into whole P-DATA-TF PDUs that respect the peer's maximum length (PS3.8 Annex D.1).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from harness.errors import DecodeError, HarnessError

P_DATA_TF = 0x04
PDU_HEADER_LENGTH = 6
PDV_HEADER_LENGTH = 6
"""PDV item-length (4 bytes), presentation-context-ID and message control header."""
MAX_UINT32 = 0xFFFFFFFF
MIN_MAX_LENGTH = PDV_HEADER_LENGTH + 2
"""Smallest non-zero maximum length that can carry one 2-byte fragment (PS3.8 D.1)."""

COMMAND_BIT = 0x01
"""Message control header bit 0: command fragment (1) or data set fragment (0), Annex E.2."""
LAST_BIT = 0x02
"""Message control header bit 1: last fragment of the command or data set, Annex E.2."""

_PDU_HEADER = struct.Struct(">BxL")
_PDV_HEADER = struct.Struct(">LBB")
_ITEM_LENGTH = struct.Struct(">L")
_SINGLE_PDV_PDU_HEADER = struct.Struct(">BxLLBB")


class FramingError(HarnessError):
    """A PDU could not be read whole from the transport (PS3.8 section 9.3.1)."""


class PeerClosedError(FramingError):
    """The peer closed the connection cleanly at a PDU boundary: 0 bytes of a new PDU."""

    def __init__(self) -> None:
        super().__init__("peer closed the connection at a PDU boundary")


class IncompleteReadError(FramingError):
    """A read that ended after ``data`` (the bytes of this PDU received so far)."""

    def __init__(self, data: bytes, expected: int, what: str) -> None:
        super().__init__(f"{what} after {len(data)} of {expected} bytes of a PDU")
        self.data = data
        self.expected = expected

    @property
    def received(self) -> int:
        """How many bytes of this PDU arrived, header included."""
        return len(self.data)


class PeerResetError(IncompleteReadError):
    """The connection was reset (ECONNRESET, EPIPE): a network failure, not a close."""

    def __init__(self, data: bytes, expected: int) -> None:
        super().__init__(data, expected, "connection reset")


class TruncatedPDUError(IncompleteReadError):
    """The peer closed the connection in the middle of a PDU.

    ``expected`` is the whole PDU size (6 + PDU-length), or 6 when the header itself was
    cut; ``offset`` is the 0-based offset in the PDU of the first byte that never came.
    """

    def __init__(self, data: bytes, expected: int) -> None:
        super().__init__(data, expected, "peer closed the connection")
        self.offset = len(data)


class ReadTimeoutError(IncompleteReadError):
    """The deadline passed before the PDU was complete; the connection is still open.

    A timeout is never a close: ``data`` holds the bytes of the PDU received so far
    (possibly none), and the stream is no longer at a PDU boundary if there are any.
    """

    def __init__(self, data: bytes, expected: int) -> None:
        super().__init__(data, expected, "deadline passed")


class PDUTooLongError(FramingError):
    """The declared PDU-length exceeds the cap; nothing of the body was read or allocated.

    The stream is left just after the 6-byte header (``header``).
    """

    def __init__(self, header: bytes, declared: int, cap: int) -> None:
        super().__init__(f"declared PDU-length {declared} exceeds the cap of {cap} bytes")
        self.header = header
        self.pdu_type = header[0]
        self.declared = declared
        self.cap = cap


class PDVError(DecodeError):
    """A PDV item that does not fit its P-DATA-TF (PS3.8 section 9.3.5.1, Table 9-23)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One PDU as read off the wire (PS3.8 section 9.3.1).

    ``raw`` is a read-only view of the whole PDU, header included; ``bytes(frame.raw)``
    gives an immutable copy.
    """

    pdu_type: int
    length: int
    raw: memoryview

    @property
    def body(self) -> memoryview:
        """The bytes after the 6-byte PDU header (``length`` of them)."""
        return self.raw[PDU_HEADER_LENGTH:]


class PDV(NamedTuple):
    """One presentation data value item of a P-DATA-TF (PS3.8 Table 9-23, Annex E.2).

    ``offset`` is where the item (its item-length field) starts in the decoded input.
    """

    pc_id: int
    message_control_header: int
    fragment: memoryview
    offset: int

    @property
    def is_command(self) -> bool:
        """Bit 0 of the message control header (Annex E.2)."""
        return bool(self.message_control_header & COMMAND_BIT)

    @property
    def is_last(self) -> bool:
        """Bit 1 of the message control header (Annex E.2)."""
        return bool(self.message_control_header & LAST_BIT)


def read_pdu(
    sock: socket.socket,
    *,
    deadline: float,
    max_pdu_length: int,
    max_p_data_length: int | None = None,
) -> Frame:
    """Read exactly one PDU from ``sock`` (PS3.8 section 9.3.1), leaving the next in the socket.

    ``deadline`` is an absolute ``time.monotonic()`` value bounding the whole PDU;
    ``max_pdu_length`` caps the declared PDU-length (the 6-byte header excluded; a literal
    byte count, 0 is not "unlimited"), and ``max_p_data_length``, when given, caps a
    P-DATA-TF's instead (the maximum length we announced, PS3.8 D.1). The socket's own
    timeout is restored on return.

    Raises :class:`PeerClosedError`, :class:`PeerResetError`, :class:`TruncatedPDUError`,
    :class:`ReadTimeoutError` or :class:`PDUTooLongError`. After any of them but
    :class:`PeerClosedError` the stream is no longer at a PDU boundary.
    """
    previous_timeout = sock.gettimeout()
    try:
        header = bytearray(PDU_HEADER_LENGTH)
        _receive_into(sock, header, 0, deadline)
        pdu_type, length = _PDU_HEADER.unpack(header)
        cap = max_pdu_length
        if pdu_type == P_DATA_TF and max_p_data_length is not None:
            cap = max_p_data_length
        if length > cap:
            raise PDUTooLongError(bytes(header), length, cap)
        buffer = bytearray(PDU_HEADER_LENGTH + length)
        buffer[:PDU_HEADER_LENGTH] = header
        _receive_into(sock, buffer, PDU_HEADER_LENGTH, deadline)
    finally:
        sock.settimeout(previous_timeout)
    return Frame(pdu_type, length, memoryview(buffer).toreadonly())


def _receive_into(sock: socket.socket, buffer: bytearray, start: int, deadline: float) -> None:
    """Fill ``buffer[start:]`` from ``sock``; ``buffer[:start]`` was already received.

    A close with nothing of the PDU received is :class:`PeerClosedError`; any other early end
    raises with the bytes of the PDU received so far.
    """
    view = memoryview(buffer)
    received = start
    while received < len(buffer):
        sock.settimeout(max(deadline - time.monotonic(), 0.0))
        try:
            count = sock.recv_into(view[received:])
        except (TimeoutError, BlockingIOError):
            raise ReadTimeoutError(bytes(view[:received]), len(buffer)) from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            raise PeerResetError(bytes(view[:received]), len(buffer)) from exc
        if count == 0:
            if received == 0:
                raise PeerClosedError
            raise TruncatedPDUError(bytes(view[:received]), len(buffer))
        received += count


def encode_p_data_tf(pdvs: Iterable[tuple[int, int, bytes | bytearray | memoryview]]) -> bytes:
    """Encode a P-DATA-TF PDU from ``(pc_id, message_control_header, fragment)`` tuples.

    PS3.8 Tables 9-22 and 9-23: each PDV item-length is 2 + the fragment length. No
    Annex E rule is enforced here (odd or empty fragments can be sent on purpose); only
    the field sizes are, with a ``ValueError``.
    """
    parts: list[bytes | bytearray | memoryview] = [b""]
    length = 0
    for pc_id, control, data in pdvs:
        parts.append(_pack(_PDV_HEADER, len(data) + 2, pc_id, control))
        parts.append(data)
        length += PDV_HEADER_LENGTH + len(data)
    parts[0] = _pack(_PDU_HEADER, P_DATA_TF, length)
    return b"".join(parts)


def _pack(layout: struct.Struct, *values: int) -> bytes:
    """``layout.pack(*values)``, with an out-of-range field reported as ``ValueError``."""
    try:
        return layout.pack(*values)
    except struct.error as exc:
        raise ValueError(f"P-DATA-TF field out of range in {values}: {exc}") from None


def iter_pdvs(body: bytes | bytearray | memoryview) -> Iterator[PDV]:
    """Yield the PDV items of a P-DATA-TF body (PS3.8 Tables 9-22 and 9-23).

    ``body`` is what follows the 6-byte PDU header; fragments are read-only views into it
    and offsets count from its first byte. An item-length below 2, an item that overruns
    the body, or a body without any item raises :class:`PDVError` with the offset.
    """
    view = memoryview(body).toreadonly()
    if not view:
        raise PDVError(0, "P-DATA-TF holds no PDV item (PS3.8 Table 9-22: one or more)")
    offset = 0
    while offset < len(view):
        if len(view) - offset < _ITEM_LENGTH.size:
            raise PDVError(offset, f"{len(view) - offset} bytes left, too few for an item-length")
        (item_length,) = _ITEM_LENGTH.unpack_from(view, offset)
        if item_length < 2:
            raise PDVError(offset, f"PDV item-length {item_length} < 2 (PS3.8 Table 9-23)")
        end = offset + 4 + item_length
        if end > len(view):
            raise PDVError(
                offset,
                f"PDV item-length {item_length} overruns the P-DATA-TF by {end - len(view)} bytes",
            )
        pc_id, control = view[offset + 4 : offset + PDV_HEADER_LENGTH]
        yield PDV(pc_id, control, view[offset + PDV_HEADER_LENGTH : end], offset)
        offset = end


def max_fragment_length(max_length: int) -> int:
    """Largest even fragment in a one-PDV P-DATA-TF of PDU-length <= ``max_length``.

    PS3.8 D.1: ``max_length`` is the peer's maximum PDU-length (header excluded), 0 meaning
    unlimited (bounded by the 32-bit PDU-length field). Values 1 to 7 cannot carry a
    2-byte fragment and raise ``ValueError``.
    """
    if max_length == 0:
        max_length = MAX_UINT32
    if not MIN_MAX_LENGTH <= max_length <= MAX_UINT32:
        raise ValueError(
            f"max_length {max_length} cannot carry a 2-byte fragment: use 0 (unlimited) or "
            f"{MIN_MAX_LENGTH}..{MAX_UINT32} (PS3.8 D.1, 6 bytes of PDV header per PDU)"
        )
    return (max_length - PDV_HEADER_LENGTH) & ~1


def fragment(
    pc_id: int, payload: bytes | bytearray | memoryview, *, command: bool, max_length: int
) -> Iterator[bytes]:
    """Split a command or data set into whole P-DATA-TF PDUs, one PDV each (PS3.8 Annex E).

    Every fragment has an even length no greater than ``max_fragment_length(max_length)``;
    the message control header has bit 0 set for a command and bit 1 on the last fragment
    (Annex E.2). An empty or odd-length payload would need an empty or odd fragment,
    which Annex E.1 forbids, and raises ``ValueError``.
    """
    size = max_fragment_length(max_length)
    view = memoryview(payload).cast("B")
    if not view or len(view) % 2:
        raise ValueError(
            f"payload of {len(view)} bytes: PS3.8 Annex E.1 needs non-empty, even fragments"
        )
    if not 0 <= pc_id <= 0xFF:
        raise ValueError(f"presentation context ID {pc_id} does not fit in one byte")
    kind = COMMAND_BIT if command else 0
    for start in range(0, len(view), size):
        chunk = view[start : start + size]
        control = kind | (LAST_BIT if start + size >= len(view) else 0)
        header = _SINGLE_PDV_PDU_HEADER.pack(
            P_DATA_TF, len(chunk) + PDV_HEADER_LENGTH, len(chunk) + 2, pc_id, control
        )
        yield header + chunk
