"""From scenario steps to bytes on the wire, and from received bytes to matchable values.

A ``send`` step names a PDU (or a DIMSE message, or an unknown PDU type) and ``set``
fields: the PS3.8 field names of :mod:`harness.pdu` (any of them: reserved bytes, type
codes, lengths, items), plus, for A-ASSOCIATE-RQ/AC, the negotiation shortcuts of
:class:`harness.association.AssociateRQ` (``presentation_contexts``, ``max_length``,
``async_ops_window``, ``role_selections``, ``user_identity``...). The mutators then act
on the bytes: ``length`` rewrites the PDU-length, ``truncate`` cuts, ``append`` adds.

An ``expect`` step's ``where`` matchers compare against the received PDU's fields
(:func:`harness.pdu.to_dict`), the negotiation read from an A-ASSOCIATE-AC
(``max_length``, ``pc_results``...), or a DIMSE command's elements (``status``...).
"""

from __future__ import annotations

import dataclasses
import struct
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from scapy.packet import Packet

from harness import association as assoc
from harness import codes, dimse, framing, pdu
from harness.memo import Memo
from harness.pdu.base import TextValue
from harness.scenario import (
    Accept,
    AnyOf,
    Associate,
    Coalesce,
    Expect,
    Raw,
    Repeat,
    Scenario,
    Send,
    Step,
    parse_hex,
)
from harness.scenario_format import DIMSE_NAMES, SUT_EXITED, UNKNOWN_PDU
from harness.yamlsrc import Source

_PDU_LENGTH = struct.Struct(">L")

#: DIMSE ``set``/``where`` names and the command elements they stand for (PS3.7 E.1).
DIMSE_ELEMENTS: Mapping[str, str] = {
    "message_id": "MessageID",
    "message_id_being_responded_to": "MessageIDBeingRespondedTo",
    "affected_sop_class_uid": "AffectedSOPClassUID",
    "affected_sop_instance_uid": "AffectedSOPInstanceUID",
    "priority": "Priority",
    "status": "Status",
    "command_field": "CommandField",
    "command_data_set_type": "CommandDataSetType",
}
_DIMSE_OWN = frozenset({"pc_id", "control_bits", "pixel_data_bytes"})
#: Offset of the message control header in a one-PDV P-DATA-TF (PS3.8 Tables 9-22/9-23).
_CONTROL_HEADER_AT = 11

#: Shortcut fields of the association PDUs (PS3.7 Annex D.3 negotiation).
RQ_SHORTCUTS = frozenset(f.name for f in dataclasses.fields(assoc.AssociateRQ))
_EXTRA_ITEM_FIELDS = frozenset(
    {"extra_items", "extra_user_data", "extra_pc_sub_items", "item_order"}
)

#: Matchable values derived from an A-ASSOCIATE-AC beyond its raw fields.
AC_DERIVED = frozenset(
    {
        "max_length",
        "implementation_class_uid",
        "implementation_version_name",
        "async_ops_window",
        "pc_results",
        "transfer_syntaxes",
        "role_selections",
        "user_identity_response",
        "item_types",
        "user_data_types",
        "application_context_name",
        "pc_ids",
        "pc_sub_items",
        "item_counts",
        "user_data_counts",
        "max_ops_invoked",
        "max_ops_performed",
        "extended_negotiation",
    }
)


#: Matchable values derived from an A-ASSOCIATE-RQ beyond its raw fields (PS3.8 9.3.2).
RQ_DERIVED = frozenset(
    {
        "max_length",
        "implementation_class_uid",
        "implementation_version_name",
        "async_ops_window",
        "role_selections",
        "user_identity_type",
        "item_types",
        "items_ordered",
        "user_data_types",
        "application_context_name",
        "pc_ids",
        "pc_ids_odd",
        "pc_ids_unique",
        "pc_sub_items",
        "pc_sub_items_ordered",
        "abstract_syntaxes",
        "item_counts",
        "user_data_counts",
        "user_data_lengths",
        "ae_titles_valid",
        "uids_valid",
    }
)
#: ``set`` shortcuts of an A-ASSOCIATE-AC answering the SUT's RQ (PS3.7 Annex D.3).
AC_SHORTCUTS = frozenset(
    {
        "pc_results",
        "max_length",
        "async_ops_window",
        "role_selections",
        "implementation_class_uid",
        "implementation_version_name",
        "extra_items",
        "item_order",
    }
)
#: The AC shortcuts that set a value of :class:`harness.association.AssociateAC`.
_AC_VALUES = AC_SHORTCUTS - _EXTRA_ITEM_FIELDS - {"pc_results"}
#: The ``where`` name of ``expect: sut-exited``: the trigger command's exit code.
EXIT_CODE = "exit_code"


