"""The association negotiation model (harness.association) against PS3.8 and PS3.7 D.3."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from scapy.packet import Packet

from harness.association import (
    CT_IMAGE_STORAGE,
    DICOM_APPLICATION_CONTEXT,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    VERIFICATION_SOP_CLASS,
    AcceptorPolicy,
    AssociateAC,
    AssociateRQ,
    CommonExtendedNegotiation,
    ContextResult,
    PresentationContext,
    PresentationContextResult,
    Rejection,
    RoleSelection,
    UserIdentity,
    accepted_contexts,
    negotiate,
)
from harness.pdu import (
    A_ASSOCIATE_RQ,
    ApplicationContextItem,
    MaximumLengthSubItem,
    PresentationContextRQItem,
    RoleSelectionSubItem,
    UnknownItem,
    UserIdentityACSubItem,
    UserInformationItem,
    dissect_one,
)

ECHO = PresentationContext(1, VERIFICATION_SOP_CLASS, (IMPLICIT_VR_LITTLE_ENDIAN,))
FULL_RQ = AssociateRQ(
    called_ae_title="STORE-SCP",
    calling_ae_title="MODALITY",
    presentation_contexts=(
        ECHO,
        PresentationContext(
            3, CT_IMAGE_STORAGE, (EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN)
        ),
    ),
    max_length=32768,
    implementation_version_name="V1",
    async_ops_window=(5, 3),
    role_selections=(RoleSelection(CT_IMAGE_STORAGE, 1, 1),),
    user_identity=UserIdentity(2, True, b"user", b"secret"),
    extended_negotiation=((CT_IMAGE_STORAGE, b"\x01\x00"),),
    common_extended_negotiation=(
        CommonExtendedNegotiation(CT_IMAGE_STORAGE, "1.2.840.10008.4.2", ("1.2.3.4",)),
    ),
)
POLICY = AcceptorPolicy(
    ae_title="STORE-SCP",
    abstract_syntaxes={
        VERIFICATION_SOP_CLASS: (IMPLICIT_VR_LITTLE_ENDIAN,),
        CT_IMAGE_STORAGE: (IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN),
    },
    async_ops_window=(3, 10),
    role_selection={CT_IMAGE_STORAGE: (1, 0)},
    user_identity_types=frozenset({1, 2}),
)


def wire(pdu: Packet) -> Packet:
    """The PDU as a peer would receive it: built to bytes and dissected again."""
    return dissect_one(bytes(pdu))


def minimal_rq(**changes: Any) -> AssociateRQ:
    return replace(AssociateRQ("STORE-SCP", "MODALITY", (ECHO,)), **changes)


def accepted(rq: AssociateRQ, policy: AcceptorPolicy = POLICY) -> AssociateAC:
    answer = negotiate(rq, policy)
    assert isinstance(answer, AssociateAC), answer
    return answer


# -- build / from_packet ------------------------------------------------------------------


@pytest.mark.parametrize("rq", [FULL_RQ, minimal_rq(implementation_version_name=None)])
def test_rq_round_trips_through_the_wire(rq: AssociateRQ) -> None:
    assert AssociateRQ.from_packet(wire(rq.build())) == rq


def test_rq_user_information_sub_items_ascend() -> None:
    """PS3.8 9.3.2.3 note: some peers expect the user-data sub-items in ascending order."""
    (info,) = [i for i in wire(FULL_RQ.build()).variable_items if i.item_type == 0x50]
    types = [sub.item_type for sub in info.user_data]
    assert types == sorted(types) == [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58]


def test_ac_round_trips_and_echoes_rq_bytes_11_to_74() -> None:
    """PS3.8 Table 9-17: the AC's reserved bytes 11-74 are the RQ's, byte for byte."""
    rq_pdu = FULL_RQ.build()
    rq_pdu.called_ae_title = b"  STORE-SCP"
    rq_pdu.reserved3 = bytes(range(32))
    rq_packet = wire(rq_pdu)
    ac = accepted(AssociateRQ.from_packet(rq_packet))
    ac_bytes = bytes(ac.build(rq_packet))
    assert ac_bytes[10:74] == bytes(rq_packet)[10:74]
    assert AssociateAC.from_packet(dissect_one(ac_bytes)) == ac


def test_ac_without_rq_pads_the_titles() -> None:
    ac = AssociateAC("SCP", "SCU", (PresentationContextResult(1, 0, IMPLICIT_VR_LITTLE_ENDIAN),))
    raw = bytes(ac.build())
    assert raw[10:42] == b"SCP".ljust(16) + b"SCU".ljust(16)
    assert raw[42:74] == bytes(32)


def test_rejection_round_trips() -> None:
    rejection = Rejection(2, 3, 2)
    assert Rejection.from_packet(dissect_one(bytes(rejection.build()))) == rejection
    assert rejection.by_provider
    assert not Rejection(1, 1, 7).by_provider


def test_titles_are_read_without_spaces_at_either_end() -> None:
    """PS3.8 Table 9-11: leading and trailing spaces of an AE title are not significant."""
    pdu = FULL_RQ.build()
    pdu.called_ae_title = b"  STORE-SCP   "
    pdu.calling_ae_title = b" MOD ALITY"
    rq = AssociateRQ.from_packet(wire(pdu))
    assert (rq.called_ae_title, rq.calling_ae_title) == ("STORE-SCP", "MOD ALITY")


def test_from_packet_records_unknown_duplicate_and_misplaced_items() -> None:
    user = UserInformationItem(
        user_data=[
            UnknownItem(item_type=0x70, data=b"xy"),
            MaximumLengthSubItem(max_length=100),
            MaximumLengthSubItem(max_length=200),
            RoleSelectionSubItem(sop_class_uid=b"1.2", scu_role=1, scp_role=0),
            RoleSelectionSubItem(sop_class_uid=b"1.2", scu_role=0, scp_role=1),
            UserIdentityACSubItem(server_response=b""),
        ]
    )
    pdu = A_ASSOCIATE_RQ(
        variable_items=[
            ApplicationContextItem(),
            ApplicationContextItem(application_context_name=b"1.2.3"),
            PresentationContextRQItem(pc_id=1, sub_items=[UnknownItem(item_type=0x31)]),
            user,
            UnknownItem(item_type=0x60, data=b"\0\0"),
        ]
    )
    rq = AssociateRQ.from_packet(wire(pdu))
    assert sorted(rq.irregularities.ignored_items) == [0x31, 0x59, 0x60, 0x70]
    assert set(rq.irregularities.duplicated) == {
        "application-context",
        "maximum-length",
        "role-selection 1.2",
    }
    assert set(rq.irregularities.missing) == {
        "abstract-syntax in presentation-context 1",
        "transfer-syntax in presentation-context 1",
        "implementation-class-uid",
    }
    assert rq.application_context_name == DICOM_APPLICATION_CONTEXT
    assert rq.max_length == 100
    assert rq.role_selections == (RoleSelection("1.2", 1, 0),)
    assert rq.presentation_contexts == (PresentationContext(1, "", ()),)


def test_from_packet_records_missing_required_items() -> None:
    rq = AssociateRQ.from_packet(wire(A_ASSOCIATE_RQ()))
    assert set(rq.irregularities.missing) == {
        "application-context",
        "presentation-context",
        "user-information",
        "maximum-length",
        "implementation-class-uid",
    }
    assert not rq.irregularities.clean
    assert FULL_RQ.irregularities.clean


# -- negotiate: presentation contexts ---------------------------------------------------


def test_one_result_per_proposed_context_with_its_id() -> None:
    """PS3.8 7.1.1.14 and Table 9-18: results 0, 3, 4; a repeated ID is answered once;
    an even ID (Table 9-13 wants odd) gets result 2."""
    rq = minimal_rq(
        presentation_contexts=(
            ECHO,
            PresentationContext(3, "1.2.3.999", (IMPLICIT_VR_LITTLE_ENDIAN,)),
            PresentationContext(5, VERIFICATION_SOP_CLASS, ("1.2.3.4",)),
            PresentationContext(1, CT_IMAGE_STORAGE, (IMPLICIT_VR_LITTLE_ENDIAN,)),
            PresentationContext(8, VERIFICATION_SOP_CLASS, (IMPLICIT_VR_LITTLE_ENDIAN,)),
        )
    )
    results = {r.id: (r.result, r.transfer_syntax) for r in accepted(rq).results}
    assert results == {
        1: (ContextResult.ACCEPTANCE, IMPLICIT_VR_LITTLE_ENDIAN),
        3: (ContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED, IMPLICIT_VR_LITTLE_ENDIAN),
        5: (ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED, "1.2.3.4"),
        8: (ContextResult.NO_REASON, IMPLICIT_VR_LITTLE_ENDIAN),
    }
    assert len(accepted(rq).results) == 4


@pytest.mark.parametrize(
    ("proposed", "chosen"),
    [
        ((EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN), EXPLICIT_VR_LITTLE_ENDIAN),
        ((IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN), IMPLICIT_VR_LITTLE_ENDIAN),
        (("1.2.840.10008.1.2.4.50", EXPLICIT_VR_LITTLE_ENDIAN), EXPLICIT_VR_LITTLE_ENDIAN),
    ],
)
def test_accepted_context_gets_the_first_proposed_supported_syntax(
    proposed: tuple[str, ...], chosen: str
) -> None:
    """PS3.7 D.3.2: exactly one of the proposed transfer syntaxes."""
    rq = minimal_rq(presentation_contexts=(PresentationContext(7, CT_IMAGE_STORAGE, proposed),))
    assert accepted(rq).results == (PresentationContextResult(7, 0, chosen),)


def test_accepted_contexts_keeps_only_usable_results() -> None:
    rq = FULL_RQ
    ac = AssociateAC(
        "STORE-SCP",
        "MODALITY",
        (
            PresentationContextResult(1, 0, IMPLICIT_VR_LITTLE_ENDIAN),
            PresentationContextResult(3, 0, "1.2.3"),  # not a proposed transfer syntax
            PresentationContextResult(5, 0, IMPLICIT_VR_LITTLE_ENDIAN),  # never proposed
        ),
    )
    assert accepted_contexts(rq, ac) == {1: (VERIFICATION_SOP_CLASS, IMPLICIT_VR_LITTLE_ENDIAN)}
    rejected = replace(ac, results=(PresentationContextResult(1, 3, ""),))
    assert accepted_contexts(rq, rejected) == {}


# -- negotiate: user information ----------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "ours", "answer"),
    [
        ((5, 5), (3, 10), (3, 5)),
        ((1, 1), (5, 5), (1, 1)),
        ((0, 0), (3, 4), (3, 4)),  # offer unlimited: any bounded value
        ((5, 2), (0, 0), (5, 2)),  # ours unlimited: never above a bounded offer
        ((0, 7), (0, 0), (0, 7)),
    ],
)
def test_async_window_never_exceeds_the_offer(
    offer: tuple[int, int], ours: tuple[int, int], answer: tuple[int, int]
) -> None:
    """PS3.7 D.3.3.3: each field <= the offer; 0 means unlimited."""
    policy = replace(POLICY, async_ops_window=ours)
    assert accepted(minimal_rq(async_ops_window=offer), policy).async_ops_window == answer


def test_async_window_absent_unless_proposed_and_supported() -> None:
    assert accepted(minimal_rq()).async_ops_window is None
    unsupported = replace(POLICY, async_ops_window=None)
    assert accepted(minimal_rq(async_ops_window=(5, 5)), unsupported).async_ops_window is None


@pytest.mark.parametrize("allowed", [(1, 0), (0, 1), (1, 1), (0, 0)])
@pytest.mark.parametrize("proposed", [(1, 0), (0, 1), (1, 1), (2, 2)])
def test_role_selection_never_grants_a_role_not_proposed(
    proposed: tuple[int, int], allowed: tuple[int, int]
) -> None:
    """PS3.7 D.3.3.4: the requestor's value or 0, never 1 for a role offered as 0 (nor
    for a reserved value)."""
    policy = replace(POLICY, role_selection={CT_IMAGE_STORAGE: allowed})
    rq = minimal_rq(role_selections=(RoleSelection(CT_IMAGE_STORAGE, *proposed),))
    expected = tuple(int(p == 1 and a == 1) for p, a in zip(proposed, allowed, strict=True))
    assert accepted(rq, policy).role_selections == (RoleSelection(CT_IMAGE_STORAGE, *expected),)


def test_role_selection_answered_only_for_proposed_and_known_classes() -> None:
    assert accepted(minimal_rq()).role_selections == ()
    unknown = minimal_rq(role_selections=(RoleSelection(SECONDARY_CAPTURE_IMAGE_STORAGE, 1, 1),))
    assert accepted(unknown).role_selections == ()


@pytest.mark.parametrize(
    ("identity", "response"),
    [
        (None, None),
        (UserIdentity(1, False, b"user"), None),
        (UserIdentity(1, True, b"user"), b""),
        (UserIdentity(2, True, b"user", b"pass"), b""),
        (UserIdentity(3, True, b"ticket"), None),  # a type not handled is ignored
    ],
)
def test_user_identity_answered_only_when_a_positive_response_is_requested(
    identity: UserIdentity | None, response: bytes | None
) -> None:
    """PS3.7 D.3.3.7: 59H only when requested and the identity is accepted."""
    assert accepted(minimal_rq(user_identity=identity)).user_identity_response == response


def test_unsolicited_items_are_never_answered() -> None:
    """PS3.7 D.3.3: no 53H, 54H, 56H, 57H or 59H in the AC unless proposed; 57H never;
    an unknown sub-item is ignored (PS3.8 D.2 note 2)."""
    bare = accepted(minimal_rq(), replace(POLICY, extended_negotiation={CT_IMAGE_STORAGE: b"1"}))
    info = next(i for i in bare.build().variable_items if i.item_type == 0x50)
    assert [sub.item_type for sub in info.user_data] == [0x51, 0x52, 0x55]

    rq_pdu = FULL_RQ.build()
    rq_pdu.variable_items[-1].user_data.append(UnknownItem(item_type=0x70, data=b"?"))
    full = accepted(AssociateRQ.from_packet(wire(rq_pdu)))
    info = next(i for i in wire(full.build()).variable_items if i.item_type == 0x50)
    assert [sub.item_type for sub in info.user_data] == [0x51, 0x52, 0x53, 0x54, 0x55, 0x59]


def test_extended_negotiation_answered_only_for_proposed_classes() -> None:
    policy = replace(
        POLICY, extended_negotiation={CT_IMAGE_STORAGE: b"\x01", VERIFICATION_SOP_CLASS: b"\x02"}
    )
    assert accepted(FULL_RQ, policy).extended_negotiation == ((CT_IMAGE_STORAGE, b"\x01"),)


# -- negotiate: rejections ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rq", "policy", "expected"),
    [
        pytest.param(minimal_rq(called_ae_title="OTHER"), POLICY, (1, 1, 7), id="called-ae"),
        pytest.param(
            minimal_rq(),
            replace(POLICY, allowed_calling_ae_titles=frozenset({"CT1"})),
            (1, 1, 3),
            id="calling-ae",
        ),
        pytest.param(
            minimal_rq(application_context_name="1.2.3.4"), POLICY, (1, 1, 2), id="app-context"
        ),
        pytest.param(minimal_rq(protocol_version=2), POLICY, (1, 2, 2), id="protocol-version"),
        pytest.param(
            minimal_rq(user_identity=UserIdentity(2, False, b"user", b"wrong")),
            replace(POLICY, user_identities=frozenset({(b"user", b"right")})),
            (1, 2, 1),
            id="user-identity",
        ),
        pytest.param(
            minimal_rq(),
            replace(POLICY, user_identities=frozenset({(b"user", b"right")})),
            (1, 2, 1),
            id="user-identity-required",
        ),
    ],
)
def test_rejections_carry_the_table_9_21_codes(
    rq: AssociateRQ, policy: AcceptorPolicy, expected: tuple[int, int, int]
) -> None:
    assert negotiate(rq, policy) == Rejection(*expected)


def test_association_limit_rejects_transiently() -> None:
    assert negotiate(minimal_rq(), POLICY, association_limit_reached=True) == Rejection(2, 3, 2)


def test_accepted_despite_variations_the_standard_allows() -> None:
    """Only bit 0 of the protocol version counts; titles compare without padding; the
    called title is not checked when the policy says so; an authorized identity passes."""
    assert accepted(minimal_rq(protocol_version=3))
    assert accepted(minimal_rq(called_ae_title="OTHER"), replace(POLICY, check_called_ae=False))
    enforced = replace(POLICY, user_identities=frozenset({(b"user", b"right")}))
    identity = UserIdentity(2, True, b"user", b"right")
    assert accepted(minimal_rq(user_identity=identity), enforced).user_identity_response == b""
