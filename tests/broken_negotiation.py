"""Deliberately broken built-in peers for the negotiation scenarios (see broken_peers.py).

Each peer gets one negotiation rule of PS3.8 9.3.3-9.3.4 / PS3.7 Annex D.3 wrong, through
one decision method of :class:`harness.reference.AcceptorProtocol`: ``negotiate`` (what
the A-ASSOCIATE-AC or -RJ says), ``build_ac`` / ``build_rj`` (how the PDU is encoded), or
``send_message`` / ``on_message`` for what follows the negotiation. The
helper bases below only narrow ``negotiate`` and ``build_ac`` to the accepted case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from pydicom.dataset import Dataset
from scapy.packet import Packet

from harness.association import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    NO_REASON_GIVEN,
    AssociateAC,
    AssociateRQ,
    ContextResult,
    Rejection,
    RoleSelection,
    negotiate,
)
from harness.dimse import Message
from harness.fsm import Event
from harness.pdu import (
    A_ASSOCIATE_RQ,
    ImplementationClassUIDSubItem,
    PresentationContextACItem,
    PresentationContextRQItem,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UnknownItem,
    UserInformationItem,
)
from harness.reference import AcceptorProtocol
from harness.results import Verdict

OTHER_UID = "1.2.826.0.1.3680043.10.1094.99"
"""A UID of ours that names nothing DICOM defines."""


# -- helper bases ------------------------------------------------------------------------


class _AltersAc(AcceptorProtocol):
    """Changes the A-ASSOCIATE-AC values it would send (``negotiate``); RJs stay."""

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        answer = super().negotiate(rq)
        return self.alter(rq, answer) if isinstance(answer, AssociateAC) else answer

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        raise NotImplementedError


class _AltersAcPdu(AcceptorProtocol):
    """Changes the encoded A-ASSOCIATE-AC PDU (``build_ac``) in place."""

    def build_ac(self, ac: AssociateAC, rq: A_ASSOCIATE_RQ | None) -> Packet:
        packet = super().build_ac(ac, rq)
        self.alter_pdu(packet, rq)
        return packet

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        raise NotImplementedError


def _user_information(packet: Packet) -> Packet:
    return next(i for i in packet.variable_items if isinstance(i, UserInformationItem))


# -- AC fields (PS3.8 Table 9-17) --------------------------------------------------------


class AnswersOtherApplicationContext(_AltersAc):
    """Names another application context than DICOM's in its AC (PS3.7 Annex A)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return replace(ac, application_context_name=OTHER_UID)


class NonZeroReservedInAc(_AltersAcPdu):
    """Sends AC bytes 9-10 as FFFFH (Table 9-17: 0000H)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        packet.reserved2 = 0xFFFF


class SwapsTitlesInAc(_AltersAcPdu):
    """Puts the calling AE title in AC bytes 11-26 and the called in 27-42 (Table 9-17)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        packet.called_ae_title, packet.calling_ae_title = (
            packet.calling_ae_title,
            packet.called_ae_title,
        )


class ZeroesEchoedReservedBytes(_AltersAcPdu):
    """Sends AC bytes 43-74 as zeros instead of the RQ's (Table 9-17)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        packet.reserved3 = bytes(32)


class OmitsImplementationClassUid(_AltersAcPdu):
    """Leaves the required 52H sub-item out of its AC (PS3.7 D.3.3.2)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        info = _user_information(packet)
        info.user_data = [
            s for s in info.user_data if not isinstance(s, ImplementationClassUIDSubItem)
        ]


# -- presentation contexts (PS3.8 7.1.1.13-14, Table 9-18; PS3.7 D.3.2) ------------------


class AcceptsAnyAbstractSyntax(AcceptorProtocol):
    """Accepts every abstract syntax proposed, known or not (Table 9-18: result 3)."""

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        policy = self.config.policy()
        every = dict.fromkeys(
            (pc.abstract_syntax for pc in rq.presentation_contexts), self.config.transfer_syntaxes
        )
        policy = replace(policy, abstract_syntaxes={**every, **policy.abstract_syntaxes})
        return negotiate(rq, policy, association_limit_reached=self.busy)


