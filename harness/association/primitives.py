"""The association PDUs as values: :class:`AssociateRQ`, :class:`AssociateAC` and
:class:`Rejection` (PS3.8 7.1, 9.3.2-9.3.4), built with and read from :mod:`harness.pdu`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from scapy.packet import Packet

from harness.association import reading
from harness.association.uids import (
    DEFAULT_MAX_LENGTH,
    DICOM_APPLICATION_CONTEXT,
    HARNESS_IMPLEMENTATION_CLASS_UID,
    HARNESS_IMPLEMENTATION_VERSION_NAME,
)
from harness.association.values import (
    CommonExtendedNegotiation,
    Irregularities,
    PresentationContext,
    PresentationContextResult,
    RoleSelection,
    UserIdentity,
)
from harness.pdu import (
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    AsyncOperationsWindowSubItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    PresentationContextACItem,
    PresentationContextRQItem,
    RelatedGeneralSOPClass,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    SOPClassExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserInformationItem,
)


@dataclass(frozen=True)
class AssociateRQ:
    """The values of an A-ASSOCIATE-RQ PDU (PS3.8 9.3.2, Table 9-11; PS3.7 Annex D.3).

    ``extended_negotiation`` holds 56H sub-items as (SOP class UID, service class
    application information) pairs.
    """

    called_ae_title: str
    calling_ae_title: str
    presentation_contexts: tuple[PresentationContext, ...]
    max_length: int = DEFAULT_MAX_LENGTH
    application_context_name: str = DICOM_APPLICATION_CONTEXT
    implementation_class_uid: str = HARNESS_IMPLEMENTATION_CLASS_UID
    implementation_version_name: str | None = HARNESS_IMPLEMENTATION_VERSION_NAME
    async_ops_window: tuple[int, int] | None = None
    role_selections: tuple[RoleSelection, ...] = ()
    user_identity: UserIdentity | None = None
    extended_negotiation: tuple[tuple[str, bytes], ...] = ()
    protocol_version: int = 1
    common_extended_negotiation: tuple[CommonExtendedNegotiation, ...] = ()
    irregularities: Irregularities = field(default=Irregularities())

    def build(self) -> A_ASSOCIATE_RQ:
        """The PDU layer, user-information sub-items in ascending type order (PS3.8 9.3.2.3)."""
        tail: list[Packet] = [_common_extended_item(c) for c in self.common_extended_negotiation]
        if self.user_identity is not None:
            identity = self.user_identity
            tail.append(
                UserIdentityRQSubItem(
                    user_identity_type=identity.type,
                    positive_response_requested=int(identity.positive_response_requested),
                    primary_field=identity.primary,
                    secondary_field=identity.secondary,
                )
            )
        contexts = [
            PresentationContextRQItem(
                pc_id=pc.id,
                sub_items=[
                    AbstractSyntaxSubItem(abstract_syntax_name=_encode(pc.abstract_syntax)),
                    *(_transfer_syntax_item(ts) for ts in pc.transfer_syntaxes),
                ],
            )
            for pc in self.presentation_contexts
        ]
        return A_ASSOCIATE_RQ(
            protocol_version=self.protocol_version,
            called_ae_title=_encode(self.called_ae_title),
            calling_ae_title=_encode(self.calling_ae_title),
            variable_items=[
                ApplicationContextItem(
                    application_context_name=_encode(self.application_context_name)
                ),
                *contexts,
                _user_information(self, tail),
            ],
        )

    @classmethod
    def from_packet(cls, pkt: Packet) -> AssociateRQ:
        """Read a dissected A-ASSOCIATE-RQ; see :class:`Irregularities` for odd input."""
        seen = reading.Seen()
        parts = reading.read_variable_items(pkt, PresentationContextRQItem, seen)
        user = reading.UserData(parts.user_data, reading.RQ_USER_DATA, seen)
        return cls(
            called_ae_title=reading.read_title(pkt.called_ae_title),
            calling_ae_title=reading.read_title(pkt.calling_ae_title),
            presentation_contexts=tuple(reading.read_proposals(parts.contexts, seen)),
            max_length=user.max_length,
            application_context_name=parts.application_context_name,
            implementation_class_uid=user.implementation_class_uid,
            implementation_version_name=user.implementation_version_name,
            async_ops_window=user.async_ops_window,
            role_selections=user.role_selections,
            user_identity=user.user_identity,
            extended_negotiation=user.extended_negotiation,
            protocol_version=pkt.protocol_version,
            common_extended_negotiation=user.common_extended_negotiation,
            irregularities=seen.freeze(),
        )


@dataclass(frozen=True)
class AssociateAC:
    """The values of an A-ASSOCIATE-AC PDU (PS3.8 9.3.3, Table 9-17; PS3.7 Annex D.3).

    The titles are those of the RQ, which the AC echoes in its reserved bytes 11-42.
    ``user_identity_response`` is the server response of sub-item 59H (None: no 59H).
    """

    called_ae_title: str
    calling_ae_title: str
    results: tuple[PresentationContextResult, ...]
    max_length: int = DEFAULT_MAX_LENGTH
    implementation_class_uid: str = HARNESS_IMPLEMENTATION_CLASS_UID
    implementation_version_name: str | None = HARNESS_IMPLEMENTATION_VERSION_NAME
    async_ops_window: tuple[int, int] | None = None
    role_selections: tuple[RoleSelection, ...] = ()
    user_identity_response: bytes | None = None
    extended_negotiation: tuple[tuple[str, bytes], ...] = ()
    application_context_name: str = DICOM_APPLICATION_CONTEXT
    protocol_version: int = 1
    irregularities: Irregularities = field(default=Irregularities())

    def build(self, rq: A_ASSOCIATE_RQ | None = None) -> A_ASSOCIATE_AC:
        """The PDU layer. With the ``rq`` it answers, bytes 11-74 are that RQ's, verbatim.

        PS3.8 Table 9-17: bytes 11-26, 27-42 and 43-74 of the AC are reserved and carry the
        values the RQ had there. Without ``rq`` they are the titles (space padded) and zeros.
        """
        tail: list[Packet] = []
        if self.user_identity_response is not None:
            tail.append(UserIdentityACSubItem(server_response=self.user_identity_response))
        results = [
            PresentationContextACItem(
                pc_id=result.id,
                result_reason=result.result,
                sub_items=[_transfer_syntax_item(result.transfer_syntax)],
            )
            for result in self.results
        ]
        fixed: dict[str, object] = {
            "called_ae_title": _encode(self.called_ae_title),
            "calling_ae_title": _encode(self.calling_ae_title),
        }
        if rq is not None:
            fixed = {name: rq.getfieldval(name) for name in _ECHOED_FIELDS}
        return A_ASSOCIATE_AC(
            protocol_version=self.protocol_version,
            variable_items=[
                ApplicationContextItem(
                    application_context_name=_encode(self.application_context_name)
                ),
                *results,
                _user_information(self, tail),
            ],
            **fixed,
        )

    @classmethod
    def from_packet(cls, pkt: Packet) -> AssociateAC:
        """Read a dissected A-ASSOCIATE-AC; see :class:`Irregularities` for odd input."""
        seen = reading.Seen()
        parts = reading.read_variable_items(pkt, PresentationContextACItem, seen)
        user = reading.UserData(parts.user_data, reading.AC_USER_DATA, seen)
        return cls(
            called_ae_title=reading.read_title(pkt.called_ae_title),
            calling_ae_title=reading.read_title(pkt.calling_ae_title),
            results=tuple(reading.read_results(parts.contexts, seen)),
            max_length=user.max_length,
            implementation_class_uid=user.implementation_class_uid,
            implementation_version_name=user.implementation_version_name,
            async_ops_window=user.async_ops_window,
            role_selections=user.role_selections,
            user_identity_response=user.user_identity_response,
            extended_negotiation=user.extended_negotiation,
            application_context_name=parts.application_context_name,
            protocol_version=pkt.protocol_version,
            irregularities=seen.freeze(),
        )


@dataclass(frozen=True)
class Rejection:
    """An A-ASSOCIATE-RJ: ``result`` 1 permanent / 2 transient, ``source``, ``reason``.

    PS3.8 Table 9-21: source 1 is the service-user (reasons 1, 2, 3, 7), 2 the ACSE
    service-provider (1, 2), 3 the presentation service-provider (1, 2).
    """

    result: int
    source: int
    reason: int

    @property
    def by_provider(self) -> bool:
        """Whether the service-provider rejects (sources 2 and 3): AE-6's reject branch."""
        return self.source != 1

    def build(self) -> A_ASSOCIATE_RJ:
        """The PDU layer (PS3.8 Table 9-21)."""
        return A_ASSOCIATE_RJ(result=self.result, source=self.source, reason=self.reason)

    @classmethod
    def from_packet(cls, pkt: Packet) -> Rejection:
        """Read a dissected A-ASSOCIATE-RJ."""
        return cls(pkt.result, pkt.source, pkt.reason)


