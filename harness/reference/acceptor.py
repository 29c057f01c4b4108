"""The reference acceptor (SCP), sans I/O: negotiation and DIMSE on top of :mod:`.core`."""

from __future__ import annotations

from typing import ClassVar

from scapy.packet import Packet

from harness.association import AssociateAC, AssociateRQ, Rejection, negotiate
from harness.dimse import Message
from harness.fsm import Event, Role, State
from harness.memo import Memo
from harness.pdu import A_ASSOCIATE_RQ
from harness.reference.config import ReferenceConfig
from harness.reference.core import (
    INVALID_PARAMETER_VALUE,
    RELEASE_RQ,
    AwaitUser,
    Inbound,
    Output,
    ULProtocol,
    association_defect,
    invalid,
)
from harness.reference.services import StoredInstance, answer

_AC_BYTES: Memo[bytes] = Memo(entries=32, max_size=4096, size=len)
"""The A-ASSOCIATE-AC PDUs answered last: the same RQ (a requestor's usual one) gets the
same AC."""


class AcceptorProtocol(ULProtocol):
    """The association-acceptor: answers an A-ASSOCIATE-RQ, then C-ECHO and C-STORE.

    ``busy`` tells it that the association limit is reached (it then rejects with
    2/3/2). After negotiation, ``rq`` and ``outcome`` (the AC or the rejection) are set;
    ``stored`` collects the C-STORE data sets received.
    """

    role: ClassVar[Role] = Role.ACCEPTOR

    def __init__(self, config: ReferenceConfig, *, busy: bool = False) -> None:
        super().__init__(config)
        self.busy = busy
        self.rq: AssociateRQ | None = None
        self.outcome: AssociateAC | Rejection | None = None
        self.rq_packet: A_ASSOCIATE_RQ | None = None
        self.stored: list[StoredInstance] = []
        self._handlers["AE-6"] = self._on_associate_rq

    def connection_made(self) -> list[Output]:
        """A transport connection was accepted (Evt5, AE-5: start ARTIM)."""
        self._step(Event.EVT5)
        return self._flush()

    # -- decision methods --------------------------------------------------------------

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        """The answer to an acceptable RQ (PS3.7 Annex D.3), per ``config.policy()``."""
        return negotiate(rq, self.config.policy(), association_limit_reached=self.busy)

    def build_ac(self, ac: AssociateAC, rq: A_ASSOCIATE_RQ | None) -> Packet:
        """The A-ASSOCIATE-AC PDU, echoing bytes 11-74 of ``rq`` (PS3.8 Table 9-17)."""
        return ac.build(rq)

    def build_rj(self, rejection: Rejection) -> Packet:
        """The A-ASSOCIATE-RJ PDU (PS3.8 Table 9-21)."""
        return rejection.build()

    def on_message(self, message: Message) -> None:
        """Answer C-ECHO and C-STORE on the message's context (keeping what is stored)."""
        abstract_syntax, transfer_syntax = self.contexts[message.pc_id]
        reply = answer(message, abstract_syntax, transfer_syntax)
        if reply.stored is not None:
            self.stored.append(reply.stored)
        if reply.command is not None and self.can_send_data:
            self.send_message(message.pc_id, reply.command)

    # -- AE-6, then the user's AE-7 / AE-8 -----------------------------------------------

    def on_user_turn(self) -> None:
        """The user answers the A-ASSOCIATE indication (Sta3) with the negotiated
        ``outcome``: accept (Evt7, AE-7: AC) or reject (Evt8, AE-8: RJ); once associated,
        it releases the association ``config.release_after`` seconds later (Sta6, Evt11,
        AR-1); in the other states, as :class:`ULProtocol` does."""
        if self.state is State.STA6:
            self._step(Event.EVT11, pdu=RELEASE_RQ)
            return
        if self.state is not State.STA3:
            super().on_user_turn()
            return
        assert self.rq is not None
        outcome = self.outcome
        if isinstance(outcome, Rejection):
            self._step(Event.EVT8, pdu=bytes(self.build_rj(outcome)))
            return
        assert outcome is not None
        self.establish(self.rq, outcome)
        self._step(Event.EVT7, pdu=self._ac_bytes(outcome))
        if self.config.release_after is not None:
            self.emit(AwaitUser(self.config.release_after))

    def _ac_bytes(self, ac: AssociateAC) -> bytes:
        """The AC PDU's bytes: those of the default :meth:`build_ac` (pure) memoised on the
        AC and the RQ bytes it echoes, an override's built every time."""
        rq = self.rq_packet
        if rq is None or type(self).build_ac is not AcceptorProtocol.build_ac:
            return bytes(self.build_ac(ac, rq))
        return _AC_BYTES.get((ac, rq.original), lambda: bytes(ac.build(rq)))

    def _on_associate_rq(self, inbound: Inbound) -> None:
        """RQ in Sta2 (AE-6). A provider rejection (sources 2, 3) takes AE-6's reject
        branch; otherwise the RQ goes to the user (Sta3), who accepts (Evt7, AE-7) or
        rejects (Evt8, AE-8), at once or after ``config.user_delay``. An RQ lacking a
        required item is invalid (Evt19)."""
        rq = AssociateRQ.from_packet(inbound.packet)
        defect = association_defect(inbound.raw)
        if defect is not None:
            self.on_pdu(invalid(inbound, INVALID_PARAMETER_VALUE, defect))
            return
        self.rq, self.rq_packet = rq, inbound.packet
        outcome = self.outcome = self.negotiate(rq)
        if isinstance(outcome, Rejection) and outcome.by_provider:
            self._step(Event.EVT6, acceptable=False, pdu=bytes(self.build_rj(outcome)))
            return
        self._step(Event.EVT6)
        self.await_user()
