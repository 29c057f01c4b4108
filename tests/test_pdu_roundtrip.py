"""Round trips of every PDU and item layer against an independent encoder (pynetdicom).

For each case, the same field values are set on our layer and on pynetdicom's class, then:
our bytes decode with pynetdicom to those values; pynetdicom's bytes dissect (strictly,
through ``dissect_one``) with our layers to those values; and both encoders give the same
bytes. pynetdicom is a test oracle only; ``harness`` never imports it.

Known pynetdicom behaviour, allowed by the standard and accounted for in the views below:
pynetdicom strips the spaces around AE titles when decoding (PS3.8 7.1.1.3/7.1.1.4: leading
and trailing spaces are non-significant), so its titles are re-padded to 16 characters
before comparing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pynetdicom import pdu as their_pdu
from pynetdicom import pdu_items as their_items
from scapy.packet import Packet, Raw

from harness.pdu import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    ITEM_CLASSES,
    P_DATA_TF,
    PDU_CLASSES,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    AsyncOperationsWindowSubItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    PDVItem,
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
    dissect_one,
    to_dict,
)

VERIFICATION = "1.2.840.10008.1.1"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
APP_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPL_UID = "1.2.826.0.1.3680043.10.1234"

View = Callable[[Any], dict[str, Any]]


def theirs(cls: Callable[[], Any], **attrs: Any) -> Any:
    """A pynetdicom PDU or item with ``attrs`` set."""
    obj = cls()
    for name, value in attrs.items():
        setattr(obj, name, value)
    return obj


def their_decode(cls: Callable[[], Any], data: bytes) -> Any:
    """pynetdicom's reading of ``data``."""
    obj = cls()
    obj.decode(data)
    return obj


def key(element: Any) -> Any:
    """A list element reduced to what identifies it: item type, UID, or PDV contents."""
    if isinstance(element, dict):
        if "item_type" in element:
            return element["item_type"]
        if "related_general_sop_class_uid" in element:
            return element["related_general_sop_class_uid"]
        return (element["pc_id"], element["message_control_header"], element["data"])
    return element