NO_REASON_GIVEN: Final = Rejection(1, 1, 1)
APPLICATION_CONTEXT_NOT_SUPPORTED: Final = Rejection(1, 1, 2)
CALLING_AE_NOT_RECOGNIZED: Final = Rejection(1, 1, 3)
CALLED_AE_NOT_RECOGNIZED: Final = Rejection(1, 1, 7)
PROTOCOL_VERSION_NOT_SUPPORTED: Final = Rejection(1, 2, 2)
USER_IDENTITY_NOT_AUTHORIZED: Final = Rejection(1, 2, 1)
"""PS3.7 D.3.3.7.3: an identity the acceptor does not authorize; permanent, source 2."""
LOCAL_LIMIT_EXCEEDED: Final = Rejection(2, 3, 2)


# -- building ----------------------------------------------------------------------------

_ECHOED_FIELDS: Final = ("called_ae_title", "calling_ae_title", "reserved3")
"""The A-ASSOCIATE-RQ fields at bytes 11-74, which the AC echoes (PS3.8 Table 9-17)."""


def _encode(text: str) -> bytes:
    """ISO 646 text as sent (PS3.8 Annex F for UIDs; AE titles are padded by the layer)."""
    return text.encode("latin-1")


def _transfer_syntax_item(uid: str) -> TransferSyntaxSubItem:
    return TransferSyntaxSubItem(transfer_syntax_name=_encode(uid))


