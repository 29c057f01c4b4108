"""Items and sub-items of the association PDUs (PS3.8 9.3.2-9.3.3, Annex D; PS3.7 Annex D.3),
and the PDV item of P-DATA-TF (PS3.8 Table 9-23).

Item lists are dissected by item-type byte within their context: the variable items of
A-ASSOCIATE-RQ/AC know 10H, 20H, 21H and 50H; a presentation context knows 30H and 40H; user
information knows 51H-59H. Any other type, in that context, is an :class:`UnknownItem`, which
PS3.8 9.3.1 says is skipped and ignored, so it always dissects.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import (
    ByteEnumField,
    ByteField,
    FieldLenField,
    IntField,
    PacketListField,
    ShortField,
    StrField,
    StrLenField,
    XByteField,
)

from harness.pdu.base import (
    MAX_ITEMS,
    MAX_PDVS,
    Counted,
    Elements,
    Fixed,
    LengthPrefixed,
    TextField,
    TextLenField,
    dispatcher,
    element_list,
)

ITEM_TYPE_NAMES: dict[int, str] = {
    0x10: "application-context",
    0x20: "presentation-context-rq",
    0x21: "presentation-context-ac",
    0x30: "abstract-syntax",
    0x40: "transfer-syntax",
    0x50: "user-information",
    0x51: "maximum-length",
    0x52: "implementation-class-uid",
    0x53: "asynchronous-operations-window",
    0x54: "scp-scu-role-selection",
    0x55: "implementation-version-name",
    0x56: "sop-class-extended-negotiation",
    0x57: "sop-class-common-extended-negotiation",
    0x58: "user-identity-rq",
    0x59: "user-identity-ac",
}
"""Item-type codes (PS3.8 Tables 9-12..9-20, D.1-1; PS3.7 Tables D.3-1..D.3-15)."""

PC_RESULT_NAMES: dict[int, str] = {
    0: "acceptance",
    1: "user-rejection",
    2: "no-reason (provider rejection)",
    3: "abstract-syntax-not-supported (provider rejection)",
    4: "transfer-syntaxes-not-supported (provider rejection)",
}
"""Result/Reason of a presentation context (PS3.8 Table 9-18)."""

USER_IDENTITY_TYPE_NAMES: dict[int, str] = {
    1: "username",
    2: "username-and-passcode",
    3: "kerberos",
    4: "saml",
    5: "jwt",
}
"""User-Identity-Type (PS3.7 Table D.3-14)."""

DICOM_APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
"""The DICOM Application Context Name (PS3.7 Annex A.2.1)."""

VERIFICATION_SOP_CLASS = b"1.2.840.10008.1.1"
IMPLICIT_VR_LITTLE_ENDIAN = b"1.2.840.10008.1.2"
HARNESS_IMPLEMENTATION_CLASS_UID = b"2.25.252951307840967885873343851636622273927"
"""This harness's own implementation class UID (a UUID-derived 2.25 UID, PS3.5 B.2)."""


def _item_header(item_type: int, byte2: str = "reserved1") -> list[Any]:
    """The 4-byte item header: item-type, a reserved byte, item-length (PS3.8 9.3.1)."""
    return [
        ByteEnumField("item_type", item_type, ITEM_TYPE_NAMES),
        ByteField(byte2, 0),
        ShortField("item_length", None),
    ]


def _text_item_fields(item_type: int, name: str, default: bytes) -> list[Any]:
    """An item whose whole body is one text value: a UID (10H, 30H, 40H, 52H) or a name (55H)."""
    return [*_item_header(item_type), TextField(name, default)]


def _counted(length_field: str, name: str, *, text: bool = False) -> list[Any]:
    """A 2-byte length field followed by the value it measures (PS3.7 Tables D.3-9..D.3-15)."""
    value_cls = TextLenField if text else StrLenField
    return [
        FieldLenField(length_field, None, length_of=name, fmt="!H"),
        value_cls(name, b"", length_from=lambda pkt: pkt.getfieldval(length_field)),
    ]