@dataclass
class Context:
    """What a step needs to know about the SUT and the association so far."""

    sut_ae_title: str
    harness_ae_title: str
    sut_host: str = "127.0.0.1"
    sut_port: int = 0
    sut_max_length: int = 16384
    harness_max_length: int = 16384
    proposed: tuple[assoc.PresentationContext, ...] = ()
    accepted: dict[int, tuple[str, str]] = field(default_factory=dict)
    message_id: int = 0
    received_rq: Packet | None = None
    """The SUT's A-ASSOCIATE-RQ, when the SUT is the requestor: the AC answers it."""
    request_uids: dict[str, str] = field(default_factory=dict)
    """The Affected SOP Class and Instance UIDs of the SUT's last request."""
    unanswered: tuple[tuple[int, dict[str, str]], ...] = ()
    """The SUT's requests that no response of ours answered yet, oldest first: the
    MessageID of each and its UIDs."""

    def templates(self) -> dict[str, Any]:
        """Values of the ``{...}`` template names (:data:`harness.scenario.TEMPLATE_NAMES`)."""
        return {
            "sut.ae_title": self.sut_ae_title,
            "sut.host": self.sut_host,
            "sut.port": self.sut_port,
            "sut.max_length": self.sut_max_length,
            "harness.ae_title": self.harness_ae_title,
            "harness.max_length": self.harness_max_length,
        }

    def expand(self, value: Any) -> Any:
        """``value`` with templates filled in; ``"{sut.max_length}"`` alone stays an int."""
        if isinstance(value, str):
            values = self.templates()
            name = value[1:-1]
            if value.startswith("{") and value.endswith("}") and name in values:
                return values[name]
            return value.format_map(_Dotted(values)) if "{" in value else value
        if isinstance(value, dict):
            return {key: self.expand(child) for key, child in value.items()}
        if isinstance(value, list):
            return [self.expand(child) for child in value]
        return value

    def answering(self, request: Dataset) -> None:
        """Remember a request of the SUT, which one of our responses will answer: its
        MessageID and Affected SOP Class and Instance UIDs, which a response repeats
        (PS3.7 9.3.1.2, 9.3.5.2)."""
        self.message_id = int(request.MessageID)
        self.request_uids = {
            keyword: str(request[keyword].value)
            for keyword in ("AffectedSOPClassUID", "AffectedSOPInstanceUID")
            if keyword in request
        }
        self.unanswered = (*self.unanswered, (self.message_id, self.request_uids))

    def answer(self, message_id: int | None) -> tuple[int, dict[str, str]]:
        """The MessageID and UIDs of the request a response answers, which is no longer
        unanswered: the one ``message_id`` names, else the oldest unanswered one (served
        in order when several are outstanding, PS3.7 D.3.3.3), else the last one."""
        if message_id is None:
            message_id = self.unanswered[0][0] if self.unanswered else self.message_id
        uids = next((u for id_, u in self.unanswered if id_ == message_id), self.request_uids)
        self.unanswered = tuple(r for r in self.unanswered if r[0] != message_id)
        return message_id, uids

    def next_message_id(self) -> int:
        """A fresh DIMSE Message ID (PS3.7 9.3: unique per outstanding request)."""
        self.message_id = self.message_id % 0xFFFF + 1
        return self.message_id

    def default_rq(self) -> assoc.AssociateRQ:
        """The profile's A-ASSOCIATE-RQ: its contexts, our titles and max length."""
        return assoc.AssociateRQ(
            called_ae_title=self.sut_ae_title,
            calling_ae_title=self.harness_ae_title,
            presentation_contexts=self.proposed,
            max_length=self.harness_max_length,
        )

    def context_for(self, abstract_syntax: str) -> int:
        """The accepted PC-ID for ``abstract_syntax``, else the first accepted, else 1."""
        for pc_id, (syntax, _) in sorted(self.accepted.items()):
            if syntax == abstract_syntax:
                return pc_id
        return min(self.accepted, default=1)


class _Dotted(dict[str, Any]):
    """``str.format_map`` support for dotted names: ``{sut.ae_title}``."""

    def __getitem__(self, key: str) -> Any:
        return _Namespace(self, key)


@dataclass(frozen=True)
class _Namespace:
    values: Mapping[str, Any]
    prefix: str

    def __getattr__(self, name: str) -> Any:
        return self.values[f"{self.prefix}.{name}"]


# -- field values ------------------------------------------------------------------------


def _field_value(pdu_name: str, packet: Packet, name: str, value: Any) -> Any:
    """A scenario value for scapy field ``name``: symbol -> code, text -> bytes, hex -> bytes."""
    value = codes.resolve(pdu_name, name, value)
    if not isinstance(value, str):
        return value
    scapy_field = packet.get_field(name)
    if isinstance(scapy_field, TextValue):
        return value.encode("latin-1")
    return parse_hex(value)


def _set_fields(pdu_name: str, packet: Packet, fields: Mapping[str, Any]) -> None:
    """Set raw layer fields on ``packet``; an unknown name is a ValueError naming it."""
    names = {f.name for f in packet.fields_desc}
    for name, value in fields.items():
        if name not in names:
            allowed = ", ".join(sorted(names))
            raise KeyError(f"{name!r} is not a field of {pdu_name} (fields: {allowed})")
        packet.setfieldval(name, _field_value(pdu_name, packet, name, value))