def _common_extended_item(value: CommonExtendedNegotiation) -> Packet:
    """Sub-item 57H, version 0 (PS3.7 Table D.3-12)."""
    return SOPClassCommonExtendedNegotiationSubItem(
        sop_class_uid=_encode(value.sop_class_uid),
        service_class_uid=_encode(value.service_class_uid),
        related_general_sop_class_identification=[
            RelatedGeneralSOPClass(related_general_sop_class_uid=_encode(uid))
            for uid in value.related_general_sop_classes
        ],
    )


def _user_information(values: AssociateRQ | AssociateAC, tail: list[Packet]) -> Packet:
    """Item 50H with 51H, 52H, 53H, 54H, 55H, 56H, then ``tail`` (57H-59H), ascending."""
    data: list[Packet] = [
        MaximumLengthSubItem(max_length=values.max_length),
        ImplementationClassUIDSubItem(
            implementation_class_uid=_encode(values.implementation_class_uid)
        ),
    ]
    if values.async_ops_window is not None:
        invoked, performed = values.async_ops_window
        data.append(
            AsyncOperationsWindowSubItem(max_ops_invoked=invoked, max_ops_performed=performed)
        )
    data.extend(
        RoleSelectionSubItem(
            sop_class_uid=_encode(role.sop_class_uid),
            scu_role=role.scu_role,
            scp_role=role.scp_role,
        )
        for role in values.role_selections
    )
    if values.implementation_version_name is not None:
        data.append(
            ImplementationVersionNameSubItem(
                implementation_version_name=_encode(values.implementation_version_name)
            )
        )
    data.extend(
        SOPClassExtendedNegotiationSubItem(
            sop_class_uid=_encode(uid), service_class_application_information=info
        )
        for uid, info in values.extended_negotiation
    )
    return UserInformationItem(user_data=[*data, *tail])