class AcceptsAnyTransferSyntax(_AltersAc):
    """Accepts a context whose transfer syntaxes it lacks, with the first one proposed."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        unsupported = ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED
        return replace(
            ac,
            results=tuple(
                replace(r, result=ContextResult.ACCEPTANCE) if r.result == unsupported else r
                for r in ac.results
            ),
        )


class AnswersOwnTransferSyntax(_AltersAc):
    """Accepts with its own preferred transfer syntax, proposed or not (PS3.7 D.3.2)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        own = self.config.transfer_syntaxes[0]
        return replace(
            ac,
            results=tuple(
                replace(r, transfer_syntax=own) if r.result == ContextResult.ACCEPTANCE else r
                for r in ac.results
            ),
        )


class TwoTransferSyntaxesPerContext(_AltersAcPdu):
    """Puts a second 40H sub-item in each accepted 21H item (Table 9-18: exactly one)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        for item in packet.variable_items:
            if isinstance(item, PresentationContextACItem) and item.result_reason == 0:
                extra = TransferSyntaxSubItem(transfer_syntax_name=EXPLICIT_VR_LITTLE_ENDIAN)
                item.sub_items = [*item.sub_items, extra]


class AnswersAtMost64Contexts(_AltersAc):
    """Answers only the first 64 presentation contexts (7.1.1.14: one result for each)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return replace(ac, results=ac.results[:64])


class NumbersResultsByPosition(_AltersAc):
    """Numbers its results 1, 3, 5... by position instead of echoing each context's ID."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return replace(
            ac, results=tuple(replace(r, id=2 * n + 1) for n, r in enumerate(ac.results))
        )


class AcceptsEvenContextIds(_AltersAc):
    """Accepts a context with an even ID (Table 9-13: IDs are odd)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return replace(
            ac,
            results=tuple(
                replace(r, result=ContextResult.ACCEPTANCE) if r.id % 2 == 0 else r
                for r in ac.results
            ),
        )


class AnswersEveryContextItem(_AltersAc):
    """Answers each 20H item, even one repeating an ID (7.1.1.13: an ID names one context)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        by_id = {r.id: r for r in ac.results}
        return replace(ac, results=tuple(by_id[pc.id] for pc in rq.presentation_contexts))


# -- maximum length (PS3.8 D.1) ----------------------------------------------------------


class NoRoomForZeroMaxLength(AcceptorProtocol):
    """Reads the RQ's maximum length 0 ("no maximum", D.1) as no room: aborts instead."""

    def send_message(self, pc_id: int, command: Dataset, data_set: bytes | None = None) -> None:
        if self.peer_max_length == 0:
            self._step(Event.EVT15)
            return
        super().send_message(pc_id, command, data_set)


# -- A-ASSOCIATE-RJ (PS3.8 Table 9-21) ---------------------------------------------------


class LongRejection(AcceptorProtocol):
    """Sends an A-ASSOCIATE-RJ of PDU-length 6 (Table 9-21 fixes 4)."""

    def build_rj(self, rejection: Rejection) -> Packet:
        packet = super().build_rj(rejection)
        packet.extra = b"\x00\x00"
        return packet


class NonZeroReservedInRj(AcceptorProtocol):
    """Sends A-ASSOCIATE-RJ byte 7 as 5AH (Table 9-21: 00H)."""

    def build_rj(self, rejection: Rejection) -> Packet:
        packet = super().build_rj(rejection)
        packet.reserved2 = 0x5A
        return packet


# -- asynchronous operations window (PS3.7 D.3.3.3) --------------------------------------


