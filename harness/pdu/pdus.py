"""The seven PDUs of the DICOM Upper Layer (PS3.8 section 9.3), plus :class:`UnknownPDU`."""

from __future__ import annotations

from typing import Any

from scapy.fields import (
    ByteEnumField,
    ByteField,
    IntField,
    MultiEnumField,
    PacketListField,
    ShortField,
    StrField,
)
from scapy.packet import Packet

from harness.pdu.base import AETitleField, Fixed, LengthPrefixed, PaddedField, element_list
from harness.pdu.items import PDV_ITEMS, VARIABLE_ITEMS, PDVItem

PDU_TYPE_NAMES: dict[int, str] = {
    0x01: "A-ASSOCIATE-RQ",
    0x02: "A-ASSOCIATE-AC",
    0x03: "A-ASSOCIATE-RJ",
    0x04: "P-DATA-TF",
    0x05: "A-RELEASE-RQ",
    0x06: "A-RELEASE-RP",
    0x07: "A-ABORT",
}
"""PDU-type codes (PS3.8 section 9.3.1)."""

RJ_RESULT_NAMES = {1: "rejected-permanent", 2: "rejected-transient"}
"""A-ASSOCIATE-RJ Result (PS3.8 Table 9-21)."""

RJ_SOURCE_NAMES = {
    1: "service-user",
    2: "service-provider (ACSE related function)",
    3: "service-provider (presentation related function)",
}
"""A-ASSOCIATE-RJ Source (PS3.8 Table 9-21)."""

RJ_REASON_NAMES = {
    1: {
        1: "no-reason-given",
        2: "application-context-name-not-supported",
        3: "calling-AE-title-not-recognized",
        7: "called-AE-title-not-recognized",
    },
    2: {1: "no-reason-given", 2: "protocol-version-not-supported"},
    3: {1: "temporary-congestion", 2: "local-limit-exceeded"},
}
"""A-ASSOCIATE-RJ Reason/Diag. by source (PS3.8 Table 9-21)."""

ABORT_SOURCE_NAMES = {0: "service-user", 1: "reserved", 2: "service-provider"}
"""A-ABORT Source (PS3.8 Table 9-26)."""

ABORT_REASON_NAMES = {
    2: {
        0: "reason-not-specified",
        1: "unrecognized-PDU",
        2: "unexpected-PDU",
        4: "unrecognized-PDU-parameter",
        5: "unexpected-PDU-parameter",
        6: "invalid-PDU-parameter-value",
    }
}
"""A-ABORT Reason/Diag. for the service-provider source (PS3.8 Table 9-26)."""


class PDU(LengthPrefixed):
    """A PDU: 1-byte PDU-type, 1 reserved byte, 4-byte PDU-length (PS3.8 section 9.3.1)."""

    length_field = "length"
    length_format = "!I"


def _pdu_header(pdu_type: int) -> list[Any]:
    """``pdu_type``, ``reserved1``, ``length``."""
    return [
        ByteEnumField("pdu_type", pdu_type, PDU_TYPE_NAMES),
        ByteField("reserved1", 0),
        IntField("length", None),
    ]


def _association_fields(pdu_type: int) -> list[Any]:
    """The layout shared by A-ASSOCIATE-RQ and -AC (PS3.8 Tables 9-11 and 9-17)."""
    return [
        *_pdu_header(pdu_type),
        ShortField("protocol_version", 0x0001),
        ShortField("reserved2", 0),
        AETitleField("called_ae_title", b"ANY-SCP"),
        AETitleField("calling_ae_title", b"DICOM-HARNESS"),
        PaddedField("reserved3", b"", 32, b"\x00"),
        PacketListField(
            "variable_items",
            [],
            element_list(VARIABLE_ITEMS.classify),
            max_count=VARIABLE_ITEMS.max_count,
        ),
    ]


_ASSOCIATION_SHAPE = (Fixed(68, "the fixed fields protocol_version..reserved3"), VARIABLE_ITEMS)


class A_ASSOCIATE_RQ(PDU):
    """A-ASSOCIATE-RQ, 01H (PS3.8 section 9.3.2, Table 9-11)."""

    name = "A-ASSOCIATE-RQ"
    fields_desc = _association_fields(0x01)
    shape = _ASSOCIATION_SHAPE


class A_ASSOCIATE_AC(PDU):
    """A-ASSOCIATE-AC, 02H (PS3.8 section 9.3.3, Table 9-17).

    PS3.8 makes bytes 11-42 reserved fields that echo the RQ's titles; they keep the RQ's
    names ``called_ae_title`` and ``calling_ae_title`` here.
    """

    name = "A-ASSOCIATE-AC"
    fields_desc = _association_fields(0x02)
    shape = _ASSOCIATION_SHAPE