def _extra() -> Any:
    """Bytes within the declared length beyond the defined fields (empty when well formed)."""
    return StrField("extra", b"")


class UnknownItem(LengthPrefixed):
    """An item of a type not known in its context; skipped and ignored per PS3.8 9.3.1."""

    name = "Unknown Item"
    fields_desc = [*_item_header(0x60), StrField("data", b"")]


class AbstractSyntaxSubItem(LengthPrefixed):
    """Abstract Syntax Sub-Item, 30H (PS3.8 Table 9-14)."""

    name = "Abstract Syntax Sub-Item"
    fields_desc = _text_item_fields(0x30, "abstract_syntax_name", VERIFICATION_SOP_CLASS)


class TransferSyntaxSubItem(LengthPrefixed):
    """Transfer Syntax Sub-Item, 40H (PS3.8 Tables 9-15 and 9-19)."""

    name = "Transfer Syntax Sub-Item"
    fields_desc = _text_item_fields(0x40, "transfer_syntax_name", IMPLICIT_VR_LITTLE_ENDIAN)


class MaximumLengthSubItem(LengthPrefixed):
    """Maximum Length Sub-Item, 51H (PS3.8 Annex D.1, Tables D.1-1 and D.1-2); 0 = no limit."""

    name = "Maximum Length Sub-Item"
    fields_desc = [*_item_header(0x51), IntField("max_length", 16384), _extra()]
    shape = (Fixed(4, "max_length"),)


class ImplementationClassUIDSubItem(LengthPrefixed):
    """Implementation Class UID Sub-Item, 52H (PS3.7 Tables D.3-1 and D.3-2)."""

    name = "Implementation Class UID Sub-Item"
    fields_desc = _text_item_fields(
        0x52, "implementation_class_uid", HARNESS_IMPLEMENTATION_CLASS_UID
    )


class AsyncOperationsWindowSubItem(LengthPrefixed):
    """Asynchronous Operations Window Sub-Item, 53H (PS3.7 Tables D.3-7 and D.3-8)."""

    name = "Asynchronous Operations Window Sub-Item"
    fields_desc = [
        *_item_header(0x53),
        ShortField("max_ops_invoked", 1),
        ShortField("max_ops_performed", 1),
        _extra(),
    ]
    shape = (Fixed(4, "max_ops_invoked and max_ops_performed"),)


class RoleSelectionSubItem(LengthPrefixed):
    """SCP/SCU Role Selection Sub-Item, 54H (PS3.7 Tables D.3-9 and D.3-10)."""

    name = "SCP/SCU Role Selection Sub-Item"
    fields_desc = [
        *_item_header(0x54),
        *_counted("uid_length", "sop_class_uid", text=True),
        ByteField("scu_role", 0),
        ByteField("scp_role", 0),
        _extra(),
    ]
    shape = (Counted("uid_length"), Fixed(2, "scu_role and scp_role"))


class ImplementationVersionNameSubItem(LengthPrefixed):
    """Implementation Version Name Sub-Item, 55H (PS3.7 Tables D.3-3 and D.3-4)."""

    name = "Implementation Version Name Sub-Item"
    fields_desc = _text_item_fields(0x55, "implementation_version_name", b"DICOM-UL-HARNESS")


class SOPClassExtendedNegotiationSubItem(LengthPrefixed):
    """SOP Class Extended Negotiation Sub-Item, 56H (PS3.7 Table D.3-11)."""

    name = "SOP Class Extended Negotiation Sub-Item"
    fields_desc = [
        *_item_header(0x56),
        *_counted("sop_class_uid_length", "sop_class_uid", text=True),
        StrField("service_class_application_information", b""),
    ]
    shape = (Counted("sop_class_uid_length"),)


class RelatedGeneralSOPClass(LengthPrefixed):
    """One entry of the related-general-sop-class-identification list (PS3.7 Table D.3-13)."""

    name = "Related General SOP Class"
    length_field = "related_general_sop_class_uid_length"
    length_offset = 0
    typed = False
    fields_desc = [
        ShortField("related_general_sop_class_uid_length", None),
        TextField("related_general_sop_class_uid", b""),
    ]