def _unknown_items(entries: list[Mapping[str, Any]]) -> list[Packet]:
    """Items or sub-items of any type, from ``{item_type, data, reserved1, item_length}``
    entries; ``item_length`` is sent as written (e.g. overrunning the PDU, PS3.8 9.3.1),
    else computed."""
    return [
        pdu.UnknownItem(
            item_type=int(entry["item_type"]),
            reserved1=int(entry.get("reserved1", 0)),
            item_length=entry.get("item_length"),
            data=parse_hex(str(entry.get("data", ""))),
        )
        for entry in entries
    ]


def _rq_shortcut(name: str, value: Any) -> Any:
    """A negotiation shortcut from YAML data to :mod:`harness.association` values."""
    if name == "presentation_contexts":
        return tuple(
            assoc.PresentationContext(
                id=int(pc["id"]),
                abstract_syntax=str(pc["abstract_syntax"]),
                transfer_syntaxes=tuple(str(ts) for ts in pc["transfer_syntaxes"]),
            )
            for pc in value
        )
    if name == "role_selections":
        return tuple(
            assoc.RoleSelection(str(r["sop_class_uid"]), int(r["scu_role"]), int(r["scp_role"]))
            for r in value
        )
    if name == "user_identity" and value is not None:
        return assoc.UserIdentity(
            type=int(value["type"]),
            positive_response_requested=bool(value.get("positive_response_requested", False)),
            primary=str(value.get("primary", "")).encode(),
            secondary=str(value.get("secondary", "")).encode(),
        )
    if name == "async_ops_window" and value is not None:
        return (int(value[0]), int(value[1]))
    if name == "extended_negotiation":
        return tuple((str(e["sop_class_uid"]), parse_hex(str(e["data"]))) for e in value)
    if name == "common_extended_negotiation":
        return tuple(
            assoc.CommonExtendedNegotiation(
                str(e["sop_class_uid"]),
                str(e["service_class_uid"]),
                tuple(str(uid) for uid in e.get("related_general_sop_classes", ())),
            )
            for e in value
        )
    return value


def _associate_rq(fields: Mapping[str, Any], context: Context) -> bytes:
    """The profile's A-ASSOCIATE-RQ with shortcuts, raw fields and extra items applied.

    The RQ sent defines the association's proposal: ``context`` keeps its presentation
    contexts and maximum length, against which the SUT's AC and P-DATA-TF are judged.
    """
    shortcuts = {k: _rq_shortcut(k, v) for k, v in fields.items() if k in RQ_SHORTCUTS}
    rq = dataclasses.replace(context.default_rq(), **shortcuts)
    context.proposed = rq.presentation_contexts
    context.harness_max_length = rq.max_length
    return _built(("A-ASSOCIATE-RQ", rq), fields, lambda: _rq_packet(rq, fields))


def _rq_packet(rq: assoc.AssociateRQ, fields: Mapping[str, Any]) -> Packet:
    """The PDU of ``rq`` with the raw fields and extra items of ``fields`` applied."""
    packet = rq.build()
    raw = {k: v for k, v in fields.items() if k not in RQ_SHORTCUTS | _EXTRA_ITEM_FIELDS}
    _set_fields("A-ASSOCIATE-RQ", packet, raw)
    _arrange_items(packet, fields)
    extra_user_data = _unknown_items(fields.get("extra_user_data", []))
    if extra_user_data:
        user_information = next(
            i for i in packet.variable_items if isinstance(i, pdu.UserInformationItem)
        )
        user_information.user_data = list(user_information.user_data) + extra_user_data
    _add_pc_sub_items(packet, fields.get("extra_pc_sub_items", {}))
    return packet


def _arrange_items(packet: Packet, fields: Mapping[str, Any]) -> None:
    """``extra_items`` added after the variable items, then ``item_order`` applied: the
    items by type in the order listed (items of one type keep theirs; types not listed
    follow). PS3.8 9.3.2 and 9.3.3 fix 10H, then the 20H or 21H items, then 50H: another
    order is a negative test of how the peer reads the PDU."""
    items = list(packet.variable_items) + _unknown_items(fields.get("extra_items", []))
    order = {int(item_type): rank for rank, item_type in enumerate(fields.get("item_order", []))}
    packet.variable_items = sorted(items, key=lambda item: order.get(item.item_type, len(order)))


def _add_pc_sub_items(packet: Packet, extra: Mapping[Any, list[Mapping[str, Any]]]) -> None:
    """Append sub-items of any type to the 20H items by PC-ID (``{pc_id: [entries]}``),
    after their 30H and 40H sub-items (PS3.8 9.3.1: an unknown one is skipped)."""
    contexts = {
        item.pc_id: item
        for item in packet.variable_items
        if isinstance(item, pdu.PresentationContextRQItem)
    }
    for pc_id, entries in extra.items():
        if int(pc_id) not in contexts:
            raise KeyError(f"'extra_pc_sub_items' names PC-ID {pc_id}, which the RQ lacks")
        item = contexts[int(pc_id)]
        item.sub_items = list(item.sub_items) + _unknown_items(entries)


