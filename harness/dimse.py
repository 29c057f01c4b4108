"""DIMSE messages on top of P-DATA-TF: command sets, data sets, fragmentation, reassembly.

A DIMSE message is a command set, always Implicit VR Little Endian (PS3.7 section 6.3.1),
optionally followed by a data set in the presentation context's transfer syntax; both are
sent as PDV fragments (PS3.8 Annex E). Command sets are encoded and decoded with pydicom
(``write_dataset`` / ``read_dataset``; ``dcmwrite`` refuses group 0000), with the
Command Group Length (0000,0000) computed. The C-ECHO, C-STORE and C-FIND command sets
come from one table of the elements each message requires (PS3.7 sections 9.3.1, 9.3.2,
9.3.5). :class:`Reassembler` turns PDVs back into messages and names the PS3.8 Annex E.1
rule a sender broke. Pure: no I/O.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.tag import Tag
from pydicom.uid import UID

from harness.errors import DecodeError
from harness.framing import PDV, fragment, iter_pdvs
from harness.memo import Memo

VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"

NO_DATA_SET = 0x0101
"""CommandDataSetType value meaning no data set follows (PS3.7 Table E.1-1)."""
DATA_SET_PRESENT = 0x0001
"""Any CommandDataSetType other than 0101H means a data set follows (PS3.7 Table E.1-1)."""
SUCCESS = 0x0000
PENDING_STATUSES = frozenset({0xFF00, 0xFF01})
"""C-FIND pending statuses: a response with an identifier (PS3.4 Table C.4-1)."""
PRIORITY_MEDIUM = 0x0000

_GROUP_LENGTH_SIZE = 12
_UNDEFINED_LENGTH = 0xFFFFFFFF
_ELEMENT_HEADER = struct.Struct("<HHL")
_UINT32 = struct.Struct("<L")


class CommandSpec(NamedTuple):
    """One DIMSE message type: its CommandField and the elements a builder must be given.

    ``data_set`` says whether a data set follows; ``None`` means it depends on the values
    (a C-FIND-RSP carries an identifier only with a pending status).
    """

    command_field: int
    required: tuple[str, ...]
    data_set: bool | None


_REQUEST = ("AffectedSOPClassUID", "MessageID")
_RESPONSE = ("AffectedSOPClassUID", "MessageIDBeingRespondedTo", "Status")

COMMANDS: Mapping[str, CommandSpec] = {
    "C-ECHO-RQ": CommandSpec(0x0030, _REQUEST, data_set=False),
    "C-ECHO-RSP": CommandSpec(0x8030, _RESPONSE, data_set=False),
    "C-STORE-RQ": CommandSpec(
        0x0001, (*_REQUEST, "Priority", "AffectedSOPInstanceUID"), data_set=True
    ),
    "C-STORE-RSP": CommandSpec(0x8001, (*_RESPONSE, "AffectedSOPInstanceUID"), data_set=False),
    "C-FIND-RQ": CommandSpec(0x0020, (*_REQUEST, "Priority"), data_set=True),
    "C-FIND-RSP": CommandSpec(0x8020, _RESPONSE, data_set=None),
}
"""PS3.7 Tables 9.3-1/2 (C-STORE), 9.3-3/4 (C-FIND) and 9.3-12/13 (C-ECHO)."""


class CommandDecodeError(DecodeError):
    """A command set that is not a valid Implicit VR Little Endian group 0000 (PS3.7 E.1).

    The offset counts from the first byte of the command set.
    """


class DataSetDecodeError(DecodeError):
    """A data set that cannot be decoded in its transfer syntax (PS3.5 section 7)."""


class EncapsulationError(DecodeError):
    """PDVs that break a rule of PS3.8 Annex E.1; ``rule`` names it.

    The offset is that of the offending PDV item in its P-DATA-TF body.
    """

    rule: ClassVar[str]

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(offset, f"{detail} (PS3.8 Annex E.1: {self.rule})")


class OddFragmentError(EncapsulationError):
    rule = "every fragment has an even length"


class ContextChangedError(EncapsulationError):
    rule = "all fragments of a message use one presentation context"


class DataBeforeCommandError(EncapsulationError):
    rule = "the command is sent whole before its data set"


class CommandAfterCommandError(EncapsulationError):
    rule = "no command fragment follows the last fragment of a command"


class MixedMessagesError(EncapsulationError):
    rule = "all PDVs of one P-DATA-TF belong to the same message"


@dataclass(frozen=True, slots=True)
class Message:
    """A reassembled DIMSE message; ``data_set`` is ``None`` when CommandDataSetType is 0101H."""

    pc_id: int
    command: Dataset
    data_set: bytes | None


def build_command(name: str, /, **values: int | str) -> Dataset:
    """A command set for message ``name`` (a key of :data:`COMMANDS`) from element values.

    Every element the table requires must be given by keyword; optional group 0000
    elements may be added. CommandField is set from the table, and CommandDataSetType
    from the table, or, when the table leaves it open, from ``CommandDataSetType``.
    """
    spec = COMMANDS[name]
    missing = [keyword for keyword in spec.required if keyword not in values]
    if missing:
        raise ValueError(f"{name} requires {', '.join(missing)}")
    if spec.data_set is not None:
        values["CommandDataSetType"] = DATA_SET_PRESENT if spec.data_set else NO_DATA_SET
    elif "CommandDataSetType" not in values:
        raise ValueError(f"{name} requires CommandDataSetType")
    command = Dataset()
    command.CommandField = spec.command_field
    for keyword, value in values.items():
        tag = tag_for_keyword(keyword)
        if tag is None or tag >> 16:
            raise ValueError(f"{keyword} is not a command element (group 0000)")
        setattr(command, keyword, value)
    return command


def c_echo_rq(message_id: int, sop_class_uid: str = VERIFICATION_SOP_CLASS) -> Dataset:
    """C-ECHO-RQ command set (PS3.7 Table 9.3-12)."""
    return build_command("C-ECHO-RQ", MessageID=message_id, AffectedSOPClassUID=sop_class_uid)


def c_echo_rsp(
    message_id: int, status: int = SUCCESS, sop_class_uid: str = VERIFICATION_SOP_CLASS
) -> Dataset:
    """C-ECHO-RSP command set answering request ``message_id`` (PS3.7 Table 9.3-13)."""
    return build_command(
        "C-ECHO-RSP",
        MessageIDBeingRespondedTo=message_id,
        Status=status,
        AffectedSOPClassUID=sop_class_uid,
    )


def c_store_rq(
    message_id: int, sop_class_uid: str, sop_instance_uid: str, priority: int = PRIORITY_MEDIUM
) -> Dataset:
    """C-STORE-RQ command set; the data set to store follows it (PS3.7 Table 9.3-1)."""
    return build_command(
        "C-STORE-RQ",
        MessageID=message_id,
        AffectedSOPClassUID=sop_class_uid,
        AffectedSOPInstanceUID=sop_instance_uid,
        Priority=priority,
    )


def c_store_rsp(
    message_id: int, sop_class_uid: str, sop_instance_uid: str, status: int = SUCCESS
) -> Dataset:
    """C-STORE-RSP command set answering request ``message_id`` (PS3.7 Table 9.3-2)."""
    return build_command(
        "C-STORE-RSP",
        MessageIDBeingRespondedTo=message_id,
        AffectedSOPClassUID=sop_class_uid,
        AffectedSOPInstanceUID=sop_instance_uid,
        Status=status,
    )


def c_find_rq(message_id: int, sop_class_uid: str, priority: int = PRIORITY_MEDIUM) -> Dataset:
    """C-FIND-RQ command set; the identifier follows it (PS3.7 Table 9.3-3)."""
    return build_command(
        "C-FIND-RQ", MessageID=message_id, AffectedSOPClassUID=sop_class_uid, Priority=priority
    )


def c_find_rsp(message_id: int, sop_class_uid: str, status: int) -> Dataset:
    """C-FIND-RSP command set; an identifier follows a pending status only (PS3.7 Table 9.3-4)."""
    return build_command(
        "C-FIND-RSP",
        MessageIDBeingRespondedTo=message_id,
        AffectedSOPClassUID=sop_class_uid,
        Status=status,
        CommandDataSetType=DATA_SET_PRESENT if status in PENDING_STATUSES else NO_DATA_SET,
    )


def _write(dataset: Dataset, *, implicit_vr: bool, little_endian: bool) -> bytes:
    """``dataset`` encoded with pydicom's ``write_dataset`` (PS3.5 section 7)."""
    buffer = DicomBytesIO()
    buffer.is_implicit_VR = implicit_vr
    buffer.is_little_endian = little_endian
    write_dataset(buffer, dataset)
    return buffer.getvalue()