def _related_entry(_first_byte: int) -> type[LengthPrefixed]:
    """Every element of the related general SOP class list has the same layout."""
    return RelatedGeneralSOPClass


class SOPClassCommonExtendedNegotiationSubItem(LengthPrefixed):
    """SOP Class Common Extended Negotiation Sub-Item, 57H (PS3.7 Table D.3-12).

    Byte 2 is ``sub_item_version`` (0), not a reserved byte; ``extra`` is the reserved tail
    that version 0 leaves empty.
    """

    name = "SOP Class Common Extended Negotiation Sub-Item"
    fields_desc = [
        *_item_header(0x57, "sub_item_version"),
        *_counted("sop_class_uid_length", "sop_class_uid", text=True),
        *_counted("service_class_uid_length", "service_class_uid", text=True),
        FieldLenField(
            "related_general_sop_class_identification_length",
            None,
            length_of="related_general_sop_class_identification",
            fmt="!H",
        ),
        PacketListField(
            "related_general_sop_class_identification",
            [],
            RelatedGeneralSOPClass,
            length_from=lambda pkt: pkt.related_general_sop_class_identification_length,
            max_count=MAX_ITEMS,
        ),
        _extra(),
    ]
    shape = (
        Counted("sop_class_uid_length"),
        Counted("service_class_uid_length"),
        Counted(
            "related_general_sop_class_identification_length",
            Elements(_related_entry, MAX_ITEMS),
        ),
    )


class UserIdentityRQSubItem(LengthPrefixed):
    """User Identity Sub-Item (RQ), 58H (PS3.7 Table D.3-14).

    The 2-byte ``secondary_field_length`` is always sent (0 unless the type is 2).
    """

    name = "User Identity Sub-Item (RQ)"
    fields_desc = [
        *_item_header(0x58),
        ByteEnumField("user_identity_type", 1, USER_IDENTITY_TYPE_NAMES),
        ByteField("positive_response_requested", 0),
        *_counted("primary_field_length", "primary_field"),
        *_counted("secondary_field_length", "secondary_field"),
        _extra(),
    ]
    shape = (
        Fixed(2, "user_identity_type and positive_response_requested"),
        Counted("primary_field_length"),
        Counted("secondary_field_length"),
    )


class UserIdentityACSubItem(LengthPrefixed):
    """User Identity Sub-Item (AC), 59H (PS3.7 Table D.3-15)."""

    name = "User Identity Sub-Item (AC)"
    fields_desc = [
        *_item_header(0x59),
        *_counted("server_response_length", "server_response"),
        _extra(),
    ]
    shape = (Counted("server_response_length"),)


USER_DATA_CLASSES: dict[int, type[LengthPrefixed]] = {
    0x51: MaximumLengthSubItem,
    0x52: ImplementationClassUIDSubItem,
    0x53: AsyncOperationsWindowSubItem,
    0x54: RoleSelectionSubItem,
    0x55: ImplementationVersionNameSubItem,
    0x56: SOPClassExtendedNegotiationSubItem,
    0x57: SOPClassCommonExtendedNegotiationSubItem,
    0x58: UserIdentityRQSubItem,
    0x59: UserIdentityACSubItem,
}
"""Sub-items known inside a User Information item (PS3.8 Annex D, PS3.7 Annex D.3)."""

_USER_DATA = Elements(dispatcher(USER_DATA_CLASSES, UnknownItem), MAX_ITEMS)


class UserInformationItem(LengthPrefixed):
    """User Information Item, 50H (PS3.8 Tables 9-16 and 9-20): sub-items in any order."""

    name = "User Information Item"
    fields_desc = [
        *_item_header(0x50),
        PacketListField(
            "user_data", [], element_list(_USER_DATA.classify), max_count=_USER_DATA.max_count
        ),
    ]
    shape = (_USER_DATA,)