class AnswersAsyncUnasked(_AltersAc):
    """Answers a 53H sub-item (1/1) to an RQ that proposed none."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return ac if rq.async_ops_window else replace(ac, async_ops_window=(1, 1))


class AnswersOwnWindow(_AltersAc):
    """Answers a proposed window with its own (5/5), even above the proposal."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        if rq.async_ops_window is None:
            return ac
        return replace(ac, async_ops_window=self.config.async_ops_window)


class RejectsUnlimitedWindow(_AltersAc):
    """Rejects an association whose proposed window holds 0 (unlimited, D.3.3.3)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        window = rq.async_ops_window
        return NO_REASON_GIVEN if window is not None and 0 in window else ac


class AnswersFirstMessageOnly(AcceptorProtocol):
    """Performs one operation per association: later requests go unanswered, whatever
    window it granted (D.3.3.3)."""

    answered = False

    def on_message(self, message: Message) -> None:
        if not self.answered:
            self.answered = True
            super().on_message(message)


# -- SCP/SCU role selection (PS3.7 D.3.3.4) ----------------------------------------------


class AnswersRolesUnasked(_AltersAc):
    """Answers a 54H (SCU) for every accepted context to an RQ that proposed none."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        if rq.role_selections:
            return ac
        accepted = {r.id for r in ac.results if r.result == ContextResult.ACCEPTANCE}
        syntaxes = dict.fromkeys(
            pc.abstract_syntax for pc in rq.presentation_contexts if pc.id in accepted
        )
        return replace(ac, role_selections=tuple(RoleSelection(s, 1, 0) for s in syntaxes))


class GrantsEveryRole(_AltersAc):
    """Answers SCU=1 and SCP=1 to every 54H, even for roles proposed as 0."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return replace(
            ac,
            role_selections=tuple(RoleSelection(r.sop_class_uid, 1, 1) for r in rq.role_selections),
        )


class DuplicatesRoleAnswers(_AltersAcPdu):
    """Sends each 54H of its AC twice (D.3.3.4: one per SOP class)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        info = _user_information(packet)
        roles = [s for s in info.user_data if isinstance(s, RoleSelectionSubItem)]
        info.user_data = [*info.user_data, *(role.copy() for role in roles)]


# -- extended negotiation (PS3.7 D.3.3.5-6) ----------------------------------------------


class AnswersExtendedUnasked(_AltersAc):
    """Answers a 56H for the first proposed SOP class to an RQ that proposed none."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        if rq.extended_negotiation:
            return ac
        first = rq.presentation_contexts[0].abstract_syntax
        return replace(ac, extended_negotiation=((first, b"\x01"),))


class AnswersExtendedForEveryContext(_AltersAc):
    """Answers a proposed 56H for every proposed SOP class, proposed in 56H or not."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        if not rq.extended_negotiation:
            return ac
        info = rq.extended_negotiation[0][1]
        syntaxes = dict.fromkeys(pc.abstract_syntax for pc in rq.presentation_contexts)
        return replace(ac, extended_negotiation=tuple((s, info) for s in syntaxes))


class EchoesCommonExtended(_AltersAcPdu):
    """Copies the RQ's 57H sub-items into its AC (D.3.3.6: RQ only, never answered)."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        if rq is None:
            return
        common = [
            s.copy()
            for s in _user_information(rq).user_data
            if isinstance(s, SOPClassCommonExtendedNegotiationSubItem)
        ]
        info = _user_information(packet)
        info.user_data = [*info.user_data, *common]


# -- user identity (PS3.7 D.3.3.7) -------------------------------------------------------


class UnsolicitedIdentityResponse(_AltersAc):
    """Answers a 59H to a 58H that did not ask for a positive response."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        identity = rq.user_identity
        if identity is None or identity.positive_response_requested:
            return ac
        return replace(ac, user_identity_response=b"")


