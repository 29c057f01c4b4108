"""Views of PDU layers: :func:`to_dict` (JSON), :func:`describe` (tree), :func:`summarize`."""

from __future__ import annotations

from typing import Any

from scapy.packet import Packet, RawVal

from harness.pdu.base import TextValue
from harness.pdu.pdus import pdu_name


def _value(pkt: Packet, field: Any, value: Any) -> Any:
    """One field value as JSON: int, str (text), hex str (binary) or a list of dicts."""
    if value is None:  # a length left unset: report the value that would be sent
        if field.name == pkt.length_field:
            return type(pkt).declared_length(bytes(pkt))
        return _value(pkt, field, field.i2m(pkt, None))
    if isinstance(value, list):
        return [to_dict(element) for element in value]
    if isinstance(value, RawVal):
        value = bytes(value)
    elif isinstance(value, bytes):
        value = field.i2m(pkt, value)  # as sent: AE titles padded to 16 bytes
    if isinstance(value, bytes):
        return value.decode("latin-1") if isinstance(field, TextValue) else value.hex()
    return int(value)


def to_dict(pkt: Packet) -> dict[str, Any]:
    """A JSON-serialisable view keyed by the PS3.8 field names, in wire order.

    Nested items are lists of dicts (each with its ``item_type``); AE titles, UIDs and
    names are ``str`` exactly as on the wire (padding kept visible); other bytes are hex
    strings; ``extra`` appears only when it holds bytes. Lengths left unset show the
    value that would be sent.
    """
    result: dict[str, Any] = {}
    for field in pkt.fields_desc:
        value = pkt.getfieldval(field.name)
        if field.name == "extra" and not value:
            continue
        result[field.name] = _value(pkt, field, value)
    return result


def describe(pkt: Packet) -> str:
    """Scapy's indented field tree of ``pkt`` as it would be sent and read back.

    A packet built with inconsistent lengths on purpose may not read back; it is then
    shown with its fields as set.
    """
    try:
        text: str = pkt.show2(dump=True)
    except Exception:  # deliberately malformed: nothing to read back
        text = pkt.show(dump=True)
    return text


def _brief(element: Packet) -> str:
    """An item as its type code, a PDV as PC-ID/control header/fragment size."""
    if element.typed:
        return f"{element.item_type:02X}H"
    return f"pc{element.pc_id}/{element.message_control_header:02X}H/{len(element.data)}B"


def summarize(pdu: Packet) -> str:
    """One line for a PDU: its name, its non-reserved fields and its items' type codes.

    Binary values show as their size; ``extra`` appears only when it holds bytes.
    """
    parts = [pdu_name(pdu)]
    for field in pdu.fields_desc[1:]:
        value = pdu.getfieldval(field.name)
        if field.name.startswith("reserved") or (field.name == "extra" and not value):
            continue
        if isinstance(value, list):
            shown = "[" + " ".join(_brief(element) for element in value) + "]"
        elif isinstance(value, bytes) and not isinstance(field, TextValue):
            shown = f"<{len(value)} bytes>"
        else:
            shown = repr(_value(pdu, field, value))
        parts.append(f"{field.name}={shown}")
    return " ".join(parts)
