"""The reference requestor (SCU), sans I/O: associate, C-ECHO / C-STORE, release."""

from __future__ import annotations

from typing import ClassVar, Final

from pydicom.dataset import Dataset
from scapy.packet import Packet

from harness.association import VERIFICATION_SOP_CLASS, AssociateAC, AssociateRQ, Rejection
from harness.dimse import Message, c_echo_rq, c_store_rq, encode_data_set
from harness.errors import HarnessError
from harness.fsm import Event, Role
from harness.reference.config import ReferenceConfig
from harness.reference.core import (
    INVALID_PARAMETER_VALUE,
    Defect,
    Inbound,
    Output,
    ULProtocol,
    association_defect,
    invalid,
)
from harness.reference.services import RESPONSE_BIT

UNEXPECTED_PARAMETER: Final = 5
"""A-ABORT Reason/Diag. unexpected-PDU parameter (PS3.8 Table 9-26)."""
_AC_ITEM_TYPES: Final = frozenset({0x10, 0x21, 0x50})
"""The items an A-ASSOCIATE-AC holds (PS3.8 9.3.3); others are skipped (PS3.8 9.3.1)."""


class NoContextError(HarnessError):
    """No accepted presentation context for the abstract syntax a request needs."""


class RequestorProtocol(ULProtocol):
    """The association-requestor: sends ``rq``, then requests, then releases.

    After the answer, ``ac`` or ``rejection`` is set; ``responses`` maps each
    MessageIDBeingRespondedTo to the response received. ``may_invoke`` says whether
    another request may be sent before a response comes (PS3.7 D.3.3.3).
    """

    role: ClassVar[Role] = Role.REQUESTOR

    def __init__(self, config: ReferenceConfig, rq: AssociateRQ) -> None:
        super().__init__(config)
        self.rq = rq
        self.own_max_length = rq.max_length
        self.ac: AssociateAC | None = None
        self.rejection: Rejection | None = None
        self.responses: dict[int, Message] = {}
        self._invoked: set[int] = set()
        self._message_id = 0
        self._handlers["AE-3"] = self._on_associate_ac
        self._handlers["AE-4"] = self._on_associate_rj

    # -- local requests ------------------------------------------------------------------

    def associate(self) -> list[Output]:
        """A-ASSOCIATE request (Evt1, AE-1): open the transport."""
        self._step(Event.EVT1)
        return self._flush()

    def connection_made(self) -> list[Output]:
        """The transport is open (Evt2, AE-2): send the A-ASSOCIATE-RQ."""
        self._step(Event.EVT2, pdu=bytes(self.build_rq()))
        return self._flush()

    def echo(self) -> tuple[int, list[Output]]:
        """Send a C-ECHO-RQ (PS3.7 9.3.5); its MessageID and the outputs."""
        pc_id, _ = self.context_for(VERIFICATION_SOP_CLASS)
        message_id = self._next_message_id()
        self.send_message(pc_id, c_echo_rq(message_id))
        return message_id, self._flush()

    def store(self, data_set: Dataset) -> tuple[int, list[Output]]:
        """Send a C-STORE-RQ with ``data_set`` in its context's transfer syntax (PS3.7
        9.3.1); its MessageID and the outputs."""
        sop_class = str(data_set.SOPClassUID)
        pc_id, transfer_syntax = self.context_for(sop_class)
        message_id = self._next_message_id()
        command = c_store_rq(message_id, sop_class, str(data_set.SOPInstanceUID))
        self.send_message(pc_id, command, encode_data_set(data_set, transfer_syntax))
        return message_id, self._flush()

    @property
    def max_outstanding(self) -> int:
        """How many requests may be outstanding at once (PS3.7 D.3.3.3): the maximum
        number of operations invoked that both the RQ and the AC state (the smaller, 0 =
        unlimited); 1 when either has no 53H (synchronous operation, the default)."""
        if self.ac is None or self.ac.async_ops_window is None or self.rq.async_ops_window is None:
            return 1
        limits = [n for n in (self.rq.async_ops_window[0], self.ac.async_ops_window[0]) if n]
        return min(limits, default=0)

    @property
    def outstanding(self) -> int:
        """Requests sent whose response has not come."""
        return len(self._invoked - self.responses.keys())

    @property
    def may_invoke(self) -> bool:
        """Whether another request may be sent now: fewer than ``max_outstanding`` (0 =
        unlimited) are outstanding."""
        limit = self.max_outstanding
        return limit == 0 or self.outstanding < limit

    def context_for(self, abstract_syntax: str) -> tuple[int, str]:
        """The first accepted (PC-ID, transfer syntax) for ``abstract_syntax``."""
        for pc_id, (abstract, transfer_syntax) in sorted(self.contexts.items()):
            if abstract == abstract_syntax:
                return pc_id, transfer_syntax
        raise NoContextError(f"no accepted presentation context for {abstract_syntax}")

    # -- decision methods ----------------------------------------------------------------

    def build_rq(self) -> Packet:
        """The A-ASSOCIATE-RQ PDU (PS3.8 Table 9-11)."""
        return self.rq.build()

    def on_message(self, message: Message) -> None:
        """Keep responses by the MessageID they answer; requests are not served."""
        command = message.command
        if int(command.CommandField) & RESPONSE_BIT:
            self.responses[int(command.MessageIDBeingRespondedTo)] = message

    # -- AE-3 / AE-4 ---------------------------------------------------------------------

    def _on_associate_ac(self, inbound: Inbound) -> None:
        """AC in Sta5 (AE-3). One lacking a required item, or with its items out of order,
        is invalid (Evt19, AA-8). If the acceptor returned another application context,
        which this requestor cannot work in, it aborts (PS3.8 7.1.1.2: Evt15, AA-1)."""
        ac = AssociateAC.from_packet(inbound.packet)
        defect = _ac_defect(inbound.raw, inbound.packet)
        if defect is not None:
            self.on_pdu(invalid(inbound, defect.reason, defect.detail))
            return
        self.ac = ac
        self.establish(self.rq, ac)
        self._step(Event.EVT3)
        if ac.application_context_name != self.rq.application_context_name:
            self._step(Event.EVT15)

    def _on_associate_rj(self, inbound: Inbound) -> None:
        """RJ in Sta5 (AE-4): record it; the transport is closed."""
        self.rejection = Rejection.from_packet(inbound.packet)
        self._step(Event.EVT4)

    def _next_message_id(self) -> int:
        """A new MessageID (PS3.7 9.1.1.1: unique among this requestor's requests), now
        outstanding."""
        self._message_id += 1
        self._invoked.add(self._message_id)
        return self._message_id


def _ac_defect(raw: bytes, packet: Packet) -> Defect | None:
    """Why an A-ASSOCIATE-AC is invalid, if it is: a required item is missing (reason 6),
    or its items are not in increasing order of their types, 10H, 21H..., 50H (PS3.8
    9.3.1, 9.3.3; reason 5, unexpected-PDU parameter)."""
    missing = association_defect(raw)
    if missing is not None:
        return Defect(INVALID_PARAMETER_VALUE, missing)
    types = [item.item_type for item in packet.variable_items if item.item_type in _AC_ITEM_TYPES]
    if types != sorted(types):
        order = ", ".join(f"{item_type:02X}H" for item_type in types)
        return Defect(
            UNEXPECTED_PARAMETER,
            f"items in the order {order}: PS3.8 9.3.1 wants increasing item types",
        )
    return None