class NonEmptyUsernameResponse(_AltersAc):
    """Puts text in the 59H server response for types 1 and 2 (Table D.3-15: empty)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        identity = rq.user_identity
        if identity is None or identity.type not in (1, 2) or ac.user_identity_response is None:
            return ac
        return replace(ac, user_identity_response=b"ACCEPTED")


class AcknowledgesEveryIdentityType(_AltersAc):
    """Answers an empty 59H to any 58H asking for a positive response, whatever its type
    (Table D.3-15: a Kerberos ticket for type 3, a SAML response for 4; none for others)."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        identity = rq.user_identity
        if identity is None or not identity.positive_response_requested:
            return ac
        return replace(ac, user_identity_response=b"")


class RejectsUnhandledIdentityTypes(_AltersAc):
    """Rejects (1/1/1) an identity of a type it does not handle instead of ignoring it."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        identity = rq.user_identity
        if identity is not None and identity.type not in self.config.user_identity_types:
            return NO_REASON_GIVEN
        return ac


# -- unknown items (PS3.8 9.3.1, D.2) ----------------------------------------------------


class RejectsUnknownItems(_AltersAc):
    """Rejects (1/1/1) an RQ carrying an item or sub-item of an unknown type."""

    def alter(self, rq: AssociateRQ, ac: AssociateAC) -> AssociateAC | Rejection:
        return NO_REASON_GIVEN if rq.irregularities.ignored_items else ac


class EchoesUnknownItems(_AltersAcPdu):
    """Copies the RQ's unknown items into its AC, each at the level it came from."""

    def alter_pdu(self, packet: Packet, rq: A_ASSOCIATE_RQ | None) -> None:
        if rq is None:
            return
        unknown = [i.copy() for i in rq.variable_items if isinstance(i, UnknownItem)]
        packet.variable_items = [*packet.variable_items, *unknown]
        info = _user_information(packet)
        info.user_data = [
            *info.user_data,
            *(s.copy() for s in _user_information(rq).user_data if isinstance(s, UnknownItem)),
        ]
        proposed = {
            i.pc_id: i for i in rq.variable_items if isinstance(i, PresentationContextRQItem)
        }
        for item in packet.variable_items:
            if isinstance(item, PresentationContextACItem) and item.pc_id in proposed:
                subs = proposed[item.pc_id].sub_items
                extra = [s.copy() for s in subs if isinstance(s, UnknownItem)]
                item.sub_items = [*item.sub_items, *extra]


FAILED = Verdict.FAILED
NON_STRICT = Verdict.NON_STRICT
_IDENTITY_WITHOUT_RESPONSE = {
    f"acceptor/identity/type{kind}-no-response": FAILED for kind in range(1, 6)
}