class _FixedPDU(PDU):
    """The 10-byte PDUs: a 4-byte body, PDU-length 00000004H (PS3.8 Tables 9-21, 9-24..9-26).

    Body bytes beyond the 4 defined ones (a PDU-length above 4) land in ``extra``.
    """

    shape = (Fixed(4, "the 4 fixed bytes"),)


def _fixed_pdu_fields(pdu_type: int, *body: Any) -> list[Any]:
    """Header, the 4 body bytes, then ``extra``."""
    return [*_pdu_header(pdu_type), *body, StrField("extra", b"")]


class A_ASSOCIATE_RJ(_FixedPDU):
    """A-ASSOCIATE-RJ, 03H (PS3.8 section 9.3.4, Table 9-21)."""

    name = "A-ASSOCIATE-RJ"
    fields_desc = _fixed_pdu_fields(
        0x03,
        ByteField("reserved2", 0),
        ByteEnumField("result", 1, RJ_RESULT_NAMES),
        ByteEnumField("source", 1, RJ_SOURCE_NAMES),
        MultiEnumField("reason", 1, RJ_REASON_NAMES, depends_on=lambda pkt: pkt.source, fmt="B"),
    )


class A_RELEASE_RQ(_FixedPDU):
    """A-RELEASE-RQ, 05H (PS3.8 section 9.3.6, Table 9-24)."""

    name = "A-RELEASE-RQ"
    fields_desc = _fixed_pdu_fields(0x05, IntField("reserved2", 0))


class A_RELEASE_RP(_FixedPDU):
    """A-RELEASE-RP, 06H (PS3.8 section 9.3.7, Table 9-25)."""

    name = "A-RELEASE-RP"
    fields_desc = _fixed_pdu_fields(0x06, IntField("reserved2", 0))


class A_ABORT(_FixedPDU):
    """A-ABORT, 07H (PS3.8 section 9.3.8, Table 9-26)."""

    name = "A-ABORT"
    fields_desc = _fixed_pdu_fields(
        0x07,
        ByteField("reserved2", 0),
        ByteField("reserved3", 0),
        ByteEnumField("source", 0, ABORT_SOURCE_NAMES),
        MultiEnumField("reason", 0, ABORT_REASON_NAMES, depends_on=lambda pkt: pkt.source, fmt="B"),
    )


class P_DATA_TF(PDU):
    """P-DATA-TF, 04H (PS3.8 section 9.3.5, Table 9-22): one or more PDV items."""

    name = "P-DATA-TF"
    fields_desc = [
        *_pdu_header(0x04),
        PacketListField("pdvs", [], PDVItem, max_count=PDV_ITEMS.max_count),
    ]
    shape = (PDV_ITEMS,)


class UnknownPDU(PDU):
    """A PDU of a type PS3.8 does not define: Evt19 in Table 9-10, so it must be seen."""

    name = "Unknown PDU"
    fields_desc = [*_pdu_header(0x08), StrField("data", b"")]


PDU_CLASSES: dict[str, type[PDU]] = {
    "A-ASSOCIATE-RQ": A_ASSOCIATE_RQ,
    "A-ASSOCIATE-AC": A_ASSOCIATE_AC,
    "A-ASSOCIATE-RJ": A_ASSOCIATE_RJ,
    "P-DATA-TF": P_DATA_TF,
    "A-RELEASE-RQ": A_RELEASE_RQ,
    "A-RELEASE-RP": A_RELEASE_RP,
    "A-ABORT": A_ABORT,
}
"""Every PS3.8 PDU layer by its name."""

_BY_TYPE: dict[int, type[PDU]] = {code: PDU_CLASSES[name] for code, name in PDU_TYPE_NAMES.items()}
_NAMES: dict[type[Packet], str] = {cls: name for name, cls in PDU_CLASSES.items()}


def pdu_class(pdu_type: int) -> type[PDU]:
    """The layer that dissects a PDU of this type; :class:`UnknownPDU` for undefined types."""
    return _BY_TYPE.get(pdu_type, UnknownPDU)


def pdu_name(pkt: Packet) -> str:
    """``"A-ASSOCIATE-RQ"`` etc., or ``"unknown PDU type 0x08"`` for an :class:`UnknownPDU`."""
    if isinstance(pkt, UnknownPDU):
        return f"unknown PDU type 0x{pkt.pdu_type:02X}"
    try:
        return _NAMES[type(pkt)]
    except KeyError:
        raise TypeError(f"not a PDU layer: {type(pkt).__name__}") from None