def _associate_ac(fields: Mapping[str, Any], context: Context) -> bytes:
    """An A-ASSOCIATE-AC (PS3.8 9.3.3) answering the SUT's RQ (else the profile's): every
    proposed context accepted with its first transfer syntax unless ``pc_results`` says
    otherwise, our maximum length, no 53H or 54H answer (PS3.7 D.3.3.3-4 allow leaving
    them out), the harness's implementation class UID and version name (PS3.7 D.3.3.2);
    the shortcuts ``max_length``, ``async_ops_window``, ``role_selections``,
    ``implementation_class_uid``, ``implementation_version_name`` (None: no 55H); then
    raw ``set`` fields, ``extra_items`` and ``item_order``. The accepted contexts and
    our maximum length are kept in ``context`` to judge the SUT's P-DATA-TF by (PS3.8 D.1)."""
    received = context.received_rq
    rq = context.default_rq() if received is None else assoc.AssociateRQ.from_packet(received)
    chosen: dict[int, Any] = {
        int(k): codes.resolve("A-ASSOCIATE-AC", "result_reason", v)
        for k, v in fields.get("pc_results", {}).items()
    }
    results = tuple(
        assoc.PresentationContextResult(pc.id, int(chosen.get(pc.id, 0)), pc.transfer_syntaxes[0])
        for pc in rq.presentation_contexts
    )
    shortcuts = {k: _rq_shortcut(k, v) for k, v in fields.items() if k in _AC_VALUES}
    ac = assoc.AssociateAC(
        called_ae_title=rq.called_ae_title,
        calling_ae_title=rq.calling_ae_title,
        results=results,
        max_length=context.harness_max_length,
    )
    ac = dataclasses.replace(ac, **shortcuts)
    context.harness_max_length = ac.max_length
    context.proposed = rq.presentation_contexts
    context.accepted = {
        r.id: (pc.abstract_syntax, r.transfer_syntax)
        for r, pc in zip(results, rq.presentation_contexts, strict=True)
        if r.result == assoc.ContextResult.ACCEPTANCE
    }
    echoed = None if received is None else received.original
    key = None if received is not None and not echoed else ("A-ASSOCIATE-AC", ac, echoed)
    return _built(key, fields, lambda: _ac_packet(ac, received, fields))


def _ac_packet(ac: assoc.AssociateAC, received: Packet | None, fields: Mapping[str, Any]) -> Packet:
    """The PDU of ``ac`` answering ``received``, with the raw fields and extra items of
    ``fields`` applied."""
    packet = ac.build(received)
    _set_fields(
        "A-ASSOCIATE-AC", packet, {k: v for k, v in fields.items() if k not in AC_SHORTCUTS}
    )
    _arrange_items(packet, fields)
    return packet


def _p_data(fields: Mapping[str, Any], context: Context) -> bytes:
    """A P-DATA-TF from ``pdvs`` entries, or a one-PDV C-ECHO-RQ command by default."""
    if "pdvs" not in fields:
        pc_id = context.context_for(dimse.VERIFICATION_SOP_CLASS)
        command = _encoded_command(
            "C-ECHO-RQ",
            {
                "MessageID": context.next_message_id(),
                "AffectedSOPClassUID": dimse.VERIFICATION_SOP_CLASS,
            },
        )
        return framing.encode_p_data_tf([(pc_id, framing.COMMAND_BIT | framing.LAST_BIT, command)])
    pdvs = [
        (
            int(entry.get("pc_id", 1)),
            int(entry.get("message_control_header", framing.COMMAND_BIT | framing.LAST_BIT)),
            parse_hex(str(entry.get("data", ""))),
        )
        for entry in fields["pdvs"]
    ]
    return framing.encode_p_data_tf(pdvs)


def _dimse(what: str, fields: Mapping[str, Any], context: Context, max_length: int) -> list[bytes]:
    """A DIMSE message's P-DATA-TF PDUs, fragmented to ``max_length`` (PS3.8 Annex E). A
    response answers the SUT's oldest unanswered request (or the one
    ``message_id_being_responded_to`` names) and repeats its UIDs unless ``set`` says
    otherwise."""
    unknown = set(fields) - set(DIMSE_ELEMENTS) - _DIMSE_OWN
    if unknown:
        allowed = ", ".join(sorted({*DIMSE_ELEMENTS, *_DIMSE_OWN}))
        raise KeyError(f"{sorted(unknown)[0]!r} is not a field of {what} (fields: {allowed})")
    values: dict[str, Any] = {
        DIMSE_ELEMENTS[k]: v for k, v in fields.items() if k not in _DIMSE_OWN
    }
    if what.endswith("-RSP"):
        named = values.get("MessageIDBeingRespondedTo")
        message_id, uids = context.answer(None if named is None else int(named))
        values = {**uids, "MessageIDBeingRespondedTo": message_id, **values}
        values.setdefault("Status", dimse.SUCCESS)
    sop_class = str(values.setdefault("AffectedSOPClassUID", _DEFAULT_SOP_CLASS[what[:6]]))
    if what.endswith("-RQ"):
        values.setdefault("MessageID", context.next_message_id())
    if what in _DATA_SETS:
        values.setdefault("Priority", dimse.PRIORITY_MEDIUM)
    if what.startswith("C-STORE"):
        values.setdefault("AffectedSOPInstanceUID", _STORED_INSTANCE)
    pc_id = int(fields.get("pc_id", context.context_for(sop_class)))
    command = _encoded_command(what, values)
    data_set = None
    if what in _DATA_SETS:
        transfer_syntax = context.accepted.get(pc_id, ("", dimse.IMPLICIT_VR_LITTLE_ENDIAN))[1]
        contents = _DATA_SETS[what](values)
        _add_pixel_data(contents, int(fields.get("pixel_data_bytes", 0)))
        data_set = dimse.encode_data_set(contents, transfer_syntax)
    pdus = dimse.message_pdus(pc_id, command, data_set, max_length)
    bits = int(fields.get("control_bits", 0))  # reserved bits 2-7 (PS3.8 E.2), never tested
    return [_with_control_bits(pdu_bytes, bits) for pdu_bytes in pdus] if bits else pdus


