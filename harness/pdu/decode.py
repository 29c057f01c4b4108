"""Strict dissection of bytes into PDU layers, with exact offsets for every defect.

A validating walk over the bytes (PDU header, item headers, inner length fields), driven by
each layer's ``shape``, runs before scapy dissects a PDU: scapy itself is lenient and would
turn a bad length into ``Raw`` bytes or a ``struct.error``. The walk raises
:class:`PDUDecodeError` at the first defect; see the package docstring for the rules.
"""

from __future__ import annotations

import struct

from scapy.packet import Packet

from harness.errors import DecodeError
from harness.memo import Memo
from harness.pdu.base import Counted, Elements, Fixed, LengthPrefixed
from harness.pdu.pdus import PDU_TYPE_NAMES, pdu_class


class PDUDecodeError(DecodeError):
    """Bytes that are not well-formed PDUs; ``partial`` holds the PDUs understood before."""

    def __init__(self, offset: int, message: str, partial: list[Packet] | None = None) -> None:
        super().__init__(offset, message)
        self.partial: list[Packet] = list(partial or [])


def _label(cls: type[LengthPrefixed], buf: bytes, start: int) -> str:
    """The structure's name for messages, with its type code when it has one."""
    name = cls.layer_name()
    return f"{name} (type 0x{buf[start]:02X})" if cls.typed else name


def _check_element(
    buf: bytes, start: int, limit: int, cls: type[LengthPrefixed], container: str
) -> int:
    """Check the structure of ``cls`` at ``start``, which must end by ``limit``; return its end."""
    label = _label(cls, buf, start)
    header = cls.header_size()
    if limit - start < header:
        raise PDUDecodeError(
            start,
            f"{label}: the header needs {header} bytes, only {limit - start} remain in {container}",
        )
    length = cls.declared_length(buf, start)
    end = start + header + length
    if end > limit:
        raise PDUDecodeError(
            start,
            f"{label}: {cls.length_field} {length} needs {header + length} bytes from offset "
            f"{start}, only {limit - start} remain in {container}",
        )
    _check_body(buf, cls, start, end, label)
    return end


def _check_body(buf: bytes, cls: type[LengthPrefixed], start: int, end: int, label: str) -> None:
    """Walk the body of the structure at ``start`` (ending at ``end``) along ``cls.shape``."""
    pos = start + cls.header_size()
    for token in cls.shape:
        if isinstance(token, Fixed):
            if end - pos < token.size:
                raise PDUDecodeError(
                    start,
                    f"{label}: {cls.length_field} {cls.declared_length(buf, start)} leaves "
                    f"{end - pos} bytes for {token.what}, which need {token.size}",
                )
            pos += token.size
        elif isinstance(token, Counted):
            pos = _check_counted(buf, pos, end, token, label)
        else:
            _check_elements(buf, pos, end, token, label)
            pos = end


def _check_counted(buf: bytes, pos: int, end: int, token: Counted, label: str) -> int:
    """A 2-byte length field at ``pos`` and the value it measures; return the value's end."""
    if end - pos < 2:
        raise PDUDecodeError(
            pos, f"{label}: the item ends at offset {end}, before its 2-byte {token.length_field}"
        )
    length: int = struct.unpack_from("!H", buf, pos)[0]
    value_end = pos + 2 + length
    if value_end > end:
        raise PDUDecodeError(
            pos,
            f"{label}: {token.length_field} {length} overruns the item, which ends at offset {end}",
        )
    if token.elements is not None:
        _check_elements(buf, pos + 2, value_end, token.elements, f"{label} {token.length_field}")
    return value_end


def _check_elements(buf: bytes, pos: int, end: int, elements: Elements, container: str) -> None:
    """A list of elements filling ``buf[pos:end]``, at most ``elements.max_count`` of them."""
    count = 0
    while pos < end:
        if count == elements.max_count:
            raise PDUDecodeError(
                pos, f"more than {elements.max_count} elements in {container}: refused"
            )
        pos = _check_element(buf, pos, end, elements.classify(buf[pos]), container)
        count += 1


def _check_at(buf: bytes, start: int) -> int:
    """Check the structure of the PDU at ``start``; return the offset just after it."""
    if len(buf) - start < 6:
        raise PDUDecodeError(
            start, f"a PDU header needs 6 bytes, only {len(buf) - start} remain in the input"
        )
    return _check_element(buf, start, len(buf), pdu_class(buf[start]), "the input")


def _dissect_at(buf: bytes, start: int) -> tuple[Packet, int]:
    """Check and dissect the PDU at ``start``; return it and the offset just after it."""
    end = _check_at(buf, start)
    cls = pdu_class(buf[start])
    try:
        return cls(buf[start:end]), end
    except Exception as exc:  # the walk above makes this unreachable; keep the contract anyway
        raise PDUDecodeError(start, f"internal dissection failure: {exc!r}") from exc


def dissect(data: bytes | bytearray | memoryview) -> list[Packet]:
    """Dissect one or more concatenated PDUs; raise :class:`PDUDecodeError` on any defect.

    The error's ``offset`` is absolute (0-based, from the first byte of ``data``) and its
    ``partial`` lists the PDUs fully dissected before the defective one.
    """
    buf = bytes(data)
    pdus: list[Packet] = []
    pos = 0
    while True:
        try:
            pdu, pos = _dissect_at(buf, pos)
        except PDUDecodeError as exc:
            raise PDUDecodeError(exc.offset, exc.reason, pdus) from None
        pdus.append(pdu)
        if pos == len(buf):
            return pdus


def dissect_one(data: bytes | bytearray | memoryview) -> Packet:
    """Dissect exactly one PDU; bytes after it are an error at their offset."""
    buf = bytes(data)
    pdu, end = _dissect_at(buf, 0)
    _check_nothing_after(buf, end, pdu)
    return pdu


_SHARED: Memo[Packet] = Memo(entries=32, max_size=4096, size=lambda packet: len(packet.original))


def dissect_shared(data: bytes) -> Packet:
    """:func:`dissect_one`, memoised on the bytes: a peer sends the same few PDUs over and
    over (its A-ASSOCIATE-AC, A-RELEASE-RP, the profile's RQ). The packet is shared
    between callers and threads: read it, never modify it."""
    return _SHARED.get(data, lambda: dissect_one(data))


def check_one(data: bytes | bytearray | memoryview) -> None:
    """What :func:`dissect_one` checks, without building scapy layers (a fast validity test).

    Raises the same :class:`PDUDecodeError` (without ``partial``) for the same defects.
    """
    buf = bytes(data)
    _check_nothing_after(buf, _check_at(buf, 0), None)


def _check_nothing_after(buf: bytes, end: int, pdu: Packet | None) -> None:
    """Bytes after the one PDU expected are an error at their offset."""
    if end != len(buf):
        what = PDU_TYPE_NAMES.get(buf[0], f"unknown PDU type 0x{buf[0]:02X}")
        raise PDUDecodeError(
            end,
            f"{len(buf) - end} bytes follow the {what}, which ends here",
            [pdu] if pdu is not None else [],
        )
