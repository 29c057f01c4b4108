"""Wire codec: scapy layers of our own for the DICOM Upper Layer PDUs (PS3.8 section 9.3,
Annexes D and E; PS3.7 Annex D.3).

Public API
----------
- ``PDU_CLASSES``: ``{"A-ASSOCIATE-RQ": A_ASSOCIATE_RQ, ...}`` for the seven PDUs;
  ``UnknownPDU`` dissects any other PDU type (Evt19 of PS3.8 Table 9-10 must be seen).
- ``ITEM_CLASSES``: ``{0x10: ApplicationContextItem, ...}`` for every item and sub-item type;
  ``UnknownItem`` for the rest; ``PDVItem`` is the PDV item of P-DATA-TF (no type byte).
- ``pdu_name(pkt)``: ``"A-ASSOCIATE-RQ"`` ... or ``"unknown PDU type 0x08"``.
- ``dissect(data)``: one or more concatenated PDUs -> ``list[Packet]``; ``dissect_one(data)``:
  exactly one (``dissect_shared(data)``: the same, memoised, for PDUs that repeat; read
  only). They raise ``PDUDecodeError`` (a ``harness.errors.DecodeError``) with the
  absolute 0-based ``offset`` and ``partial`` (the PDUs fully dissected before the defect).
- ``to_dict(pkt)``: JSON-ready dict keyed by the field names below; ``describe(pkt)``: tree;
  ``summarize(pdu)``: one line (name, non-reserved fields, item type codes);
  ``p_data_views(raw, listed)``: both for one P-DATA-TF, read without scapy.

Field names (wire order; every length is computed when ``None``, sent as written when set)
-----------------------------------------------------------------------------------------
- Every PDU starts ``pdu_type, reserved1, length``; every item ``item_type, reserved1,
  item_length`` (57H: ``sub_item_version`` in place of ``reserved1``). Further reserved
  fields are numbered on: ``reserved2``, ``reserved3``, ...
- A-ASSOCIATE-RQ/AC: ``protocol_version, reserved2, called_ae_title, calling_ae_title,
  reserved3`` (32 bytes), ``variable_items``. The AC keeps the RQ's title names for its
  echoed reserved bytes 11-42.
- A-ASSOCIATE-RJ: ``reserved2, result, source, reason``. A-RELEASE-RQ/RP: ``reserved2``
  (4 bytes). A-ABORT: ``reserved2, reserved3, source, reason``. P-DATA-TF: ``pdvs``.
  UnknownPDU / UnknownItem: ``data``.
- 10H ``application_context_name``; 20H ``pc_id, reserved2..reserved4, sub_items``;
  21H ``pc_id, reserved2, result_reason, reserved3, sub_items``; 30H
  ``abstract_syntax_name``; 40H ``transfer_syntax_name``; 50H ``user_data``; 51H
  ``max_length``; 52H ``implementation_class_uid``; 53H ``max_ops_invoked,
  max_ops_performed``; 54H ``uid_length, sop_class_uid, scu_role, scp_role``; 55H
  ``implementation_version_name``; 56H ``sop_class_uid_length, sop_class_uid,
  service_class_application_information``; 57H ``sop_class_uid_length, sop_class_uid,
  service_class_uid_length, service_class_uid,
  related_general_sop_class_identification_length,
  related_general_sop_class_identification`` (entries:
  ``related_general_sop_class_uid_length, related_general_sop_class_uid``); 58H
  ``user_identity_type, positive_response_requested, primary_field_length, primary_field,
  secondary_field_length, secondary_field`` (the secondary length is always sent); 59H
  ``server_response_length, server_response``; PDV ``item_length, pc_id,
  message_control_header, data``.
- ``extra``: on the 10-byte PDUs and on 51H, 53H, 54H, 57H (its reserved tail), 58H and
  59H, the bytes inside the declared length beyond the defined fields; empty (and left out
  of ``to_dict``) when well formed. ``A_RELEASE_RQ(extra=b"\\0\\0")`` is a length-6 RQ.
- AE titles are 16-byte fields, space-padded on build; a longer value raises ValueError
  (never silently truncated): to send other bytes, set the field to ``scapy.packet.RawVal``.
  UIDs are sent as given, never padded (PS3.8 Annex F). Item order is list order.
- Item lists dispatch on the item-type byte within their context (RQ/AC: 10H 20H 21H 50H;
  presentation context: 30H 40H; user information: 51H-59H); any other type there is an
  ``UnknownItem`` (PS3.8 9.3.1: skipped and ignored). Lists accept at most 16384 items and
  100000 PDVs (``max_count``); more is a decode error.

Strictness of ``dissect`` (offsets are absolute)
------------------------------------------------
Typed error (``PDUDecodeError``):
- fewer than 6 bytes for a PDU header (empty input included): at the PDU's offset;
- a PDU-length running past the end of the input (truncated PDU): at the PDU's offset;
- a body too short for the fixed fields (A-ASSOCIATE-RQ/AC: 68 bytes; RJ, RELEASE, ABORT:
  4; 20H/21H: 4; 51H, 53H: 4; 54H: the role bytes; 58H: 2; PDV item-length < 2): at the
  offset of the PDU, item or PDV;
- an item (or PDV) header not fitting, or its length overrunning the enclosing PDU or item:
  at the item's offset;
- an inner 2-byte length (``uid_length``, ``sop_class_uid_length``,
  ``service_class_uid_length``, ``related_general_sop_class_identification_length`` and its
  entries, ``primary_field_length``, ``secondary_field_length``, ``server_response_length``)
  missing or overrunning its item: at that length field's offset;
- ``dissect_one`` only: bytes after the PDU, at their offset.

Dissected, with the defect visible in the fields: unknown PDU types (``UnknownPDU``) and
item types (``UnknownItem``); a body longer than the fixed fields (``extra``, and the
``length`` field shows it); missing, repeated or misordered items; wrong type codes,
reserved values, protocol versions, PC-IDs, result/source/reason codes; padded UIDs; empty
lists; AE titles of any content.
"""