def _with_control_bits(data: bytes, bits: int) -> bytes:
    at = _CONTROL_HEADER_AT
    return data[:at] + bytes([data[at] | bits]) + data[at + 1 :]


PATIENT_ROOT_QUERY_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
"""Patient Root Query/Retrieve Information Model - FIND (PS3.4 C.6.1)."""

_DEFAULT_SOP_CLASS = {
    "C-ECHO": dimse.VERIFICATION_SOP_CLASS,
    "C-STOR": assoc.CT_IMAGE_STORAGE,
    "C-FIND": PATIENT_ROOT_QUERY_FIND,
}
_STORED_INSTANCE = "1.2.826.0.1.3680043.10.1094.1"


def _small_object(values: Mapping[str, Any]) -> Dataset:
    """A minimal object for C-STORE: its SOP class and instance, a patient, a modality."""
    data_set = Dataset()
    data_set.SOPClassUID = values["AffectedSOPClassUID"]
    data_set.SOPInstanceUID = values["AffectedSOPInstanceUID"]
    data_set.PatientName = "HARNESS^TEST"
    data_set.PatientID = "UL-HARNESS"
    data_set.StudyInstanceUID = f"{values['AffectedSOPInstanceUID']}.1"
    data_set.SeriesInstanceUID = f"{values['AffectedSOPInstanceUID']}.2"
    data_set.Modality = "CT"
    return data_set


_PIXEL_ROW_BYTES = 256
"""One row of the padding image: 128 columns of 16-bit samples."""


