"""Malformed frames: every defect either dissects with the defect visible, or raises
``PDUDecodeError`` at the right absolute offset; never ``struct.error`` or ``IndexError``.

The truncation tests use a small independent encoder (below) that records where every
structure, fixed part and inner length field of a realistic A-ASSOCIATE-RQ lies, so the
expected offsets do not come from the codec under test.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest
from scapy.packet import Packet, Raw, RawVal

from harness.errors import DecodeError
from harness.pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    P_DATA_TF,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    ImplementationClassUIDSubItem,
    MaximumLengthSubItem,
    PDUDecodeError,
    PDVItem,
    PresentationContextRQItem,
    RoleSelectionSubItem,
    TransferSyntaxSubItem,
    UnknownItem,
    UnknownPDU,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserInformationItem,
    describe,
    dissect,
    dissect_one,
    pdu_name,
    summarize,
    to_dict,
)

# -- an independent encoder that records the layout ------------------------------------------


@dataclass
class Node:
    """Where one PDU or item lies, and the checkpoints inside its body, in input order."""

    start: int
    header: int
    end: int = 0
    tokens: list[tuple[str, int, int]] = field(default_factory=list)
    """("fixed" | "counted", from, to) with absolute offsets."""
    children: list[Node] = field(default_factory=list)


@dataclass
class Spec:
    """A PDU (``header`` 6) or item (``header`` 4) and its body, token by token."""

    type_byte: int
    body: list[tuple[str, Any]]
    """("fixed", bytes) | ("counted", bytes) | ("items", [Spec]) | ("rest", bytes)."""
    header: int = 4


def encode(spec: Spec, offset: int = 0) -> tuple[bytes, Node]:
    """Bytes of ``spec`` placed at ``offset``, and its layout."""
    node = Node(start=offset, header=spec.header)
    body = b""
    for kind, value in spec.body:
        pos = offset + spec.header + len(body)
        if kind == "items":
            for child_spec in value:
                child_bytes, child = encode(child_spec, offset + spec.header + len(body))
                node.children.append(child)
                body += child_bytes
            continue
        chunk = struct.pack("!H", len(value)) + value if kind == "counted" else value
        if kind != "rest":
            node.tokens.append((kind, pos, pos + len(chunk)))
        body += chunk
    fmt = "!BBI" if spec.header == 6 else "!BBH"
    node.end = offset + spec.header + len(body)
    return struct.pack(fmt, spec.type_byte, 0, len(body)) + body, node


def uid_item(item_type: int, uid: bytes) -> Spec:
    return Spec(item_type, [("rest", uid)])


REALISTIC_RQ = Spec(
    0x01,
    [
        ("fixed", b"\x00\x01\x00\x00" + b"STORESCP".ljust(16) + b"STORESCU".ljust(16) + bytes(32)),
        (
            "items",
            [
                uid_item(0x10, b"1.2.840.10008.3.1.1.1"),
                Spec(
                    0x20,
                    [
                        ("fixed", b"\x01\x00\x00\x00"),
                        (
                            "items",
                            [
                                uid_item(0x30, b"1.2.840.10008.1.1"),
                                uid_item(0x40, b"1.2.840.10008.1.2"),
                            ],
                        ),
                    ],
                ),
                Spec(
                    0x20,
                    [
                        ("fixed", b"\x03\x00\x00\x00"),
                        (
                            "items",
                            [
                                uid_item(0x30, b"1.2.840.10008.5.1.4.1.1.2"),
                                uid_item(0x40, b"1.2.840.10008.1.2.1"),
                                uid_item(0x40, b"1.2.840.10008.1.2"),
                            ],
                        ),
                    ],
                ),
                Spec(
                    0x50,
                    [
                        (
                            "items",
                            [
                                Spec(0x51, [("fixed", struct.pack("!I", 16384))]),
                                uid_item(0x52, b"1.2.826.0.1.3680043.10.1234"),
                                Spec(0x53, [("fixed", b"\x00\x02\x00\x02")]),
                                Spec(
                                    0x54,
                                    [
                                        ("counted", b"1.2.840.10008.5.1.4.1.1.2"),
                                        ("fixed", b"\x01\x00"),
                                    ],
                                ),
                                uid_item(0x55, b"HARNESS_1"),
                                Spec(
                                    0x56,
                                    [("counted", b"1.2.840.10008.5.1.4.1.2.1.1"), ("rest", b"\1")],
                                ),
                                Spec(
                                    0x57,
                                    [
                                        ("counted", b"1.2.840.10008.5.1.4.1.1.2"),
                                        ("counted", b"1.2.840.10008.4.2"),
                                        ("counted", b"\x00\x051.2.3\x00\x031.4"),
                                    ],
                                ),
                                Spec(
                                    0x58,
                                    [
                                        ("fixed", b"\x02\x01"),
                                        ("counted", b"alice"),
                                        ("counted", b"s3cret"),
                                    ],
                                ),
                            ],
                        )
                    ],
                ),
            ],
        ),
    ],
    header=6,
)

RQ_BYTES, RQ_LAYOUT = encode(REALISTIC_RQ)


def nodes(node: Node) -> list[Node]:
    """``node`` and everything inside it."""
    return [node, *(n for child in node.children for n in nodes(child))]


def expected_error(node: Node, cut: int) -> int | None:
    """The offset of the error for input cut at ``cut`` inside ``node``, or None if it dissects.

    Assumes every structure whose length field survived the cut had its length shortened
    to end at the cut (inner 2-byte length fields are left as they were).
    """
    if cut < node.start + node.header:
        return node.start  # the header itself is cut
    for kind, first, last in node.tokens:
        if cut < last:
            return node.start if kind == "fixed" else first
    for child in node.children:
        if child.start < cut < child.end:
            return expected_error(child, cut)
    return None


def cut_consistently(cut: int) -> bytes:
    """``RQ_BYTES[:cut]`` with every surviving enclosing length shortened to match."""
    data = bytearray(RQ_BYTES[:cut])
    for node in nodes(RQ_LAYOUT):
        if node.start + node.header <= cut < node.end:
            fmt = "!I" if node.header == 6 else "!H"
            struct.pack_into(fmt, data, node.start + 2, cut - node.start - node.header)
    return bytes(data)


def realistic_rq() -> Packet:
    """The same A-ASSOCIATE-RQ, built with our layers."""
    return dissect_one(RQ_BYTES)


def test_independent_encoder_matches_our_layers() -> None:
    rq = realistic_rq()
    rq.clear_cache()
    assert bytes(rq) == RQ_BYTES
    assert len(rq.variable_items) == 4
    assert [i.item_type for i in rq.variable_items[3].user_data] == list(range(0x51, 0x59))


@pytest.mark.parametrize("cut", range(len(RQ_BYTES)))
def test_truncation_at_every_offset_is_a_truncated_pdu(cut: int) -> None:
    with pytest.raises(PDUDecodeError) as caught:
        dissect(RQ_BYTES[:cut])
    assert caught.value.offset == 0
    assert caught.value.partial == []
    expected = "header needs 6 bytes" if cut < 6 else f"length {len(RQ_BYTES) - 6} needs"
    assert expected in str(caught.value)


@pytest.mark.parametrize("cut", range(len(RQ_BYTES)))
def test_truncation_with_lengths_made_consistent(cut: int) -> None:
    data = cut_consistently(cut)
    expected = expected_error(RQ_LAYOUT, cut)
    if expected is None:
        (pdu,) = dissect(data)
        assert isinstance(pdu, A_ASSOCIATE_RQ)
        assert bytes(pdu) == data
        json.dumps(to_dict(pdu))
    else:
        with pytest.raises(PDUDecodeError) as caught:
            dissect(data)
        assert caught.value.offset == expected, str(caught.value)


def test_truncation_cases_cover_every_kind_of_error() -> None:
    outcomes = {expected_error(RQ_LAYOUT, cut) for cut in range(len(RQ_BYTES))}
    starts = {n.start for n in nodes(RQ_LAYOUT)}
    counted = {t[1] for n in nodes(RQ_LAYOUT) for t in n.tokens if t[0] == "counted"}
    assert None in outcomes
    assert outcomes & counted == counted
    assert len(outcomes & starts) > 10


# -- PDU lengths ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [A_ASSOCIATE_RJ, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT])
def test_fixed_pdu_with_short_length_is_an_error(cls: type[Packet]) -> None:
    data = bytes(cls(length=2)) + bytes(cls())
    with pytest.raises(PDUDecodeError) as caught:
        dissect(data)
    assert caught.value.offset == 0
    assert "leaves 2 bytes for the 4 fixed bytes" in str(caught.value)


@pytest.mark.parametrize("cls", [A_ASSOCIATE_RJ, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT])
def test_fixed_pdu_with_long_length_dissects_with_the_surplus_visible(cls: type[Packet]) -> None:
    data = bytes(cls(extra=b"\xee\xff"))
    assert data[2:6] == b"\x00\x00\x00\x06"
    (pdu,) = dissect(data)
    assert pdu.length == 6
    assert pdu.extra == b"\xee\xff"
    assert to_dict(pdu)["extra"] == "eeff"


def test_fixed_pdu_length_beyond_the_input_is_a_truncated_pdu() -> None:
    data = bytes(A_RELEASE_RQ()) + bytes(A_ABORT(length=6))
    with pytest.raises(PDUDecodeError) as caught:
        dissect(data)
    assert caught.value.offset == 10
    assert [pdu_name(p) for p in caught.value.partial] == ["A-RELEASE-RQ"]
    assert "only 10 remain" in str(caught.value)


def test_association_fixed_part_shorter_than_68_bytes() -> None:
    data = bytearray(RQ_BYTES[:74])
    struct.pack_into("!I", data, 2, 67)
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(data[:73]))
    assert caught.value.offset == 0
    assert "which need 68" in str(caught.value)


def test_association_with_only_the_fixed_part_dissects_without_items() -> None:
    (pdu,) = dissect(bytes(A_ASSOCIATE_AC()))
    assert pdu.length == 68
    assert pdu.variable_items == []


def test_fewer_than_six_bytes_and_empty_input() -> None:
    for data in (b"", b"\x05\x00\x00\x00"):
        with pytest.raises(PDUDecodeError) as caught:
            dissect(data)
        assert caught.value.offset == 0
        assert "header needs 6 bytes" in str(caught.value)


def test_pdu_decode_error_is_a_decode_error_with_partial_results() -> None:
    data = bytes(A_RELEASE_RQ()) + bytes(A_RELEASE_RP()) + b"\x07\x00"
    with pytest.raises(DecodeError) as caught:
        dissect(data)
    assert isinstance(caught.value, PDUDecodeError)
    assert caught.value.offset == 20
    assert [pdu_name(p) for p in caught.value.partial] == ["A-RELEASE-RQ", "A-RELEASE-RP"]
    assert str(caught.value).startswith("at byte offset 20: ")


def test_dissect_one_refuses_trailing_bytes_at_their_offset() -> None:
    data = bytes(A_RELEASE_RQ()) + bytes(A_RELEASE_RP())
    with pytest.raises(PDUDecodeError) as caught:
        dissect_one(data)
    assert caught.value.offset == 10
    assert [pdu_name(p) for p in caught.value.partial] == ["A-RELEASE-RQ"]
    assert isinstance(dissect_one(data[:10]), A_RELEASE_RQ)


# -- unknown types ----------------------------------------------------------------------------


def test_unknown_pdu_type_dissects_and_is_named() -> None:
    data = bytes.fromhex("08000000000400000000") + bytes(A_RELEASE_RQ())
    unknown, release = dissect(data)
    assert isinstance(unknown, UnknownPDU)
    assert pdu_name(unknown) == "unknown PDU type 0x08"
    assert to_dict(unknown) == {"pdu_type": 8, "reserved1": 0, "length": 4, "data": "00000000"}
    assert pdu_name(release) == "A-RELEASE-RQ"
    assert bytes(UnknownPDU(pdu_type=0xFF, data=b"\x01")) == bytes.fromhex("ff000000000101")


def test_known_class_with_another_type_code_is_sent_as_written() -> None:
    (pdu,) = dissect(bytes(A_ABORT(pdu_type=0x09)))
    assert isinstance(pdu, UnknownPDU)
    assert pdu.pdu_type == 0x09


def test_unknown_items_dissect_with_the_defect_visible() -> None:
    rq = A_ASSOCIATE_RQ(
        variable_items=[
            ApplicationContextItem(),
            UserInformationItem(
                user_data=[
                    MaximumLengthSubItem(),
                    UnknownItem(item_type=0x70, data=b"\x01\x02"),
                    ImplementationClassUIDSubItem(),
                ]
            ),
            UnknownItem(item_type=0x60, reserved1=0x11, data=b""),
            MaximumLengthSubItem(),  # known type, wrong context: unknown there
        ]
    )
    (pdu,) = dissect(bytes(rq))
    user_data = pdu.variable_items[1].user_data
    assert [type(i) for i in user_data] == [
        MaximumLengthSubItem,
        UnknownItem,
        ImplementationClassUIDSubItem,
    ]
    assert to_dict(user_data[1]) == {
        "item_type": 0x70,
        "reserved1": 0,
        "item_length": 2,
        "data": "0102",
    }
    top = pdu.variable_items
    assert isinstance(top[2], UnknownItem)
    assert (top[2].item_type, top[2].reserved1, top[2].item_length) == (0x60, 0x11, 0)
    assert isinstance(top[3], UnknownItem)
    assert (top[3].item_type, top[3].data) == (0x51, struct.pack("!I", 16384))


# -- item lengths -----------------------------------------------------------------------------


def test_item_length_overrunning_the_pdu() -> None:
    rq = A_ASSOCIATE_RQ(variable_items=[ApplicationContextItem(item_length=200)])
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(rq))
    assert caught.value.offset == 74
    assert "item_length 200" in str(caught.value)


def test_sub_item_length_overrunning_its_item() -> None:
    rq = A_ASSOCIATE_RQ(
        variable_items=[
            UserInformationItem(
                user_data=[MaximumLengthSubItem(), ImplementationClassUIDSubItem(item_length=99)]
            ),
            ApplicationContextItem(),
        ]
    )
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(rq))
    assert caught.value.offset == 74 + 4 + 8
    assert "Implementation Class UID Sub-Item" in str(caught.value)


def test_item_length_too_short_for_fixed_fields() -> None:
    rq = A_ASSOCIATE_RQ(
        variable_items=[UserInformationItem(user_data=[MaximumLengthSubItem(item_length=2)])]
    )
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(rq))
    assert caught.value.offset == 78
    assert "max_length" in str(caught.value)


def test_item_length_short_of_a_uid_desynchronises_visibly_or_errors() -> None:
    rq = A_ASSOCIATE_RQ(
        variable_items=[
            PresentationContextRQItem(
                sub_items=[AbstractSyntaxSubItem(item_length=4), TransferSyntaxSubItem()]
            )
        ]
    )
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(rq))
    # the 30H item ends after "1.2." and ".840.10008.1.1" is read as an item header
    assert caught.value.offset == 74 + 8 + 8
    assert "unknown" in str(caught.value).lower()


def test_item_length_longer_than_its_uid_swallows_the_next_sub_item_visibly() -> None:
    ts = TransferSyntaxSubItem()
    rq = A_ASSOCIATE_RQ(
        variable_items=[
            PresentationContextRQItem(
                sub_items=[AbstractSyntaxSubItem(item_length=17 + len(ts)), ts]
            )
        ]
    )
    (pdu,) = dissect(bytes(rq))
    (abstract,) = pdu.variable_items[0].sub_items
    assert abstract.abstract_syntax_name == b"1.2.840.10008.1.1" + bytes(ts)


def test_item_header_that_does_not_fit() -> None:
    rq = A_ASSOCIATE_RQ(variable_items=[ApplicationContextItem(), Raw(b"\x20\x00")])
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(rq))
    assert caught.value.offset == 74 + 25
    assert "header needs 4 bytes, only 2 remain" in str(caught.value)


# -- inner length fields ----------------------------------------------------------------------


def in_user_information(*sub_items: Packet) -> bytes:
    return bytes(A_ASSOCIATE_RQ(variable_items=[UserInformationItem(user_data=list(sub_items))]))


USER_DATA = 74 + 4  # offset of the first sub-item in ``in_user_information``


@pytest.mark.parametrize(
    ("sub_item", "field_offset", "name"),
    [
        (RoleSelectionSubItem(sop_class_uid=b"1.2.3", uid_length=50), 4, "uid_length"),
        (UserIdentityRQSubItem(primary_field=b"bob", primary_field_length=9), 6, "primary_field"),
        (
            UserIdentityRQSubItem(primary_field=b"bob", secondary_field_length=1),
            11,
            "secondary_field_length",
        ),
        (UserIdentityACSubItem(server_response_length=3), 4, "server_response_length"),
    ],
    ids=["0x54-uid_length", "0x58-primary", "0x58-secondary", "0x59-server-response"],
)
def test_inner_length_overrun_is_reported_at_the_length_field(
    sub_item: Packet, field_offset: int, name: str
) -> None:
    with pytest.raises(PDUDecodeError) as caught:
        dissect(in_user_information(sub_item))
    assert caught.value.offset == USER_DATA + field_offset
    assert name in str(caught.value)


def test_user_identity_without_secondary_length_is_an_error() -> None:
    item = UserIdentityRQSubItem(primary_field=b"bob", item_length=7)
    data = in_user_information(item)[:-2]
    data = data[:2] + struct.pack("!I", len(data) - 6) + data[6:]
    data = data[:76] + struct.pack("!H", len(data) - 78) + data[78:]
    with pytest.raises(PDUDecodeError) as caught:
        dissect(data)
    assert caught.value.offset == USER_DATA + 11
    assert "before its 2-byte secondary_field_length" in str(caught.value)


def test_role_selection_without_role_bytes_is_an_error() -> None:
    item = RoleSelectionSubItem(sop_class_uid=b"1.2.3", item_length=7)
    with pytest.raises(PDUDecodeError) as caught:
        dissect(in_user_information(item, Raw(b"\x00\x00")))
    assert caught.value.offset == USER_DATA
    assert "scu_role and scp_role" in str(caught.value)


def test_related_general_sop_class_entry_overrun() -> None:
    from harness.pdu import RelatedGeneralSOPClass, SOPClassCommonExtendedNegotiationSubItem

    item = SOPClassCommonExtendedNegotiationSubItem(
        sop_class_uid=b"1.2",
        service_class_uid=b"1.3",
        related_general_sop_class_identification=[
            RelatedGeneralSOPClass(related_general_sop_class_uid=b"1.4"),
            RelatedGeneralSOPClass(
                related_general_sop_class_uid=b"1.5", related_general_sop_class_uid_length=4
            ),
        ],
    )
    with pytest.raises(PDUDecodeError) as caught:
        dissect(in_user_information(item))
    assert caught.value.offset == USER_DATA + 4 + 5 + 5 + 2 + 5
    assert "Related General SOP Class" in str(caught.value)


# -- PDV items --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pdvs", "offset", "text"),
    [
        ([PDVItem(item_length=1, data=b"")], 6, "which need 2"),
        ([PDVItem(), PDVItem(item_length=0, data=b"")], 12, "which need 2"),
        ([PDVItem(item_length=9, data=b"ab")], 6, "item_length 9"),
        ([PDVItem(), Raw(b"\x00\x00\x00")], 12, "header needs 4 bytes, only 3 remain"),
    ],
    ids=["length-1", "length-0", "overrun", "header-cut"],
)
def test_bad_pdv_items(pdvs: list[Packet], offset: int, text: str) -> None:
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(P_DATA_TF(pdvs=pdvs)))
    assert caught.value.offset == offset
    assert text in str(caught.value)


def test_p_data_without_pdvs_and_empty_fragment_dissect() -> None:
    (empty,) = dissect(bytes(P_DATA_TF()))
    assert empty.pdvs == []
    (header_only,) = dissect(bytes(P_DATA_TF(pdvs=[PDVItem(data=b"")])))
    assert header_only.pdvs[0].item_length == 2


def test_three_hundred_pdvs_dissect_as_structure() -> None:
    pdvs = [PDVItem(pc_id=1, message_control_header=i % 4, data=bytes(10)) for i in range(300)]
    (pdu,) = dissect(bytes(P_DATA_TF(pdvs=pdvs)))
    assert len(pdu.pdvs) == 300
    assert all(isinstance(p, PDVItem) and p.data == bytes(10) for p in pdu.pdvs)
    assert [p.message_control_header for p in pdu.pdvs[:4]] == [0, 1, 2, 3]


def test_hundred_role_selection_items_dissect_as_structure() -> None:
    roles = [RoleSelectionSubItem(sop_class_uid=f"1.2.3.{i}", scu_role=1) for i in range(100)]
    (pdu,) = dissect(in_user_information(MaximumLengthSubItem(), *roles))
    user_data = pdu.variable_items[0].user_data
    assert len(user_data) == 101
    assert all(isinstance(r, RoleSelectionSubItem) for r in user_data[1:])
    assert user_data[100].sop_class_uid == b"1.2.3.99"


def test_more_items_than_max_count_is_an_error() -> None:
    items = b"\x60\x00\x00\x00" * 16385
    data = bytes(A_ASSOCIATE_RQ(variable_items=[Raw(items)]))
    with pytest.raises(PDUDecodeError) as caught:
        dissect(data)
    assert caught.value.offset == 74 + 4 * 16384
    assert "more than 16384" in str(caught.value)


def test_more_pdvs_than_max_count_is_an_error() -> None:
    pdvs = struct.pack("!IBB", 2, 1, 0) * 100_001
    with pytest.raises(PDUDecodeError) as caught:
        dissect(bytes(P_DATA_TF(pdvs=[Raw(pdvs)])))
    assert caught.value.offset == 6 + 6 * 100_000


# -- building: lengths, reserved bytes, order, titles, UIDs -----------------------------------


def test_length_set_explicitly_is_sent_as_written() -> None:
    assert bytes(A_ABORT(length=6)).hex() == "07000000000600000000"
    assert bytes(A_ABORT()).hex() == "07000000000400000000"
    assert bytes(MaximumLengthSubItem(item_length=9, max_length=1)).hex() == "5100000900000001"
    assert bytes(RoleSelectionSubItem(sop_class_uid=b"1.2", uid_length=7))[4:6] == b"\x00\x07"
    assert bytes(PDVItem(item_length=0, data=b"xy"))[:4] == bytes(4)


def test_reserved_bytes_are_settable_and_read_back() -> None:
    rq = A_ASSOCIATE_RQ(
        reserved1=0xFF,
        reserved2=0xABCD,
        reserved3=b"\x5a" * 32,
        variable_items=[
            PresentationContextRQItem(
                reserved1=0x01, reserved2=0x02, reserved3=0x03, reserved4=0x04, pc_id=5
            )
        ],
    )
    data = bytes(rq)
    assert data[1] == 0xFF
    assert data[8:10] == b"\xab\xcd"
    assert data[42:74] == b"\x5a" * 32
    assert data[74:82] == bytes([0x20, 0x01, 0x00, 0x04, 0x05, 0x02, 0x03, 0x04])
    (pdu,) = dissect(data)
    assert (pdu.reserved1, pdu.reserved2, pdu.reserved3) == (0xFF, 0xABCD, b"\x5a" * 32)
    pc = pdu.variable_items[0]
    assert (pc.reserved1, pc.reserved2, pc.reserved3, pc.reserved4) == (1, 2, 3, 4)
    assert bytes(A_RELEASE_RP(reserved2=0xDEADBEEF))[6:] == b"\xde\xad\xbe\xef"
    assert (
        bytes(A_ABORT(reserved1=1, reserved2=2, reserved3=3))[:8]
        == b"\x07\x01\x00\x00\x00\x04\x02\x03"
    )


def test_reserved3_longer_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="reserved3"):
        bytes(A_ASSOCIATE_RQ(reserved3=bytes(33)))


def test_item_order_is_list_order() -> None:
    rq = A_ASSOCIATE_RQ(
        variable_items=[
            UserInformationItem(),
            PresentationContextRQItem(),
            ApplicationContextItem(),
        ]
    )
    (pdu,) = dissect(bytes(rq))
    assert [i.item_type for i in pdu.variable_items] == [0x50, 0x20, 0x10]


def test_ae_titles_are_space_padded_to_16_bytes() -> None:
    data = bytes(A_ASSOCIATE_RQ(called_ae_title="ECHO", calling_ae_title=b" X "))
    assert data[10:26] == b"ECHO" + b" " * 12
    assert data[26:42] == b" X " + b" " * 13
    (pdu,) = dissect(data)
    assert to_dict(pdu)["called_ae_title"] == "ECHO            "
    assert to_dict(A_ASSOCIATE_AC(calling_ae_title="A"))["calling_ae_title"] == "A" + " " * 15


def test_ae_title_longer_than_16_bytes_is_refused_but_raw_bytes_can_be_sent() -> None:
    with pytest.raises(ValueError, match="called_ae_title"):
        bytes(A_ASSOCIATE_RQ(called_ae_title="SEVENTEEN-CHARS-X"))
    data = bytes(A_ASSOCIATE_RQ(called_ae_title=RawVal(b"\x00" * 16)))
    assert data[10:26] == bytes(16)


def test_uids_are_never_padded() -> None:
    item = ApplicationContextItem(application_context_name="1.2.3")
    assert bytes(item).hex() == "10000005312e322e33"
    assert bytes(TransferSyntaxSubItem(transfer_syntax_name="1.2.840.10008.1.2"))[-1:] == b"2"
    role = bytes(RoleSelectionSubItem(sop_class_uid="1.2.345"))
    assert role == b"\x54\x00\x00\x0b\x00\x071.2.345\x00\x00"


def test_padded_uid_dissects_with_the_padding_visible() -> None:
    rq = A_ASSOCIATE_RQ(
        variable_items=[ApplicationContextItem(application_context_name=b"1.2.840.10008.3.1.1.1\0")]
    )
    (pdu,) = dissect(bytes(rq))
    assert to_dict(pdu)["variable_items"][0]["application_context_name"].endswith("\x00")


def test_user_identity_rq_always_carries_the_secondary_length() -> None:
    data = bytes(UserIdentityRQSubItem(user_identity_type=1, primary_field=b"bob"))
    assert data == b"\x58\x00\x00\x09\x01\x00\x00\x03bob\x00\x00"


def test_describe_and_to_dict_cope_with_deliberately_malformed_packets() -> None:
    broken = A_ABORT(length=1)
    assert "A-ABORT" in describe(broken)
    assert to_dict(broken)["length"] == 1
    assert "Role Selection" in describe(realistic_rq())
    json.dumps([to_dict(p) for p in dissect(RQ_BYTES + bytes(A_ABORT(source=2, reason=6)))])


def test_summarize_gives_one_line_per_pdu() -> None:
    line = summarize(realistic_rq())
    assert line.startswith("A-ASSOCIATE-RQ length=440 protocol_version=1 ")
    assert line.endswith("variable_items=[10H 20H 20H 50H]")
    assert "reserved" not in line
    assert summarize(A_ASSOCIATE_RJ(reason=7, extra=b"xy")) == (
        "A-ASSOCIATE-RJ length=6 result=1 source=1 reason=7 extra=<2 bytes>"
    )
    assert summarize(P_DATA_TF(pdvs=[PDVItem(data=bytes(8))])) == (
        "P-DATA-TF length=14 pdvs=[pc1/03H/8B]"
    )
    assert summarize(UnknownPDU(data=b"ab")) == "unknown PDU type 0x08 length=2 data=<2 bytes>"


def test_pdu_name_refuses_items() -> None:
    with pytest.raises(TypeError):
        pdu_name(ApplicationContextItem())