from harness.pdu.base import LengthPrefixed
from harness.pdu.decode import PDUDecodeError, check_one, dissect, dissect_one, dissect_shared
from harness.pdu.items import (
    ITEM_CLASSES,
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
    UnknownItem,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserInformationItem,
)
from harness.pdu.pdus import (
    A_ABORT,
    A_ASSOCIATE_AC,
    A_ASSOCIATE_RJ,
    A_ASSOCIATE_RQ,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    P_DATA_TF,
    PDU,
    PDU_CLASSES,
    UnknownPDU,
    pdu_name,
)
from harness.pdu.render import describe, p_data_views, summarize, to_dict

__all__ = [
    "A_ABORT",
    "A_ASSOCIATE_AC",
    "A_ASSOCIATE_RJ",
    "A_ASSOCIATE_RQ",
    "A_RELEASE_RP",
    "A_RELEASE_RQ",
    "ITEM_CLASSES",
    "PDU",
    "PDU_CLASSES",
    "P_DATA_TF",
    "AbstractSyntaxSubItem",
    "ApplicationContextItem",
    "AsyncOperationsWindowSubItem",
    "ImplementationClassUIDSubItem",
    "ImplementationVersionNameSubItem",
    "LengthPrefixed",
    "MaximumLengthSubItem",
    "PDUDecodeError",
    "PDVItem",
    "PresentationContextACItem",
    "PresentationContextRQItem",
    "RelatedGeneralSOPClass",
    "RoleSelectionSubItem",
    "SOPClassCommonExtendedNegotiationSubItem",
    "SOPClassExtendedNegotiationSubItem",
    "TransferSyntaxSubItem",
    "UnknownItem",
    "UnknownPDU",
    "UserIdentityACSubItem",
    "UserIdentityRQSubItem",
    "UserInformationItem",
    "check_one",
    "describe",
    "dissect",
    "dissect_one",
    "dissect_shared",
    "p_data_views",
    "pdu_name",
    "summarize",
    "to_dict",
]