def project(values: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Our ``to_dict`` values for ``names``, with lists reduced by :func:`key`."""
    return {
        name: [key(v) for v in values[name]] if isinstance(values[name], list) else values[name]
        for name in names
    }


def header(item: Any) -> dict[str, Any]:
    """Item-type and item-length as pynetdicom computes them."""
    return {"item_type": item.item_type, "item_length": item.item_length}


def uid(value: Any) -> str:
    """A pynetdicom UID (a ``str`` subclass) as a plain string."""
    return str(value)


@dataclass(frozen=True)
class Case:
    """One layer, built with the same values by both encoders."""

    ours: Callable[[], Packet]
    theirs: Callable[[], Any]
    their_cls: Callable[[], Any]
    view: View
    within: Callable[[Packet], Packet]
    """Wraps our item bytes into a PDU for ``dissect_one``, then finds the item again."""


def as_pdu(data: bytes) -> Packet:
    """A whole PDU needs no wrapping."""
    return dissect_one(data)


def in_variable_items(data: bytes) -> Packet:
    """An A-ASSOCIATE-RQ holding ``data`` as its only variable item."""
    return dissect_one(bytes(A_ASSOCIATE_RQ(variable_items=[Raw(data)]))).variable_items[0]


def in_presentation_context(data: bytes) -> Packet:
    """An A-ASSOCIATE-RQ whose presentation context holds ``data`` as its only sub-item."""
    rq = A_ASSOCIATE_RQ(variable_items=[PresentationContextRQItem(sub_items=[Raw(data)])])
    return dissect_one(bytes(rq)).variable_items[0].sub_items[0]


def in_user_information(data: bytes) -> Packet:
    """An A-ASSOCIATE-RQ whose user information holds ``data`` as its only sub-item."""
    rq = A_ASSOCIATE_RQ(variable_items=[UserInformationItem(user_data=[Raw(data)])])
    return dissect_one(bytes(rq)).variable_items[0].user_data[0]


def in_p_data(data: bytes) -> Packet:
    """A P-DATA-TF holding ``data`` as its only PDV item."""
    return dissect_one(bytes(P_DATA_TF(pdvs=[Raw(data)]))).pdvs[0]


# -- item views: pynetdicom attributes under our field names ---------------------------------


def view_app_context(t: Any) -> dict[str, Any]:
    return {**header(t), "application_context_name": uid(t.application_context_name)}


def view_abstract(t: Any) -> dict[str, Any]:
    return {**header(t), "abstract_syntax_name": uid(t.abstract_syntax_name)}


def view_transfer(t: Any) -> dict[str, Any]:
    return {**header(t), "transfer_syntax_name": uid(t.transfer_syntax_name)}


def view_pc_rq(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "pc_id": t.presentation_context_id,
        "sub_items": [s.item_type for s in t.abstract_transfer_syntax_sub_items],
    }


def view_pc_ac(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "pc_id": t.presentation_context_id,
        "result_reason": t.result_reason,
        "sub_items": [s.item_type for s in t.transfer_syntax_sub_item],
    }


def view_user_info(t: Any) -> dict[str, Any]:
    return {**header(t), "user_data": [s.item_type for s in t.user_data]}


def view_max_length(t: Any) -> dict[str, Any]:
    return {**header(t), "max_length": t.maximum_length_received}


def view_impl_uid(t: Any) -> dict[str, Any]:
    return {**header(t), "implementation_class_uid": uid(t.implementation_class_uid)}


def view_async(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "max_ops_invoked": t.maximum_number_operations_invoked,
        "max_ops_performed": t.maximum_number_operations_performed,
    }


def view_role(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "uid_length": t.uid_length,
        "sop_class_uid": uid(t.sop_class_uid),
        "scu_role": int(t.scu_role),
        "scp_role": int(t.scp_role),
    }


def view_version(t: Any) -> dict[str, Any]:
    return {**header(t), "implementation_version_name": str(t.implementation_version_name)}


def view_sop_ext(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "sop_class_uid_length": t.sop_class_uid_length,
        "sop_class_uid": uid(t.sop_class_uid),
        "service_class_application_information": t.service_class_application_information.hex(),
    }


def view_common_ext(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "sub_item_version": t.sub_item_version,
        "sop_class_uid_length": t.sop_class_uid_length,
        "sop_class_uid": uid(t.sop_class_uid),
        "service_class_uid_length": t.service_class_uid_length,
        "service_class_uid": uid(t.service_class_uid),
        "related_general_sop_class_identification_length": (
            t.related_general_sop_class_identification_length
        ),
        "related_general_sop_class_identification": [
            uid(u) for u in t.related_general_sop_class_identification
        ],
    }


def view_identity_rq(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "user_identity_type": t.user_identity_type,
        "positive_response_requested": t.positive_response_requested,
        "primary_field_length": t.primary_field_length,
        "primary_field": t.primary_field.hex(),
        "secondary_field_length": t.secondary_field_length,
        "secondary_field": t.secondary_field.hex(),
    }


def view_identity_ac(t: Any) -> dict[str, Any]:
    return {
        **header(t),
        "server_response_length": t.server_response_length,
        "server_response": t.server_response.hex(),
    }


def view_pdv(t: Any) -> dict[str, Any]:
    value = t.presentation_data_value
    return {
        "item_length": t.item_length,
        "pc_id": t.presentation_context_id,
        "message_control_header": value[0],
        "data": value[1:].hex(),
    }


def pc_rq_theirs(pc_id: int, abstract: str, *transfer: str) -> Any:
    return theirs(
        their_items.PresentationContextItemRQ,
        presentation_context_id=pc_id,
        abstract_transfer_syntax_sub_items=[
            theirs(their_items.AbstractSyntaxSubItem, abstract_syntax_name=abstract),
            *(theirs(their_items.TransferSyntaxSubItem, transfer_syntax_name=t) for t in transfer),
        ],
    )


def pc_rq_ours(pc_id: int, abstract: str, *transfer: str) -> Packet:
    return PresentationContextRQItem(
        pc_id=pc_id,
        sub_items=[
            AbstractSyntaxSubItem(abstract_syntax_name=abstract),
            *(TransferSyntaxSubItem(transfer_syntax_name=t) for t in transfer),
        ],
    )


def pc_ac_theirs(pc_id: int, result: int, transfer: str) -> Any:
    return theirs(
        their_items.PresentationContextItemAC,
        presentation_context_id=pc_id,
        result_reason=result,
        transfer_syntax_sub_item=[
            theirs(their_items.TransferSyntaxSubItem, transfer_syntax_name=transfer)
        ],
    )


def pc_ac_ours(pc_id: int, result: int, transfer: str) -> Packet:
    return PresentationContextACItem(
        pc_id=pc_id,
        result_reason=result,
        sub_items=[TransferSyntaxSubItem(transfer_syntax_name=transfer)],
    )


def user_info_theirs(*extra: Any) -> Any:
    return theirs(
        their_items.UserInformationItem,
        user_data=[
            theirs(their_items.MaximumLengthSubItem, maximum_length_received=16384),
            theirs(their_items.ImplementationClassUIDSubItem, implementation_class_uid=IMPL_UID),
            *extra,
        ],
    )


def user_info_ours(*extra: Packet) -> Packet:
    return UserInformationItem(
        user_data=[
            MaximumLengthSubItem(max_length=16384),
            ImplementationClassUIDSubItem(implementation_class_uid=IMPL_UID),
            *extra,
        ]
    )


def identity_case(kind: int, positive: int, primary: bytes, secondary: bytes = b"") -> Case:
    return Case(
        ours=lambda: UserIdentityRQSubItem(
            user_identity_type=kind,
            positive_response_requested=positive,
            primary_field=primary,
            secondary_field=secondary,
        ),
        theirs=lambda: theirs(
            their_items.UserIdentitySubItemRQ,
            user_identity_type=kind,
            positive_response_requested=positive,
            primary_field=primary,
            secondary_field=secondary,
        ),
        their_cls=their_items.UserIdentitySubItemRQ,
        view=view_identity_rq,
        within=in_user_information,
    )


def common_ext_case(*related: str) -> Case:
    return Case(
        ours=lambda: SOPClassCommonExtendedNegotiationSubItem(
            sop_class_uid=CT_IMAGE_STORAGE,
            service_class_uid="1.2.840.10008.4.2",
            related_general_sop_class_identification=[
                RelatedGeneralSOPClass(related_general_sop_class_uid=r) for r in related
            ],
        ),
        theirs=lambda: theirs(
            their_items.SOPClassCommonExtendedNegotiationSubItem,
            sop_class_uid=CT_IMAGE_STORAGE,
            service_class_uid="1.2.840.10008.4.2",
            related_general_sop_class_identification=list(related),
        ),
        their_cls=their_items.SOPClassCommonExtendedNegotiationSubItem,
        view=view_common_ext,
        within=in_user_information,
    )


def role_case(scu: int, scp: int) -> Case:
    return Case(
        ours=lambda: RoleSelectionSubItem(
            sop_class_uid=CT_IMAGE_STORAGE, scu_role=scu, scp_role=scp
        ),
        theirs=lambda: theirs(
            their_items.SCP_SCU_RoleSelectionSubItem,
            sop_class_uid=CT_IMAGE_STORAGE,
            scu_role=scu,
            scp_role=scp,
        ),
        their_cls=their_items.SCP_SCU_RoleSelectionSubItem,
        view=view_role,
        within=in_user_information,
    )


def pdv_case(pc_id: int, control: int, data: bytes) -> Case:
    return Case(
        ours=lambda: PDVItem(pc_id=pc_id, message_control_header=control, data=data),
        theirs=lambda: theirs(
            their_items.PresentationDataValueItem,
            presentation_context_id=pc_id,
            presentation_data_value=bytes([control]) + data,
        ),
        their_cls=their_items.PresentationDataValueItem,
        view=view_pdv,
        within=in_p_data,
    )


ITEM_CASES: dict[str, Case] = {
    "0x10-application-context": Case(
        ours=lambda: ApplicationContextItem(application_context_name=APP_CONTEXT),
        theirs=lambda: theirs(
            their_items.ApplicationContextItem, application_context_name=APP_CONTEXT
        ),
        their_cls=their_items.ApplicationContextItem,
        view=view_app_context,
        within=in_variable_items,
    ),
    "0x20-presentation-context-rq": Case(
        ours=lambda: pc_rq_ours(1, VERIFICATION, IMPLICIT_LE, EXPLICIT_LE),
        theirs=lambda: pc_rq_theirs(1, VERIFICATION, IMPLICIT_LE, EXPLICIT_LE),
        their_cls=their_items.PresentationContextItemRQ,
        view=view_pc_rq,
        within=in_variable_items,
    ),
    "0x21-presentation-context-ac-accepted": Case(
        ours=lambda: pc_ac_ours(1, 0, IMPLICIT_LE),
        theirs=lambda: pc_ac_theirs(1, 0, IMPLICIT_LE),
        their_cls=their_items.PresentationContextItemAC,
        view=view_pc_ac,
        within=in_variable_items,
    ),
    "0x21-presentation-context-ac-rejected": Case(
        ours=lambda: pc_ac_ours(7, 3, EXPLICIT_LE),
        theirs=lambda: pc_ac_theirs(7, 3, EXPLICIT_LE),
        their_cls=their_items.PresentationContextItemAC,
        view=view_pc_ac,
        within=in_variable_items,
    ),
    "0x30-abstract-syntax": Case(
        ours=lambda: AbstractSyntaxSubItem(abstract_syntax_name=CT_IMAGE_STORAGE),
        theirs=lambda: theirs(
            their_items.AbstractSyntaxSubItem, abstract_syntax_name=CT_IMAGE_STORAGE
        ),
        their_cls=their_items.AbstractSyntaxSubItem,
        view=view_abstract,
        within=in_presentation_context,
    ),
    "0x40-transfer-syntax": Case(
        ours=lambda: TransferSyntaxSubItem(transfer_syntax_name=EXPLICIT_LE),
        theirs=lambda: theirs(their_items.TransferSyntaxSubItem, transfer_syntax_name=EXPLICIT_LE),
        their_cls=their_items.TransferSyntaxSubItem,
        view=view_transfer,
        within=in_presentation_context,
    ),
    "0x50-user-information": Case(
        ours=lambda: user_info_ours(
            ImplementationVersionNameSubItem(implementation_version_name="HARNESS_1"),
            RoleSelectionSubItem(sop_class_uid=CT_IMAGE_STORAGE, scu_role=1, scp_role=1),
        ),
        theirs=lambda: user_info_theirs(
            theirs(
                their_items.ImplementationVersionNameSubItem,
                implementation_version_name="HARNESS_1",
            ),
            theirs(
                their_items.SCP_SCU_RoleSelectionSubItem,
                sop_class_uid=CT_IMAGE_STORAGE,
                scu_role=1,
                scp_role=1,
            ),
        ),
        their_cls=their_items.UserInformationItem,
        view=view_user_info,
        within=in_variable_items,
    ),
    "0x51-maximum-length": Case(
        ours=lambda: MaximumLengthSubItem(max_length=16382),
        theirs=lambda: theirs(their_items.MaximumLengthSubItem, maximum_length_received=16382),
        their_cls=their_items.MaximumLengthSubItem,
        view=view_max_length,
        within=in_user_information,
    ),
    "0x51-maximum-length-unlimited": Case(
        ours=lambda: MaximumLengthSubItem(max_length=0),
        theirs=lambda: theirs(their_items.MaximumLengthSubItem, maximum_length_received=0),
        their_cls=their_items.MaximumLengthSubItem,
        view=view_max_length,
        within=in_user_information,
    ),
    "0x52-implementation-class-uid": Case(
        ours=lambda: ImplementationClassUIDSubItem(implementation_class_uid=IMPL_UID),
        theirs=lambda: theirs(
            their_items.ImplementationClassUIDSubItem, implementation_class_uid=IMPL_UID
        ),
        their_cls=their_items.ImplementationClassUIDSubItem,
        view=view_impl_uid,
        within=in_user_information,
    ),
    "0x53-async-operations-window": Case(
        ours=lambda: AsyncOperationsWindowSubItem(max_ops_invoked=5, max_ops_performed=3),
        theirs=lambda: theirs(
            their_items.AsynchronousOperationsWindowSubItem,
            maximum_number_operations_invoked=5,
            maximum_number_operations_performed=3,
        ),
        their_cls=their_items.AsynchronousOperationsWindowSubItem,
        view=view_async,
        within=in_user_information,
    ),
    "0x54-role-selection-scu": role_case(1, 0),
    "0x54-role-selection-scp": role_case(0, 1),
    "0x54-role-selection-both": role_case(1, 1),
    "0x55-implementation-version-name": Case(
        ours=lambda: ImplementationVersionNameSubItem(
            implementation_version_name="HARNESS_16_CHARS"
        ),
        theirs=lambda: theirs(
            their_items.ImplementationVersionNameSubItem,
            implementation_version_name="HARNESS_16_CHARS",
        ),
        their_cls=their_items.ImplementationVersionNameSubItem,
        view=view_version,
        within=in_user_information,
    ),
    "0x56-sop-class-extended-negotiation": Case(
        ours=lambda: SOPClassExtendedNegotiationSubItem(
            sop_class_uid="1.2.840.10008.5.1.4.1.2.1.1",
            service_class_application_information=b"\x01\x01\x00",
        ),
        theirs=lambda: theirs(
            their_items.SOPClassExtendedNegotiationSubItem,
            sop_class_uid="1.2.840.10008.5.1.4.1.2.1.1",
            service_class_application_information=b"\x01\x01\x00",
        ),
        their_cls=their_items.SOPClassExtendedNegotiationSubItem,
        view=view_sop_ext,
        within=in_user_information,
    ),
    "0x57-common-extended-negotiation-no-related": common_ext_case(),
    "0x57-common-extended-negotiation-one-related": common_ext_case("1.2.840.10008.5.1.4.1.1.2.1"),
    "0x57-common-extended-negotiation-two-related": common_ext_case(
        "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.4"
    ),
    "0x58-user-identity-username": identity_case(1, 0, b"alice"),
    "0x58-user-identity-username-positive": identity_case(1, 1, b"alice"),
    "0x58-user-identity-passcode": identity_case(2, 0, b"alice", b"s3cret"),
    "0x58-user-identity-passcode-positive": identity_case(2, 1, b"alice", b"s3cret"),
    "0x58-user-identity-kerberos": identity_case(3, 0, bytes(range(40))),
    "0x58-user-identity-kerberos-positive": identity_case(3, 1, bytes(range(40))),
    "0x58-user-identity-saml": identity_case(4, 0, b"<saml:Assertion/>"),
    "0x58-user-identity-saml-positive": identity_case(4, 1, b"<saml:Assertion/>"),
    "0x58-user-identity-jwt": identity_case(5, 0, b"eyJhbGciOiJub25lIn0.e30."),
    "0x58-user-identity-jwt-positive": identity_case(5, 1, b"eyJhbGciOiJub25lIn0.e30."),
    "0x59-user-identity-ac-empty": Case(
        ours=lambda: UserIdentityACSubItem(server_response=b""),
        theirs=lambda: theirs(their_items.UserIdentitySubItemAC, server_response=b""),
        their_cls=their_items.UserIdentitySubItemAC,
        view=view_identity_ac,
        within=in_user_information,
    ),
    "0x59-user-identity-ac-response": Case(
        ours=lambda: UserIdentityACSubItem(server_response=b"<saml:Response/>"),
        theirs=lambda: theirs(
            their_items.UserIdentitySubItemAC, server_response=b"<saml:Response/>"
        ),
        their_cls=their_items.UserIdentitySubItemAC,
        view=view_identity_ac,
        within=in_user_information,
    ),
    "pdv-command-last": pdv_case(1, 0x03, bytes(range(12))),
    "pdv-data-more": pdv_case(3, 0x00, b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"),
}


# -- PDU views ------------------------------------------------------------------------------


def pdu_header(t: Any) -> dict[str, Any]:
    return {"pdu_type": t.pdu_type, "length": t.pdu_length}


def view_association(t: Any) -> dict[str, Any]:
    return {
        **pdu_header(t),
        "protocol_version": t.protocol_version,
        "called_ae_title": t.called_ae_title.ljust(16),
        "calling_ae_title": t.calling_ae_title.ljust(16),
        "variable_items": [item.item_type for item in t.variable_items],
    }


def view_rj(t: Any) -> dict[str, Any]:
    return {
        **pdu_header(t),
        "result": t.result,
        "source": t.source,
        "reason": t.reason_diagnostic,
    }


def view_abort(t: Any) -> dict[str, Any]:
    return {**pdu_header(t), "source": t.source, "reason": t.reason_diagnostic}


def view_p_data(t: Any) -> dict[str, Any]:
    return {
        **pdu_header(t),
        "pdvs": [
            (
                pdv.presentation_context_id,
                pdv.presentation_data_value[0],
                pdv.presentation_data_value[1:].hex(),
            )
            for pdv in t.presentation_data_value_items
        ],
    }


def rq_ours() -> Packet:
    return A_ASSOCIATE_RQ(
        called_ae_title="STORESCP",
        calling_ae_title="STORESCU",
        variable_items=[
            ApplicationContextItem(application_context_name=APP_CONTEXT),
            pc_rq_ours(1, VERIFICATION, IMPLICIT_LE),
            pc_rq_ours(3, CT_IMAGE_STORAGE, EXPLICIT_LE, IMPLICIT_LE),
            user_info_ours(AsyncOperationsWindowSubItem(max_ops_invoked=2, max_ops_performed=2)),
        ],
    )


def rq_theirs() -> Any:
    return theirs(
        their_pdu.A_ASSOCIATE_RQ,
        called_ae_title="STORESCP",
        calling_ae_title="STORESCU",
        variable_items=[
            theirs(their_items.ApplicationContextItem, application_context_name=APP_CONTEXT),
            pc_rq_theirs(1, VERIFICATION, IMPLICIT_LE),
            pc_rq_theirs(3, CT_IMAGE_STORAGE, EXPLICIT_LE, IMPLICIT_LE),
            user_info_theirs(
                theirs(
                    their_items.AsynchronousOperationsWindowSubItem,
                    maximum_number_operations_invoked=2,
                    maximum_number_operations_performed=2,
                )
            ),
        ],
    )


def ac_ours() -> Packet:
    return A_ASSOCIATE_AC(
        called_ae_title="STORESCP",
        calling_ae_title="STORESCU",
        variable_items=[
            ApplicationContextItem(application_context_name=APP_CONTEXT),
            pc_ac_ours(1, 0, IMPLICIT_LE),
            pc_ac_ours(3, 4, EXPLICIT_LE),
            user_info_ours(UserIdentityACSubItem(server_response=b"")),
        ],
    )


def ac_theirs() -> Any:
    return theirs(
        their_pdu.A_ASSOCIATE_AC,
        reserved_aet="STORESCP",
        reserved_aec="STORESCU",
        variable_items=[
            theirs(their_items.ApplicationContextItem, application_context_name=APP_CONTEXT),
            pc_ac_theirs(1, 0, IMPLICIT_LE),
            pc_ac_theirs(3, 4, EXPLICIT_LE),
            user_info_theirs(theirs(their_items.UserIdentitySubItemAC, server_response=b"")),
        ],
    )


def p_data_theirs() -> Any:
    return theirs(
        their_pdu.P_DATA_TF,
        presentation_data_value_items=[
            theirs(
                their_items.PresentationDataValueItem,
                presentation_context_id=1,
                presentation_data_value=b"\x01" + bytes(range(20)),
            ),
            theirs(
                their_items.PresentationDataValueItem,
                presentation_context_id=1,
                presentation_data_value=b"\x03" + bytes(range(20, 30)),
            ),
        ],
    )


def p_data_ours() -> Packet:
    return P_DATA_TF(
        pdvs=[
            PDVItem(pc_id=1, message_control_header=0x01, data=bytes(range(20))),
            PDVItem(pc_id=1, message_control_header=0x03, data=bytes(range(20, 30))),
        ]
    )


PDU_CASES: dict[str, Case] = {
    "A-ASSOCIATE-RQ": Case(
        ours=rq_ours,
        theirs=rq_theirs,
        their_cls=their_pdu.A_ASSOCIATE_RQ,
        view=view_association,
        within=as_pdu,
    ),
    "A-ASSOCIATE-AC": Case(
        ours=ac_ours,
        theirs=ac_theirs,
        their_cls=their_pdu.A_ASSOCIATE_AC,
        view=view_association,
        within=as_pdu,
    ),
    "A-ASSOCIATE-RJ": Case(
        ours=lambda: A_ASSOCIATE_RJ(result=2, source=3, reason=2),
        theirs=lambda: theirs(their_pdu.A_ASSOCIATE_RJ, result=2, source=3, reason_diagnostic=2),
        their_cls=their_pdu.A_ASSOCIATE_RJ,
        view=view_rj,
        within=as_pdu,
    ),
    "P-DATA-TF": Case(
        ours=p_data_ours,
        theirs=p_data_theirs,
        their_cls=their_pdu.P_DATA_TF,
        view=view_p_data,
        within=as_pdu,
    ),
    "A-RELEASE-RQ": Case(
        ours=A_RELEASE_RQ,
        theirs=their_pdu.A_RELEASE_RQ,
        their_cls=their_pdu.A_RELEASE_RQ,
        view=pdu_header,
        within=as_pdu,
    ),
    "A-RELEASE-RP": Case(
        ours=A_RELEASE_RP,
        theirs=their_pdu.A_RELEASE_RP,
        their_cls=their_pdu.A_RELEASE_RP,
        view=pdu_header,
        within=as_pdu,
    ),
    "A-ABORT": Case(
        ours=lambda: A_ABORT(source=2, reason=6),
        theirs=lambda: theirs(their_pdu.A_ABORT_RQ, source=2, reason_diagnostic=6),
        their_cls=their_pdu.A_ABORT_RQ,
        view=view_abort,
        within=as_pdu,
    ),
}

ALL_CASES = {**ITEM_CASES, **PDU_CASES}


def test_every_pdu_and_item_type_has_a_case() -> None:
    item_types = {
        case.ours().item_type
        for case in ITEM_CASES.values()
        if not isinstance(case.ours(), PDVItem)
    }
    assert item_types == set(ITEM_CLASSES)
    assert set(PDU_CASES) == set(PDU_CLASSES)
    assert any(isinstance(case.ours(), PDVItem) for case in ITEM_CASES.values())


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_our_bytes_decode_with_pynetdicom_to_the_same_values(name: str) -> None:
    case = ALL_CASES[name]
    ours = case.ours()
    decoded = their_decode(case.their_cls, bytes(ours))
    view = case.view(decoded)
    assert view == project(to_dict(ours), list(view))


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_pynetdicom_bytes_dissect_with_our_layers_to_the_same_values(name: str) -> None:
    case = ALL_CASES[name]
    built = case.theirs()
    ours = case.within(built.encode())
    assert isinstance(ours, type(case.ours()))
    view = case.view(built)
    assert project(to_dict(ours), list(view)) == view


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_both_encoders_give_identical_bytes(name: str) -> None:
    case = ALL_CASES[name]
    assert bytes(case.ours()) == case.theirs().encode()


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_dissected_layers_re_encode_from_their_fields(name: str) -> None:
    case = ALL_CASES[name]
    data = bytes(case.ours())
    dissected = case.within(data)
    dissected.clear_cache()
    assert bytes(dissected) == data