_ENCODED: Memo[bytes] = Memo(entries=256, max_size=1024, size=len)
"""The command sets encoded last: the same few (C-ECHO-RQ/RSP for message 1...) are
encoded on every association, by the harness and by the built-in peer."""


def encode_command(command: Dataset) -> bytes:
    """Implicit VR Little Endian command set with CommandGroupLength computed (PS3.7 E.1),
    memoised on the command's elements.

    Any CommandGroupLength in ``command`` is ignored and ``command`` is not modified.
    """
    key = tuple((e.tag, e.VR, e.value) for e in command if e.tag != 0)
    return _ENCODED.get(key, lambda: _encode_command(command))


def _encode_command(command: Dataset) -> bytes:
    elements = Dataset()
    for element in command:
        if element.tag != 0:
            elements.add(element)
    rest = _write(elements, implicit_vr=True, little_endian=True)
    group_length = Dataset()
    group_length.CommandGroupLength = len(rest)
    return _write(group_length, implicit_vr=True, little_endian=True) + rest


def decode_command(data: bytes | bytearray | memoryview) -> Dataset:
    """Decode a command set (PS3.7 section 6.3.1 and Annex E) with pydicom.

    The element structure is checked first, so that a fault is reported with its offset
    rather than silently dropped: group 0000 only, ascending tags, no undefined length,
    no element overrunning the data, and CommandGroupLength (first, 4 bytes) equal to the
    number of bytes after it. CommandField and CommandDataSetType must be present.
    """
    raw = bytes(data)
    offsets = _command_element_offsets(raw)
    try:
        command = read_dataset(io.BytesIO(raw), is_implicit_VR=True, is_little_endian=True)
    except Exception as exc:
        raise CommandDecodeError(0, f"pydicom could not read the command set: {exc}") from exc
    for tag, offset in offsets.items():
        try:
            command[tag]
        except Exception as exc:
            raise CommandDecodeError(offset, f"element {Tag(tag)}: {exc}") from exc
    for keyword in ("CommandField", "CommandDataSetType"):
        if keyword not in command:
            raise CommandDecodeError(len(raw), f"command set has no {keyword} (PS3.7 E.1)")
    return command


