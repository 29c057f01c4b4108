"""The DIMSE services of the reference SCP: Verification and Storage (PS3.4 A, B; PS3.7 9.1).

Pure: a reassembled request goes in, the response command set (and what was stored)
comes out. C-ECHO and C-STORE succeed on their presentation context's SOP class; any
other request is answered "unrecognized operation" (PS3.7 Annex C, status 0211H).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from harness.dimse import NO_DATA_SET, SUCCESS, Message, c_echo_rsp, c_store_rsp

C_STORE_RQ = 0x0001
C_ECHO_RQ = 0x0030
RESPONSE_BIT = 0x8000
"""CommandField bit 15: the message is a response (PS3.7 Annex E)."""

SOP_CLASS_NOT_SUPPORTED = 0x0122
"""PS3.7 Annex C: the request's SOP class is not that of its presentation context."""
UNRECOGNIZED_OPERATION = 0x0211
CANNOT_UNDERSTAND = 0xC000
"""PS3.4 Table B.2-1: a C-STORE-RQ whose data set is missing."""


@dataclass(frozen=True)
class StoredInstance:
    """A data set received by C-STORE, kept as the bytes that came in."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    data: bytes


@dataclass(frozen=True)
class Reply:
    """The response to send (None: nothing to answer), and the instance stored, if any."""

    command: Dataset | None
    stored: StoredInstance | None = None


def answer(message: Message, abstract_syntax: str, transfer_syntax: str) -> Reply:
    """The SCP's reply to ``message``, received on a context of those syntaxes."""
    command = message.command
    field = int(command.CommandField)
    if field & RESPONSE_BIT:
        return Reply(None)
    sop_class = str(command.get("AffectedSOPClassUID", abstract_syntax))
    message_id = int(command.get("MessageID", 0))
    status = SUCCESS if sop_class == abstract_syntax else SOP_CLASS_NOT_SUPPORTED
    if field == C_ECHO_RQ:
        return Reply(c_echo_rsp(message_id, status, sop_class))
    if field == C_STORE_RQ:
        instance = str(command.get("AffectedSOPInstanceUID", ""))
        stored = None
        if message.data_set is None:
            status = CANNOT_UNDERSTAND
        elif status == SUCCESS:
            stored = StoredInstance(sop_class, instance, transfer_syntax, message.data_set)
        return Reply(c_store_rsp(message_id, sop_class, instance, status), stored)
    return Reply(_unrecognized(field, message_id, sop_class))


def _unrecognized(field: int, message_id: int, sop_class: str) -> Dataset:
    """A response of the request's type with status 0211H (PS3.7 Annex C)."""
    response = Dataset()
    response.CommandField = field | RESPONSE_BIT
    response.AffectedSOPClassUID = sop_class
    response.MessageIDBeingRespondedTo = message_id
    response.CommandDataSetType = NO_DATA_SET
    response.Status = UNRECOGNIZED_OPERATION
    return response