#: Each broken peer, and the verdict of every scenario it must not pass.
BREAKS: Mapping[type[AcceptorProtocol], Mapping[str, Verdict]] = {
    AnswersOtherApplicationContext: {"acceptor/negotiation/application-context-echoed": FAILED},
    NonZeroReservedInAc: {"acceptor/negotiation/ac-fixed-fields": FAILED},
    SwapsTitlesInAc: {"acceptor/negotiation/ac-echoes-titles": FAILED},
    ZeroesEchoedReservedBytes: {"acceptor/negotiation/ac-echoes-reserved-bytes": FAILED},
    OmitsImplementationClassUid: {"acceptor/negotiation/ac-user-information": FAILED},
    AcceptsAnyAbstractSyntax: {
        "acceptor/negotiation/pc-abstract-syntax-unsupported": FAILED,
        "acceptor/negotiation/pc-accepted-and-rejected": FAILED,
        "acceptor/negotiation/pc-ids-any-order": FAILED,
    },
    AcceptsAnyTransferSyntax: {
        "acceptor/negotiation/pc-transfer-syntax-unsupported": FAILED,
        "acceptor/negotiation/pc-ids-any-order": FAILED,
    },
    AnswersOwnTransferSyntax: {"acceptor/negotiation/pc-transfer-syntax-chosen": FAILED},
    TwoTransferSyntaxesPerContext: {
        "acceptor/negotiation/pc-transfer-syntax-chosen": FAILED,
        "acceptor/unknown-items/presentation-context-sub-item": FAILED,
    },
    AnswersAtMost64Contexts: {"acceptor/negotiation/pc-128-contexts": FAILED},
    NumbersResultsByPosition: {
        "acceptor/negotiation/pc-id-255": FAILED,
        "acceptor/negotiation/pc-ids-any-order": FAILED,
    },
    AcceptsEvenContextIds: {"acceptor/negotiation/pc-even-id": NON_STRICT},
    AnswersEveryContextItem: {"acceptor/negotiation/pc-duplicate-id": NON_STRICT},
    NoRoomForZeroMaxLength: {"acceptor/negotiation/max-length-unlimited": FAILED},
    LongRejection: {
        "acceptor/reject/application-context-rj-format": FAILED,
        "acceptor/reject/rj-reserved-bytes-zero": FAILED,
        "acceptor/reject/called-ae-unknown": FAILED,
        "acceptor/reject/calling-ae-unknown": FAILED,
        "acceptor/reject/protocol-version-unsupported": FAILED,
    },
    NonZeroReservedInRj: {"acceptor/reject/rj-reserved-bytes-zero": FAILED},
    AnswersAsyncUnasked: {"acceptor/async/absent-not-answered": FAILED},
    AnswersOwnWindow: {
        "acceptor/async/window-1-1": FAILED,
        "acceptor/async/window-3-2": FAILED,
        "acceptor/async/outstanding-echoes": FAILED,
    },
    RejectsUnlimitedWindow: {"acceptor/async/window-unlimited": FAILED},
    AnswersFirstMessageOnly: {"acceptor/async/outstanding-echoes": FAILED},
    AnswersRolesUnasked: {"acceptor/roles/not-proposed": FAILED},
    GrantsEveryRole: {
        "acceptor/roles/scu-only": FAILED,
        "acceptor/roles/scp-only": FAILED,
        "acceptor/roles/neither": FAILED,
    },
    DuplicatesRoleAnswers: {
        "acceptor/roles/scu-only": FAILED,
        "acceptor/roles/scp-only": FAILED,
        "acceptor/roles/both": FAILED,
        "acceptor/roles/neither": FAILED,
    },
    AnswersExtendedUnasked: {"acceptor/extended/not-proposed": FAILED},
    AnswersExtendedForEveryContext: {"acceptor/extended/sop-class-extended": FAILED},
    EchoesCommonExtended: {"acceptor/extended/common-extended-not-answered": FAILED},
    UnsolicitedIdentityResponse: _IDENTITY_WITHOUT_RESPONSE,
    NonEmptyUsernameResponse: {
        "acceptor/identity/type1-response": FAILED,
        "acceptor/identity/type2-response": FAILED,
    },
    AcknowledgesEveryIdentityType: {
        "acceptor/identity/type3-response": FAILED,
        "acceptor/identity/type4-response": FAILED,
        "acceptor/identity/unknown-type": NON_STRICT,
    },
    RejectsUnhandledIdentityTypes: {
        **{f"acceptor/identity/type{kind}-no-response": FAILED for kind in (3, 4, 5)},
        **{f"acceptor/identity/type{kind}-response": FAILED for kind in (3, 4, 5)},
        "acceptor/identity/unknown-type": NON_STRICT,
    },
    RejectsUnknownItems: {
        "acceptor/unknown-items/item-after-user-information": FAILED,
        "acceptor/unknown-items/user-information-sub-item": FAILED,
        "acceptor/unknown-items/presentation-context-sub-item": FAILED,
    },
    EchoesUnknownItems: {
        "acceptor/unknown-items/item-after-user-information": FAILED,
        "acceptor/unknown-items/user-information-sub-item": FAILED,
        "acceptor/unknown-items/presentation-context-sub-item": FAILED,
    },
}