def _add_pixel_data(data_set: Dataset, size: int) -> None:
    """Make ``data_set`` about ``size`` bytes larger with a blank 16-bit monochrome image
    (rows of 256 bytes), so that a message needs several P-DATA-TF (PS3.8 Annex E)."""
    if size <= 0:
        return
    rows = -(-size // _PIXEL_ROW_BYTES)
    data_set.SamplesPerPixel = 1
    data_set.PhotometricInterpretation = "MONOCHROME2"
    data_set.Rows = rows
    data_set.Columns = _PIXEL_ROW_BYTES // 2
    data_set.BitsAllocated = 16
    data_set.BitsStored = 16
    data_set.HighBit = 15
    data_set.PixelRepresentation = 0
    data_set.PixelData = bytes(rows * _PIXEL_ROW_BYTES)
    data_set["PixelData"].VR = "OW"


def _find_identifier(_values: Mapping[str, Any]) -> Dataset:
    """A patient-level C-FIND identifier matching any patient."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "PATIENT"
    identifier.PatientID = "*"
    return identifier


_DATA_SETS: Mapping[str, Callable[[Mapping[str, Any]], Dataset]] = {
    "C-STORE-RQ": _small_object,
    "C-FIND-RQ": _find_identifier,
}


_FIXED_BUILDERS: Mapping[str, Callable[[], Packet]] = {
    "A-ASSOCIATE-RJ": pdu.A_ASSOCIATE_RJ,
    "A-RELEASE-RQ": pdu.A_RELEASE_RQ,
    "A-RELEASE-RP": pdu.A_RELEASE_RP,
    "A-ABORT": pdu.A_ABORT,
    UNKNOWN_PDU: lambda: pdu.UnknownPDU(pdu_type=0x08),
}


def _fragment_limit(step: Send, context: Context) -> int:
    """The P-DATA-TF length a DIMSE send fragments to: the step's ``max_length`` (0 = one
    PDV per command or data set, PS3.8 D.1's "no maximum"), else the SUT's maximum."""
    return step.max_length if step.max_length is not None else context.sut_max_length


def build_pdus(step: Send, context: Context) -> list[bytes]:
    """The PDUs a ``send`` step puts on the wire, before the byte mutators."""
    fields = context.expand(dict(step.fields))
    if step.what in DIMSE_NAMES:
        return _dimse(step.what, fields, context, _fragment_limit(step, context))
    if step.what == "P-DATA-TF":
        return [_p_data(fields, context)]
    if step.what == "A-ASSOCIATE-RQ":
        return [_associate_rq(fields, context)]
    if step.what == "A-ASSOCIATE-AC":
        return [_associate_ac(fields, context)]
    return [_built((step.what,), fields, lambda: _fixed_packet(step.what, fields))]


def _fixed_packet(what: str, fields: Mapping[str, Any]) -> Packet:
    """A PDU without variable items (or an unknown type) with ``fields`` set."""
    packet = _FIXED_BUILDERS[what]()
    _set_fields(what, packet, fields)
    return packet


_BUILT: Memo[bytes] = Memo(entries=256, max_size=4096, size=len)
"""The bytes of the PDUs built last (the same few are built over and over: the
association of every liveness check, C-ECHO, release); large ones are never kept."""


def _built(
    key: tuple[Any, ...] | None, fields: Mapping[str, Any], build: Callable[[], Packet]
) -> bytes:
    """``bytes(build())``, memoised on ``key`` (the values the PDU is built from, None: not
    memoisable) and ``fields``; the scapy layers stay the builders."""
    if key is None:
        return bytes(build())
    return _BUILT.get((*key, _frozen(fields)), lambda: bytes(build()))


def _frozen(value: Any) -> Hashable:
    """A hashable image of step data (mappings, lists, scalars) that tells apart what
    builds different bytes: ``1``, ``1.0``, ``True`` and ``"1"`` differ."""
    if isinstance(value, Mapping):
        return frozenset((_frozen(k), _frozen(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


def _encoded_command(what: str, values: Mapping[str, Any]) -> bytes:
    """The encoded command set of DIMSE message ``what`` with element ``values`` (PS3.7
    E.1, pydicom; memoised by :func:`harness.dimse.encode_command`)."""
    return dimse.encode_command(dimse.build_command(what, **dict(values)))


def mutate(data: bytes, step: Send) -> bytes:
    """Apply ``length`` (PDU-length as sent), ``truncate`` and ``append`` to one PDU."""
    if step.length is not None:
        data = data[:2] + _PDU_LENGTH.pack(step.length) + data[6:]
    if step.truncate is not None:
        data = data[: step.truncate]
    return data + step.append


def write_sizes(size: int, split: int | tuple[int, ...]) -> tuple[int, ...]:
    """TCP write sizes for ``size`` bytes: ``split`` equal parts, or the sizes given."""
    if isinstance(split, tuple):
        return split
    part = max(-(-size // split), 1)
    return tuple(part for _ in range(0, size, part))


# -- received values ---------------------------------------------------------------------


def ac_values(packet: Packet) -> dict[str, Any]:
    """The negotiation an A-ASSOCIATE-AC carries, as matchable values (PS3.7 D.3)."""
    ac = assoc.AssociateAC.from_packet(packet)
    user_information = [i for i in packet.variable_items if isinstance(i, pdu.UserInformationItem)]
    contexts = [i for i in packet.variable_items if isinstance(i, pdu.PresentationContextACItem)]
    user_data_types = [s.item_type for u in user_information for s in u.user_data]
    window = ac.async_ops_window
    identity = ac.user_identity_response
    return {
        "max_length": ac.max_length,
        "implementation_class_uid": ac.implementation_class_uid,
        "implementation_version_name": ac.implementation_version_name,
        "async_ops_window": list(ac.async_ops_window) if ac.async_ops_window else None,
        "pc_results": {r.id: r.result for r in ac.results},
        "transfer_syntaxes": {r.id: r.transfer_syntax for r in ac.results},
        "role_selections": {r.sop_class_uid: [r.scu_role, r.scp_role] for r in ac.role_selections},
        "user_identity_response": identity.hex() if identity is not None else None,
        "item_types": [item.item_type for item in packet.variable_items],
        "user_data_types": user_data_types,
        "application_context_name": ac.application_context_name,
        "pc_ids": sorted(item.pc_id for item in contexts),
        "pc_sub_items": {item.pc_id: [s.item_type for s in item.sub_items] for item in contexts},
        "item_counts": dict(Counter(item.item_type for item in packet.variable_items)),
        "user_data_counts": dict(Counter(user_data_types)),
        "max_ops_invoked": window[0] if window else None,
        "max_ops_performed": window[1] if window else None,
        "extended_negotiation": {uid: info.hex() for uid, info in ac.extended_negotiation},
    }


def rq_values(packet: Packet) -> dict[str, Any]:
    """The proposal an A-ASSOCIATE-RQ carries, as matchable values (PS3.8 9.3.2, PS3.7
    D.3), with checks no ``where`` matcher can say: PC-IDs odd in 1..255 and unique
    (Table 9-13), each 20H one 30H then 40H items, AE titles 16 G0 bytes and not all
    spaces (Table 9-11, PS3.5 AE VR), every UID per Annex F."""
    rq = assoc.AssociateRQ.from_packet(packet)
    contexts = [i for i in packet.variable_items if isinstance(i, pdu.PresentationContextRQItem)]
    user_information = [i for i in packet.variable_items if isinstance(i, pdu.UserInformationItem)]
    user_data = [s for u in user_information for s in u.user_data]
    pc_ids = [item.pc_id for item in contexts]
    sub_items = {item.pc_id: [s.item_type for s in item.sub_items] for item in contexts}
    identity = rq.user_identity
    uids = [
        rq.application_context_name,
        rq.implementation_class_uid,
        *(pc.abstract_syntax for pc in rq.presentation_contexts),
        *(ts for pc in rq.presentation_contexts for ts in pc.transfer_syntaxes),
    ]
    return {
        "max_length": rq.max_length,
        "implementation_class_uid": rq.implementation_class_uid,
        "implementation_version_name": rq.implementation_version_name,
        "async_ops_window": list(rq.async_ops_window) if rq.async_ops_window else None,
        "role_selections": {r.sop_class_uid: [r.scu_role, r.scp_role] for r in rq.role_selections},
        "user_identity_type": identity.type if identity is not None else None,
        "item_types": [item.item_type for item in packet.variable_items],
        "items_ordered": _items_ordered([item.item_type for item in packet.variable_items]),
        "user_data_types": [s.item_type for s in user_data],
        "application_context_name": rq.application_context_name,
        "pc_ids": pc_ids,
        "pc_ids_odd": all(pc_id % 2 == 1 and 1 <= pc_id <= 255 for pc_id in pc_ids),
        "pc_ids_unique": len(set(pc_ids)) == len(pc_ids),
        "pc_sub_items": sub_items,
        "pc_sub_items_ordered": all(
            len(types) >= 2 and types[0] == 0x30 and set(types[1:]) == {0x40}
            for types in sub_items.values()
        ),
        "abstract_syntaxes": [pc.abstract_syntax for pc in rq.presentation_contexts],
        "item_counts": dict(Counter(item.item_type for item in packet.variable_items)),
        "user_data_counts": dict(Counter(s.item_type for s in user_data)),
        "user_data_lengths": {s.item_type: s.item_length for s in user_data},
        "ae_titles_valid": all(
            _ae_title_valid(bytes(packet.getfieldval(name)))
            for name in ("called_ae_title", "calling_ae_title")
        ),
        "uids_valid": all(_uid_valid(uid) for uid in uids),
    }


def _items_ordered(types: list[int]) -> bool:
    """One 10H, then one or more 20H, then one 50H (PS3.8 9.3.2, Table 9-11)."""
    contexts = len(types) - 2
    return contexts >= 1 and types == [0x10, *[0x20] * contexts, 0x50]


def _ae_title_valid(title: bytes) -> bool:
    """16 bytes of ISO 646 G0 without backslash, not all spaces (PS3.8 Table 9-11)."""
    return (
        len(title) == 16
        and all(0x20 <= b < 0x7F and b != 0x5C for b in title)
        and title.strip(b" ") != b""
    )


def _uid_valid(uid: str) -> bool:
    """PS3.8 Annex F: digits and dots, no empty or zero-led components, at most 64."""
    components = uid.split(".")
    return 0 < len(uid) <= 64 and all(
        c.isdigit() and c.isascii() and (c == "0" or not c.startswith("0")) for c in components
    )


def pdu_values(packet: Packet) -> dict[str, Any]:
    """A received PDU's fields (AE titles stripped, PS3.8 7.1.1.3) and derived values."""
    values = pdu.to_dict(packet)
    for title in ("called_ae_title", "calling_ae_title"):
        if isinstance(values.get(title), str):
            values[title] = values[title].strip(" ")
    if isinstance(packet, pdu.A_ASSOCIATE_AC):
        values.update(ac_values(packet))
    if isinstance(packet, pdu.A_ASSOCIATE_RQ):
        values.update(rq_values(packet))
    return values


def dimse_values(message: dimse.Message) -> dict[str, Any]:
    """A DIMSE message's command elements under their ``where`` names, and its PC-ID."""
    values: dict[str, Any] = {"pc_id": message.pc_id}
    for name, keyword in DIMSE_ELEMENTS.items():
        if keyword in message.command:
            values[name] = message.command[keyword].value
    return values


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict) and set(expected) == {"not"}:
        return not _matches(expected["not"], actual)
    if isinstance(expected, list) and not isinstance(actual, list):
        return any(_matches(choice, actual) for choice in expected)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(_matches(v, actual.get(_key(k, actual))) for k, v in expected.items())
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip(" ") == actual.strip(" ")
    return bool(expected == actual)


