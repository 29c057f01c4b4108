"""Properties of ``dissect`` over generated PDUs, their mutations and random bytes.

The strategies compose our own layers (items into PDUs) with ``st.builds``: no second
description of the format. For any input, ``dissect`` returns PDUs or raises
``PDUDecodeError``, nothing else; whatever it returns re-encodes to exactly the input.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.packet import Packet

from harness.pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    ITEM_CLASSES,
    P_DATA_TF,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    AsyncOperationsWindowSubItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    PDUDecodeError,
    PDVItem,
    PresentationContextACItem,
    PresentationContextRQItem,
    RelatedGeneralSOPClass,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    SOPClassExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UnknownItem,
    UnknownPDU,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserInformationItem,
    check_one,
    dissect,
    dissect_one,
    to_dict,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

byte = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
uids = st.lists(st.integers(0, 10**9), min_size=1, max_size=10).map(
    lambda parts: ".".join(map(str, parts)).encode()
)
blobs = st.binary(max_size=40)
titles = st.binary(max_size=16)
unknown_item_types = st.integers(0, 0xFF).filter(lambda t: t not in ITEM_CLASSES)
unknown_items = st.builds(UnknownItem, item_type=unknown_item_types, reserved1=byte, data=blobs)

user_data_items = st.one_of(
    st.builds(MaximumLengthSubItem, max_length=st.integers(0, 2**32 - 1)),
    st.builds(ImplementationClassUIDSubItem, implementation_class_uid=uids),
    st.builds(AsyncOperationsWindowSubItem, max_ops_invoked=u16, max_ops_performed=u16),
    st.builds(RoleSelectionSubItem, sop_class_uid=uids, scu_role=byte, scp_role=byte),
    st.builds(ImplementationVersionNameSubItem, implementation_version_name=titles),
    st.builds(
        SOPClassExtendedNegotiationSubItem,
        sop_class_uid=uids,
        service_class_application_information=blobs,
    ),
    st.builds(
        SOPClassCommonExtendedNegotiationSubItem,
        sop_class_uid=uids,
        service_class_uid=uids,
        related_general_sop_class_identification=st.lists(
            st.builds(RelatedGeneralSOPClass, related_general_sop_class_uid=uids), max_size=3
        ),
    ),
    st.builds(
        UserIdentityRQSubItem,
        user_identity_type=st.integers(1, 5),
        positive_response_requested=st.integers(0, 1),
        primary_field=blobs,
        secondary_field=blobs,
    ),
    st.builds(UserIdentityACSubItem, server_response=blobs),
    unknown_items,
)

user_information = st.builds(
    UserInformationItem, reserved1=byte, user_data=st.lists(user_data_items, max_size=6)
)
abstract_syntaxes = st.builds(AbstractSyntaxSubItem, abstract_syntax_name=uids)
transfer_syntaxes = st.builds(TransferSyntaxSubItem, transfer_syntax_name=uids)
pc_ids = st.integers(0, 127).map(lambda n: 2 * n + 1)

presentation_contexts_rq = st.builds(
    PresentationContextRQItem,
    pc_id=pc_ids,
    reserved2=byte,
    sub_items=st.tuples(abstract_syntaxes, st.lists(transfer_syntaxes, min_size=1, max_size=3)).map(
        lambda pair: [pair[0], *pair[1]]
    ),
)
presentation_contexts_ac = st.builds(
    PresentationContextACItem,
    pc_id=pc_ids,
    result_reason=st.integers(0, 4),
    sub_items=st.lists(transfer_syntaxes, min_size=1, max_size=1),
)
application_contexts = st.builds(ApplicationContextItem, application_context_name=uids)


def association(
    cls: type[Packet], contexts: st.SearchStrategy[Packet]
) -> st.SearchStrategy[Packet]:
    """A-ASSOCIATE-RQ or -AC with any fixed fields and any mix of known and unknown items."""
    return st.builds(
        cls,
        protocol_version=u16,
        reserved2=u16,
        called_ae_title=titles,
        calling_ae_title=titles,
        variable_items=st.lists(
            st.one_of(application_contexts, contexts, user_information, unknown_items),
            max_size=5,
        ),
    )


pdvs = st.builds(PDVItem, pc_id=byte, message_control_header=byte, data=blobs)

pdus: st.SearchStrategy[Packet] = st.one_of(
    association(A_ASSOCIATE_RQ, presentation_contexts_rq),
    association(A_ASSOCIATE_AC, presentation_contexts_ac),
    st.builds(A_ASSOCIATE_RJ, result=byte, source=byte, reason=byte, extra=st.binary(max_size=3)),
    st.builds(P_DATA_TF, pdvs=st.lists(pdvs, max_size=5)),
    st.builds(A_RELEASE_RQ, reserved2=st.integers(0, 2**32 - 1)),
    st.builds(A_RELEASE_RP, extra=st.binary(max_size=3)),
    st.builds(A_ABORT, source=byte, reason=byte),
    st.builds(UnknownPDU, pdu_type=st.integers(8, 0xFF) | st.just(0), data=blobs),
)


def outcome(data: bytes) -> list[Packet] | PDUDecodeError:
    """What ``dissect`` makes of ``data``: its PDUs or its error (any other exception escapes)."""
    try:
        return dissect(data)
    except PDUDecodeError as error:
        return error


def check_outcome(data: bytes) -> None:
    """``dissect`` gives lossless PDUs or a ``PDUDecodeError`` inside the input, nothing else."""
    result = outcome(data)
    if isinstance(result, PDUDecodeError):
        assert 0 <= result.offset <= len(data)
        assert "internal" not in result.reason
        prefix = b"".join(bytes(p) for p in result.partial)
        assert data.startswith(prefix)
        assert result.offset >= len(prefix)
        return
    for packet in result:
        packet.clear_cache()
    assert b"".join(bytes(p) for p in result) == data
    json.dumps([to_dict(p) for p in result])


@SETTINGS
@given(pdus)
def test_generated_pdus_dissect_and_re_encode_identically(pdu: Packet) -> None:
    data = bytes(pdu)
    dissected = dissect_one(data)
    assert type(dissected) is type(pdu)
    assert to_dict(dissected) == to_dict(pdu)
    dissected.clear_cache()
    assert bytes(dissected) == data


@SETTINGS
@given(st.lists(pdus, min_size=1, max_size=4))
def test_concatenated_pdus_dissect_in_order(packets: list[Packet]) -> None:
    data = b"".join(bytes(p) for p in packets)
    assert [type(p) for p in dissect(data)] == [type(p) for p in packets]


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """A valid PDU with one byte flipped, inserted or deleted, or with its tail cut."""
    data = bytearray(bytes(draw(pdus)))
    index = draw(st.integers(0, len(data) - 1))
    kind = draw(st.sampled_from(["flip", "insert", "delete", "cut", "set-length"]))
    if kind == "flip":
        data[index] ^= draw(st.integers(1, 0xFF))
    elif kind == "insert":
        data.insert(index, draw(byte))
    elif kind == "delete":
        del data[index]
    elif kind == "cut":
        del data[index:]
    else:
        struct.pack_into("!H", data, min(index, len(data) - 2), draw(u16))
    return bytes(data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_pdus_dissect_losslessly_or_fail_with_an_offset(data: bytes) -> None:
    check_outcome(data)


@st.composite
def framed_noise(draw: st.DrawFn) -> bytes:
    """Random bodies behind a plausible PDU header, with the length off by a little or not."""
    body = draw(st.binary(max_size=120))
    delta = draw(st.sampled_from([0, 0, 0, -1, 1, -4, 4]))
    header = struct.pack("!BBI", draw(st.integers(0, 9)), draw(byte), max(0, len(body) + delta))
    return header + body


@SETTINGS
@given(st.one_of(st.binary(max_size=200), framed_noise()))
def test_random_bytes_dissect_losslessly_or_fail_with_an_offset(data: bytes) -> None:
    check_outcome(data)


@given(st.one_of(mutations(), framed_noise(), st.binary(max_size=120)))
def test_the_fast_check_agrees_with_dissection(data: bytes) -> None:
    def outcome(check: Callable[[bytes], object]) -> tuple[int, str] | None:
        try:
            check(data)
        except PDUDecodeError as error:
            return error.offset, error.reason
        return None

    assert outcome(check_one) == outcome(dissect_one)
