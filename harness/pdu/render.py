"""Views of PDU layers: :func:`to_dict` (JSON), :func:`describe` (tree), :func:`summarize`;
:func:`p_data_views` gives the first and last of one P-DATA-TF without scapy."""

from __future__ import annotations

import struct
from typing import Any

from scapy.packet import Packet, RawVal

from harness import framing
from harness.pdu.base import TextValue
from harness.pdu.pdus import pdu_name

SUMMARIZED_ELEMENTS = 16
"""Items or PDVs named per list in a one-line summary; the rest counted."""


def _value(pkt: Packet, field: Any, value: Any, listed: int | None = None) -> Any:
    """One field value as JSON: int, str (text), hex str (binary) or a list of dicts (the
    first ``listed`` elements, all when None)."""
    if value is None:  # a length left unset: report the value that would be sent
        if field.name == pkt.length_field:
            return type(pkt).declared_length(bytes(pkt))
        return _value(pkt, field, field.i2m(pkt, None))
    if isinstance(value, list):
        return [to_dict(element, listed=listed) for element in value[:listed]]
    if isinstance(value, RawVal):
        value = bytes(value)
    elif isinstance(value, bytes):
        value = field.i2m(pkt, value)  # as sent: AE titles padded to 16 bytes
    if isinstance(value, bytes):
        return value.decode("latin-1") if isinstance(field, TextValue) else value.hex()
    return int(value)


def to_dict(pkt: Packet, *, listed: int | None = None) -> dict[str, Any]:
    """A JSON-serialisable view keyed by the PS3.8 field names, in wire order.

    Nested items are lists of dicts (each with its ``item_type``); AE titles, UIDs and
    names are ``str`` exactly as on the wire (padding kept visible); other bytes are hex
    strings; ``extra`` appears only when it holds bytes. Lengths left unset show the
    value that would be sent. With ``listed``, a list keeps its first ``listed`` elements
    and ``<field>_omitted`` counts the others (a report of thousands of PDVs stays small).
    """
    result: dict[str, Any] = {}
    for field in pkt.fields_desc:
        value = pkt.getfieldval(field.name)
        if field.name == "extra" and not value:
            continue
        result[field.name] = _value(pkt, field, value, listed)
        if isinstance(value, list) and listed is not None and len(value) > listed:
            result[f"{field.name}_omitted"] = len(value) - listed
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
    return _pdv_brief(element.pc_id, element.message_control_header, len(element.data))


def _pdv_brief(pc_id: int, control: int, size: int) -> str:
    return f"pc{pc_id}/{control:02X}H/{size}B"


def _list_text(named: list[str], total: int) -> str:
    """``[a b c +N more]``: the elements named, and how many more there are."""
    if total > len(named):
        named = [*named, f"+{total - len(named)} more"]
    return "[" + " ".join(named) + "]"


def summarize(pdu: Packet) -> str:
    """One line for a PDU: its name, its non-reserved fields and its items' type codes.

    Binary values show as their size; ``extra`` appears only when it holds bytes; a list
    names its first :data:`SUMMARIZED_ELEMENTS` elements and counts the others.
    """
    parts = [pdu_name(pdu)]
    for field in pdu.fields_desc[1:]:
        value = pdu.getfieldval(field.name)
        if field.name.startswith("reserved") or (field.name == "extra" and not value):
            continue
        if isinstance(value, list):
            named = [_brief(element) for element in value[:SUMMARIZED_ELEMENTS]]
            shown = _list_text(named, len(value))
        elif isinstance(value, bytes) and not isinstance(field, TextValue):
            shown = f"<{len(value)} bytes>"
        else:
            shown = repr(_value(pdu, field, value))
        parts.append(f"{field.name}={shown}")
    return " ".join(parts)


def p_data_views(raw: bytes, listed: int) -> tuple[dict[str, Any], str] | None:
    """``to_dict(pdu, listed=listed)`` and ``summarize(pdu)`` of ``raw`` when it is exactly
    one well-formed P-DATA-TF, read with :func:`harness.framing.iter_pdvs` (PS3.8 9.3.5:
    P-DATA is never turned into scapy layers, so thousands of PDVs cost microseconds);
    None for anything else (scapy then dissects it, or says where it is malformed)."""
    if len(raw) < 6 or raw[0] != framing.P_DATA_TF:
        return None
    reserved, length = struct.unpack_from(">xBL", raw)
    if length + 6 != len(raw):
        return None
    try:
        pdvs = list(framing.iter_pdvs(memoryview(raw)[6:]))
    except framing.PDVError:
        return None
    described: dict[str, Any] = {
        "pdu_type": framing.P_DATA_TF,
        "reserved1": reserved,
        "length": length,
        "pdvs": [
            {
                "item_length": len(pdv.fragment) + 2,
                "pc_id": pdv.pc_id,
                "message_control_header": pdv.message_control_header,
                "data": pdv.fragment.hex(),
            }
            for pdv in pdvs[:listed]
        ],
    }
    if len(pdvs) > listed:
        described["pdvs_omitted"] = len(pdvs) - listed
    named = [
        _pdv_brief(pdv.pc_id, pdv.message_control_header, len(pdv.fragment))
        for pdv in pdvs[:SUMMARIZED_ELEMENTS]
    ]
    return described, f"P-DATA-TF length={length} pdvs={_list_text(named, len(pdvs))}"