def _key(key: Any, actual: Mapping[Any, Any]) -> Any:
    """YAML keys of ``pc_results: {1: ...}`` are ints already; tolerate strings too."""
    if key not in actual and isinstance(key, str) and key.isdigit():
        return int(key)
    return key


def resolve_where(what: str, where: Mapping[str, Any], context: Context) -> dict[str, Any]:
    """``where`` with templates filled in and symbols replaced by codes."""
    resolved: dict[str, Any] = {}
    for name, expected in context.expand(dict(where)).items():
        resolved[name] = _resolve_expected(what, name, expected)
    return resolved


def _resolve_expected(what: str, name: str, expected: Any) -> Any:
    if isinstance(expected, list):
        return [_resolve_expected(what, name, choice) for choice in expected]
    if isinstance(expected, dict) and set(expected) == {"not"}:
        return {"not": _resolve_expected(what, name, expected["not"])}
    if name == EXIT_CODE and isinstance(expected, str):
        if expected != "nonzero":
            raise ValueError(f"{expected!r} is not an exit code (a number, or nonzero)")
        return {"not": 0}
    if name == "pc_results" and isinstance(expected, dict):
        return {
            k: _resolve_expected("A-ASSOCIATE-AC", "result_reason", v) for k, v in expected.items()
        }
    return codes.resolve(what, name, expected)