def _command_element_offsets(data: bytes) -> dict[int, int]:
    """Offsets of the elements of an Implicit VR Little Endian group 0000, checked."""
    offsets: dict[int, int] = {}
    offset = 0
    previous = -1
    while offset < len(data):
        if len(data) - offset < _ELEMENT_HEADER.size:
            raise CommandDecodeError(offset, "command set ends inside an element header")
        group, element, length = _ELEMENT_HEADER.unpack_from(data, offset)
        tag = group << 16 | element
        if group != 0:
            raise CommandDecodeError(offset, f"element {Tag(tag)} outside command group 0000")
        if tag <= previous:
            raise CommandDecodeError(offset, f"element {Tag(tag)} not in ascending tag order")
        if length == _UNDEFINED_LENGTH or offset + 8 + length > len(data):
            raise CommandDecodeError(offset, f"element {Tag(tag)} length {length} overruns")
        offsets[tag] = offset
        previous = tag
        offset += 8 + length
    _check_group_length(data, offsets)
    return offsets


def _check_group_length(data: bytes, offsets: dict[int, int]) -> None:
    """CommandGroupLength is the first element, 4 bytes, counting every byte after it."""
    if offsets.get(0) != 0 or _ELEMENT_HEADER.unpack_from(data, 0)[2] != 4:
        raise CommandDecodeError(0, "command set does not start with a 4-byte group length")
    (declared,) = _UINT32.unpack_from(data, 8)
    if declared != len(data) - _GROUP_LENGTH_SIZE:
        raise CommandDecodeError(
            8, f"CommandGroupLength {declared}, but {len(data) - 12} bytes follow it"
        )


class _Encoding(NamedTuple):
    implicit_vr: bool
    little_endian: bool
    deflated: bool


def _encoding(transfer_syntax: str) -> _Encoding:
    """How a data set is encoded in ``transfer_syntax`` (PS3.5 section 10)."""
    uid = UID(transfer_syntax)
    if not uid.is_transfer_syntax:
        raise ValueError(f"{transfer_syntax} is not a transfer syntax known to pydicom")
    return _Encoding(uid.is_implicit_VR, uid.is_little_endian, uid.is_deflated)


def encode_data_set(data_set: Dataset, transfer_syntax: str) -> bytes:
    """``data_set`` encoded in ``transfer_syntax`` for P-DATA-TF (PS3.5 sections 7, 10)."""
    encoding = _encoding(transfer_syntax)
    data = _write(data_set, implicit_vr=encoding.implicit_vr, little_endian=encoding.little_endian)
    if not encoding.deflated:
        return data
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = compressor.compress(data) + compressor.flush()
    return deflated + b"\0" * (len(deflated) % 2)


def decode_data_set(data: bytes | bytearray | memoryview, transfer_syntax: str) -> Dataset:
    """Decode a data set received in ``transfer_syntax``; faults raise DataSetDecodeError.

    Every element is converted, and a top-level element whose value is cut short is
    reported with its offset (pydicom alone would keep the short value).
    """
    encoding = _encoding(transfer_syntax)
    raw = bytes(data)
    if encoding.deflated:
        raw = _inflate(raw)
    try:
        data_set = read_dataset(io.BytesIO(raw), encoding.implicit_vr, encoding.little_endian)
        _check_extent(data_set, len(raw))
        for _element in data_set.iterall():
            pass
    except DataSetDecodeError:
        raise
    except Exception as exc:
        raise DataSetDecodeError(0, f"pydicom could not read the data set: {exc}") from exc
    return data_set