PRESENTATION_SUB_ITEM_CLASSES: dict[int, type[LengthPrefixed]] = {
    0x30: AbstractSyntaxSubItem,
    0x40: TransferSyntaxSubItem,
}
"""Sub-items known inside a presentation context item (PS3.8 Tables 9-13 and 9-18)."""

_PC_SUB_ITEMS = Elements(dispatcher(PRESENTATION_SUB_ITEM_CLASSES, UnknownItem), MAX_ITEMS)


def _sub_items() -> Any:
    """The list of abstract/transfer syntax sub-items of a presentation context."""
    return PacketListField(
        "sub_items", [], element_list(_PC_SUB_ITEMS.classify), max_count=_PC_SUB_ITEMS.max_count
    )


class PresentationContextRQItem(LengthPrefixed):
    """Presentation Context Item (RQ), 20H (PS3.8 Table 9-13): one 30H, then 40H items."""

    name = "Presentation Context Item (RQ)"
    fields_desc = [
        *_item_header(0x20),
        ByteField("pc_id", 1),
        ByteField("reserved2", 0),
        ByteField("reserved3", 0),
        ByteField("reserved4", 0),
        _sub_items(),
    ]
    shape = (Fixed(4, "pc_id and reserved2..reserved4"), _PC_SUB_ITEMS)


class PresentationContextACItem(LengthPrefixed):
    """Presentation Context Item (AC), 21H (PS3.8 Table 9-18): one 40H item."""

    name = "Presentation Context Item (AC)"
    fields_desc = [
        *_item_header(0x21),
        ByteField("pc_id", 1),
        ByteField("reserved2", 0),
        ByteEnumField("result_reason", 0, PC_RESULT_NAMES),
        ByteField("reserved3", 0),
        _sub_items(),
    ]
    shape = (Fixed(4, "pc_id, reserved2, result_reason and reserved3"), _PC_SUB_ITEMS)


class ApplicationContextItem(LengthPrefixed):
    """Application Context Item, 10H (PS3.8 Table 9-12)."""

    name = "Application Context Item"
    fields_desc = _text_item_fields(0x10, "application_context_name", DICOM_APPLICATION_CONTEXT)


VARIABLE_ITEM_CLASSES: dict[int, type[LengthPrefixed]] = {
    0x10: ApplicationContextItem,
    0x20: PresentationContextRQItem,
    0x21: PresentationContextACItem,
    0x50: UserInformationItem,
}
"""Items known in the variable field of A-ASSOCIATE-RQ/AC (PS3.8 Tables 9-11 and 9-17)."""

VARIABLE_ITEMS = Elements(dispatcher(VARIABLE_ITEM_CLASSES, UnknownItem), MAX_ITEMS)
"""How the variable items of A-ASSOCIATE-RQ/AC are told apart and bounded."""

ITEM_CLASSES: dict[int, type[LengthPrefixed]] = {
    **VARIABLE_ITEM_CLASSES,
    **PRESENTATION_SUB_ITEM_CLASSES,
    **USER_DATA_CLASSES,
}
"""Every item and sub-item layer by item-type code."""


class PDVItem(LengthPrefixed):
    """Presentation Data Value Item (PS3.8 Table 9-23; message control header: Annex E.2).

    Its 4-byte ``item_length`` counts ``pc_id``, ``message_control_header`` and ``data``;
    there is no item-type byte.
    """

    name = "Presentation Data Value Item"
    length_offset = 0
    length_format = "!I"
    typed = False
    fields_desc = [
        IntField("item_length", None),
        ByteField("pc_id", 1),
        XByteField("message_control_header", 0x03),
        StrField("data", b""),
    ]
    shape = (Fixed(2, "pc_id and message_control_header"),)


def _pdv(_first_byte: int) -> type[LengthPrefixed]:
    """Every element of a P-DATA-TF is a PDV item."""
    return PDVItem


PDV_ITEMS = Elements(_pdv, MAX_PDVS)
"""The PDV list of P-DATA-TF (PS3.8 Table 9-22)."""