def mismatches(where: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """One line per ``where`` matcher the values fail, naming expected and actual."""
    return [
        f"{name}: expected {expected!r}, got {values.get(name)!r}"
        for name, expected in where.items()
        if not _matches(expected, values.get(name))
    ]


# -- checking a scenario without a network -----------------------------------------------


def stand_in_context() -> Context:
    """A context with plausible values, to build every PDU of a scenario once."""
    verification = assoc.PresentationContext(
        1, dimse.VERIFICATION_SOP_CLASS, (dimse.IMPLICIT_VR_LITTLE_ENDIAN,)
    )
    return Context(
        sut_ae_title="ANY-SCP",
        harness_ae_title="DICOM-HARNESS",
        sut_port=104,
        proposed=(verification,),
        accepted={1: (dimse.VERIFICATION_SOP_CLASS, dimse.IMPLICIT_VR_LITTLE_ENDIAN)},
    )


def _where_names(what: str) -> frozenset[str] | None:
    """The names a ``where`` may use for ``what``; None where any name is allowed."""
    if what in DIMSE_NAMES:
        return frozenset({*DIMSE_ELEMENTS, *_DIMSE_OWN})
    if what == SUT_EXITED:
        return frozenset({EXIT_CODE})
    if what in pdu.PDU_CLASSES:
        names = {f.name for f in pdu.PDU_CLASSES[what]().fields_desc}
        derived = {"A-ASSOCIATE-AC": AC_DERIVED, "A-ASSOCIATE-RQ": RQ_DERIVED}
        return frozenset(names | derived.get(what, frozenset()))
    return None


def check_scenario(scenario: Scenario, document: Any, source: Source) -> None:
    """Build every PDU and resolve every matcher once; errors name file, line, field."""
    context = stand_in_context()
    _check_steps(scenario.steps, document["steps"], source, context)


def _check_steps(
    steps: tuple[Step, ...], nodes: list[Any], source: Source, context: Context
) -> None:
    for step, node in zip(steps, nodes, strict=True):
        if isinstance(step, Send):
            _check_send(step, node, source, context)
        elif isinstance(step, Associate):
            _check_send(
                Send(step.line, "A-ASSOCIATE-RQ", step.fields), node["associate"], source, context
            )
        elif isinstance(step, Accept):
            _check_send(
                Send(step.line, "A-ASSOCIATE-AC", step.fields), node["accept"], source, context
            )
        elif isinstance(step, Coalesce):
            for part, part_node in zip(step.parts, node["coalesce"], strict=True):
                if isinstance(part, Send):
                    _check_send(part, part_node, source, context)
        elif isinstance(step, Expect):
            _check_expect(step, node, source, context)
        elif isinstance(step, AnyOf):
            for alternative, alt_node in zip(step.alternatives, node["any_of"], strict=True):
                _check_expect(alternative, alt_node, source, context)
                _check_steps(alternative.then, alt_node.get("then", []), source, context)
        elif isinstance(step, Repeat):
            _check_steps(step.steps, node["repeat"]["steps"], source, context)
        elif isinstance(step, Raw):
            continue


def _check_symbols(what: str, values: Any, source: Source, prefix: str) -> None:
    """Every symbolic value in a ``set``/``where`` mapping names a code of its field."""
    if not isinstance(values, dict):
        return
    for name, value in values.items():
        try:
            _resolve_expected(what, name, value)
        except ValueError as exc:
            raise source.error(values, name, f"{prefix}.{name}", str(exc)) from None


def _check_send(step: Send, node: Any, source: Source, context: Context) -> None:
    fields = node.get("set", {})
    _check_symbols(step.what, fields, source, "set")
    try:
        build_pdus(step, context)
    except KeyError as exc:
        text = str(exc.args[0])
        name = text.split("'")[1] if "'" in text else ""
        raise source.error(fields, name, f"set.{name}" if name else "set", text) from None
    except (ValueError, TypeError, OverflowError, struct.error) as exc:
        raise source.error(node, "set", "set", f"cannot build {step.what}: {exc}") from None


def _check_expect(step: Expect, node: Any, source: Source, context: Context) -> None:
    names = _where_names(step.what)
    where = node.get("where", {})
    for name in where:
        if names is not None and name not in names:
            allowed = ", ".join(sorted(names))
            raise source.error(
                where, name, f"where.{name}", f"not a field of {step.what} ({allowed})"
            )
    _check_symbols(step.what, where, source, "where")