def _inflate(data: bytes) -> bytes:
    """The data set inside a Deflated transfer syntax bit stream (PS3.5 section A.5)."""
    inflater = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(data)
    except zlib.error as exc:
        raise DataSetDecodeError(0, f"deflate: {exc}") from exc
    if not inflater.eof:
        raise DataSetDecodeError(len(data), "deflate stream ends before its final block")
    return inflated


def _check_extent(data_set: Dataset, size: int) -> None:
    """Raise for a top-level value cut short, or bytes left after the last element."""
    last: RawDataElement | None = None
    for tag in sorted(data_set.keys()):
        item = data_set.get_item(tag)
        if not isinstance(item, RawDataElement):
            continue
        if item.length != _UNDEFINED_LENGTH and len(item.value or b"") < item.length:
            raise DataSetDecodeError(item.value_tell, f"element {item.tag} cut short")
        if last is None or item.value_tell > last.value_tell:
            last = item
    if last is not None and last.length != _UNDEFINED_LENGTH:
        end = last.value_tell + last.length
        if end < size:
            raise DataSetDecodeError(end, f"{size - end} bytes after the last element")


def message_pdus(
    pc_id: int,
    command: bytes | bytearray | memoryview,
    data_set: bytes | bytearray | memoryview | None,
    max_length: int,
) -> list[bytes]:
    """P-DATA-TF PDUs carrying one message: command fragments, then data set fragments.

    One PDV per PDU, even fragments, each PDU-length <= ``max_length`` (0 = unlimited),
    per PS3.8 Annex E and D.1 (see :func:`harness.framing.fragment`).
    """
    pdus = list(fragment(pc_id, command, command=True, max_length=max_length))
    if data_set is not None:
        pdus.extend(fragment(pc_id, data_set, command=False, max_length=max_length))
    return pdus


class Reassembler:
    """Rebuilds DIMSE messages from PDVs, checking PS3.8 Annex E.1 (sans-I/O).

    Feed PDVs in arrival order; a message is returned when its last data set fragment
    arrives, or its last command fragment when CommandDataSetType is 0101H. An empty PDV
    between messages is ignored (Annex E.1 recommends accepting one). After an error the
    reassembler is unusable: the association is to be aborted.
    """

    def __init__(self) -> None:
        self._start_message()

    def _start_message(self) -> None:
        self._pc_id: int | None = None
        self._command_fragments: list[memoryview] = []
        self._command: Dataset | None = None
        self._data_fragments: list[memoryview] = []

    def feed_p_data(self, body: bytes | bytearray | memoryview) -> Message | None:
        """Feed every PDV of one P-DATA-TF body; they must all belong to one message."""
        message: Message | None = None
        for pdv in iter_pdvs(body):
            if message is not None:
                raise MixedMessagesError(pdv.offset, "PDV after the end of a message")
            message = self.feed(pdv)
        return message

    def feed(self, pdv: PDV) -> Message | None:
        """Take one PDV; return the message it completes, if any."""
        fragment_length = len(pdv.fragment)
        if self._pc_id is None and fragment_length == 0:
            return None
        if fragment_length % 2:
            raise OddFragmentError(pdv.offset, f"fragment of {fragment_length} bytes")
        if self._pc_id is None:
            self._pc_id = pdv.pc_id
        elif pdv.pc_id != self._pc_id:
            raise ContextChangedError(
                pdv.offset, f"PC-ID {pdv.pc_id} in a message on PC-ID {self._pc_id}"
            )
        if pdv.is_command:
            return self._command_fragment(pdv, self._pc_id)
        return self._data_fragment(pdv, self._pc_id)

    def _command_fragment(self, pdv: PDV, pc_id: int) -> Message | None:
        if self._command is not None:
            raise CommandAfterCommandError(pdv.offset, "command fragment after the last one")
        self._command_fragments.append(pdv.fragment)
        if not pdv.is_last:
            return None
        self._command = decode_command(b"".join(self._command_fragments))
        if self._command.CommandDataSetType == NO_DATA_SET:
            return self._complete(pc_id, self._command, None)
        return None

    def _data_fragment(self, pdv: PDV, pc_id: int) -> Message | None:
        if self._command is None:
            raise DataBeforeCommandError(pdv.offset, "data set fragment before the command")
        self._data_fragments.append(pdv.fragment)
        if not pdv.is_last:
            return None
        return self._complete(pc_id, self._command, b"".join(self._data_fragments))

    def _complete(self, pc_id: int, command: Dataset, data_set: bytes | None) -> Message:
        self._start_message()
        return Message(pc_id, command, data_set)
