"""Deliberately broken built-in peers for the wire scenarios (see broken_peers.py).

State table (PS3.8 Table 9-10) in Sta2, Sta6 and Sta13, malformed PDUs, release, abort,
ARTIM and DIMSE fragmentation. Each class overrides one decision method of
:class:`harness.reference.AcceptorProtocol`.

The protocol sees whole PDUs only, so how TCP splits or joins them cannot be broken here:
the scenarios that send a PDU in many TCP writes (``malformed/associate-rq-split-bytes``,
``malformed/echo-split-tcp-writes``) or reconnect after an abrupt close
(``abort/*-then-new-association``) are broken through what they check on the association
that follows (:class:`MessageIdInOneByte`).
"""

from __future__ import annotations

from collections.abc import Mapping

from broken_peers import IgnoresEvents

from harness import dimse, framing
from harness.association import Rejection
from harness.dimse import Message
from harness.fsm import Event, State, cell
from harness.pdu import A_ABORT
from harness.reference import AcceptorProtocol, Inbound, Send
from harness.reference.core import INVALID_PARAMETER_VALUE, invalid
from harness.results import Verdict

_C_ECHO_RQ = dimse.COMMANDS["C-ECHO-RQ"].command_field
_PROVIDER_ABORT = bytes(A_ABORT(source=2, reason=2))


class _InvalidPData(AcceptorProtocol):
    """Takes P-DATA-TF PDUs that :meth:`defect` finds fault with as invalid (Evt19)."""

    def classify(self, raw: bytes) -> Inbound:
        inbound = super().classify(raw)
        if inbound.event is not Event.EVT10:
            return inbound
        pdvs = list(framing.iter_pdvs(memoryview(raw)[framing.PDU_HEADER_LENGTH :]))
        detail = self.defect(pdvs)
        return inbound if detail is None else invalid(inbound, INVALID_PARAMETER_VALUE, detail)

    def defect(self, pdvs: list[framing.PDV]) -> str | None:
        raise NotImplementedError


class IgnoresStrayPdusInSta2(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for an AC, RJ or RELEASE-RP as the first PDU (Sta2, Evt3/4/13: AA-1)."""

    ignored_state = State.STA2
    ignored_events = frozenset({Event.EVT3, Event.EVT4, Event.EVT13})


class IgnoresAssociationPdusInSta6(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for an A-ASSOCIATE-AC or -RJ on an association (Sta6, Evt3/4: AA-8)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT3, Event.EVT4})


class IgnoresInvalidPdusInSta6(IgnoresEvents, AcceptorProtocol):
    """Drops an unrecognized or invalid PDU on an association (Sta6, Evt19: AA-8)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT19})


class IgnoresBadPdusInSta13(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for an A-ASSOCIATE-RQ or an unknown PDU after its RP or RJ (Sta13,
    Evt6/19: AA-7)."""

    ignored_state = State.STA13
    ignored_events = frozenset({Event.EVT6, Event.EVT19})


class StaysOpenOnAbortInSta13(IgnoresEvents, AcceptorProtocol):
    """Keeps the connection after an A-ABORT received after its RP or RJ (Sta13, Evt16:
    AA-2, close)."""

    ignored_state = State.STA13
    ignored_events = frozenset({Event.EVT16})


class AbortsInSta13(AcceptorProtocol):
    """Answers the PDUs Sta13 ignores (AA-6: AC, RJ, P-DATA, RELEASE-RQ/RP) with an A-ABORT."""

    def on_pdu(self, inbound: Inbound) -> None:
        action = cell(self.state, inbound.event)
        if self.state is State.STA13 and action is not None and action.name == "AA-6":
            self.emit(Send(_PROVIDER_ABORT))
            return
        super().on_pdu(inbound)


class RejectsMalformedRq(AcceptorProtocol):
    """Answers an A-ASSOCIATE-RQ that does not parse with an RJ (Sta2, Evt19: AA-1, A-ABORT)."""

    def on_pdu(self, inbound: Inbound) -> None:
        malformed_rq = inbound.event is Event.EVT19 and inbound.raw[:1] == b"\x01"
        if self.state is State.STA2 and malformed_rq:
            self.emit(Send(bytes(Rejection(1, 2, 1).build())))
            return
        super().on_pdu(inbound)


class AbortsWhenArtimExpires(AcceptorProtocol):
    """Sends an A-ABORT before closing when ARTIM expires (Sta2/Sta13, Evt18: AA-2 sends
    nothing)."""

    def on_artim_expired(self) -> None:
        self.emit(Send(_PROVIDER_ABORT))
        super().on_artim_expired()


class SendsDataAfterRp(AcceptorProtocol):
    """Sends a C-ECHO-RSP after its A-RELEASE-RP (PS3.8 7.2.2.4: nothing after the RP)."""

    def on_release_indication(self) -> None:
        super().on_release_indication()
        command = dimse.encode_command(dimse.c_echo_rsp(1))
        pc_id = min(self.contexts, default=1)
        control = framing.COMMAND_BIT | framing.LAST_BIT
        self.emit(Send(framing.encode_p_data_tf([(pc_id, control, command)])))


class ChecksReleaseReservedBytes(AcceptorProtocol):
    """Takes an A-RELEASE-RQ with non-zero reserved bytes 7-10 as invalid (PS3.8 9.3.1:
    reserved fields are not tested)."""

    def classify(self, raw: bytes) -> Inbound:
        inbound = super().classify(raw)
        if inbound.event is Event.EVT12 and any(raw[6:10]):
            return invalid(inbound, INVALID_PARAMETER_VALUE, "reserved bytes 7-10 not zero")
        return inbound


class IgnoresOwnMaxLength(AcceptorProtocol):
    """Takes a P-DATA-TF longer than the maximum length it announced (PS3.8 D.1)."""

    def classify(self, raw: bytes) -> Inbound:
        announced, self.own_max_length = self.own_max_length, 0
        try:
            return super().classify(raw)
        finally:
            self.own_max_length = announced


class TakesAnyContext(AcceptorProtocol):
    """Reads a PDV on a presentation context it never accepted as one on its first context
    (PS3.8 Table 9-23: the PC-ID must be an accepted one)."""

    def classify(self, raw: bytes) -> Inbound:
        if raw[:1] != b"\x04" or not self.contexts:
            return super().classify(raw)
        data = bytearray(raw)
        body = memoryview(raw)[framing.PDU_HEADER_LENGTH :]
        for pdv in framing.iter_pdvs(body):
            if pdv.pc_id not in self.contexts:
                data[framing.PDU_HEADER_LENGTH + pdv.offset + 4] = min(self.contexts)
        return super().classify(bytes(data))


class OnlySingleFragments(_InvalidPData):
    """Takes a command or data set in more than one fragment as invalid (PS3.8 Annex E.1)."""

    def defect(self, pdvs: list[framing.PDV]) -> str | None:
        cut = any(not pdv.is_last for pdv in pdvs)
        return "a fragment without the last-fragment bit" if cut else None


class ChecksReservedControlBits(_InvalidPData):
    """Takes message control header bits 2-7 as significant (PS3.8 E.2: not tested)."""

    def defect(self, pdvs: list[framing.PDV]) -> str | None:
        reserved = any(pdv.message_control_header & 0xFC for pdv in pdvs)
        return "message control header bits 2-7 set" if reserved else None


class RejectsEmptyPdv(_InvalidPData):
    """Takes a PDV without fragment as invalid (PS3.8 Annex E.1 recommends accepting it)."""

    def defect(self, pdvs: list[framing.PDV]) -> str | None:
        return "an empty PDV" if any(not pdv.fragment for pdv in pdvs) else None


class IgnoresRequestorMaxLength(AcceptorProtocol):
    """Answers in one P-DATA-TF per command, whatever maximum length the requestor
    announced (PS3.8 D.1)."""

    def on_message(self, message: Message) -> None:
        announced, self.peer_max_length = self.peer_max_length, 0
        try:
            super().on_message(message)
        finally:
            self.peer_max_length = announced


class MessageIdInOneByte(AcceptorProtocol):
    """Answers a C-ECHO naming only the low byte of its Message ID (PS3.7 9.3.5)."""

    def on_message(self, message: Message) -> None:
        if int(message.command.CommandField) != _C_ECHO_RQ:
            super().on_message(message)
            return
        response = dimse.c_echo_rsp(int(message.command.MessageID) & 0xFF)
        self.send_message(message.pc_id, response)


FAILED = Verdict.FAILED
NON_STRICT = Verdict.NON_STRICT
INFORMATIONAL = Verdict.INFORMATIONAL
#: Each broken peer, and the verdict of every scenario it must not pass.
BREAKS: Mapping[type[AcceptorProtocol], Mapping[str, Verdict]] = {
    IgnoresStrayPdusInSta2: {
        "acceptor/state-table/sta2-associate-ac": FAILED,
        "acceptor/state-table/sta2-associate-rj": FAILED,
        "acceptor/state-table/sta2-release-rp": FAILED,
    },
    IgnoresAssociationPdusInSta6: {
        "acceptor/state-table/sta6-associate-ac": FAILED,
        "acceptor/state-table/sta6-associate-rj": FAILED,
    },
    IgnoresInvalidPdusInSta6: {
        "acceptor/artim/sta13-after-abort": FAILED,
        "acceptor/malformed/odd-fragments": INFORMATIONAL,
        "acceptor/malformed/p-data-over-sut-max": NON_STRICT,
        "acceptor/malformed/pdv-even-pc-id": NON_STRICT,
        "acceptor/malformed/pdv-unaccepted-pc-id": NON_STRICT,
        "acceptor/malformed/release-rq-length-6": INFORMATIONAL,
        "acceptor/state-table/sta6-unknown-pdu": FAILED,
    },
    IgnoresBadPdusInSta13: {
        "acceptor/state-table/sta13-after-rj-associate-rq": FAILED,
        "acceptor/state-table/sta13-after-rj-unknown-pdu": FAILED,
        "acceptor/state-table/sta13-associate-rq": FAILED,
        "acceptor/state-table/sta13-unknown-pdu": FAILED,
    },
    StaysOpenOnAbortInSta13: {
        "acceptor/abort/abort-after-release-rq": FAILED,
        "acceptor/abort/sta13-abort-after-rj": FAILED,
        "acceptor/abort/sta13-abort-after-rp": FAILED,
    },
    AbortsInSta13: {
        "acceptor/state-table/release-rq-then-p-data": FAILED,
        "acceptor/state-table/sta13-after-rj-p-data": FAILED,
        "acceptor/state-table/sta13-after-rj-release-rq": FAILED,
        "acceptor/state-table/sta13-associate-ac": FAILED,
        "acceptor/state-table/sta13-associate-rj": FAILED,
        "acceptor/state-table/sta13-p-data-ignored": FAILED,
        "acceptor/state-table/sta13-release-rp": FAILED,
        "acceptor/state-table/sta13-release-rq": FAILED,
    },
    RejectsMalformedRq: {
        "acceptor/malformed/associate-rq-item-overrun": FAILED,
        "acceptor/malformed/associate-rq-length-short": FAILED,
    },
    AbortsWhenArtimExpires: {
        "acceptor/artim/partial-rq": FAILED,
        "acceptor/artim/silent-connection": FAILED,
        "acceptor/artim/sta13-after-abort": FAILED,
        "acceptor/artim/sta13-after-rp": FAILED,
        "acceptor/reject/closed-after-artim": FAILED,
    },
    SendsDataAfterRp: {
        "acceptor/abort/abort-after-release-rq": FAILED,
        "acceptor/abort/sta13-abort-after-rp": FAILED,
        "acceptor/artim/sta13-after-rp": FAILED,
        "acceptor/release/nothing-after-rp": FAILED,
        "acceptor/release/waits-for-close": NON_STRICT,
        "acceptor/state-table/release-rq-then-p-data": FAILED,
        "acceptor/state-table/sta13-associate-ac": FAILED,
        "acceptor/state-table/sta13-associate-rj": FAILED,
        "acceptor/state-table/sta13-associate-rq": FAILED,
        "acceptor/state-table/sta13-p-data-ignored": FAILED,
        "acceptor/state-table/sta13-release-rp": FAILED,
        "acceptor/state-table/sta13-release-rq": FAILED,
        "acceptor/state-table/sta13-unknown-pdu": FAILED,
    },
    ChecksReleaseReservedBytes: {"acceptor/release/reserved-bytes-not-tested": FAILED},
    IgnoresOwnMaxLength: {"acceptor/malformed/p-data-over-sut-max": NON_STRICT},
    TakesAnyContext: {
        "acceptor/malformed/pdv-even-pc-id": NON_STRICT,
        "acceptor/malformed/pdv-unaccepted-pc-id": NON_STRICT,
    },
    OnlySingleFragments: {
        "acceptor/dimse/echo-command-fragmented": FAILED,
        "acceptor/dimse/echo-command-pdvs-in-one-pdu": FAILED,
        "acceptor/dimse/store-fragmented-small": FAILED,
        "acceptor/dimse/store-fragmented-to-sut-max": FAILED,
        "acceptor/malformed/coalesced-pdus": FAILED,
        "acceptor/malformed/control-header-reserved-bits": FAILED,
    },
    ChecksReservedControlBits: {"acceptor/malformed/control-header-reserved-bits": FAILED},
    RejectsEmptyPdv: {"acceptor/malformed/extra-empty-pdv": NON_STRICT},
    IgnoresRequestorMaxLength: {
        "acceptor/dimse/store-fragmented-small": FAILED,
        "acceptor/malformed/sut-respects-our-max-length": FAILED,
    },
    MessageIdInOneByte: {
        "acceptor/abort/close-then-new-association": FAILED,
        "acceptor/abort/reset-then-new-association": FAILED,
        "acceptor/dimse/echo-response-fields": FAILED,
        "acceptor/malformed/associate-rq-split-bytes": FAILED,
        "acceptor/malformed/echo-split-tcp-writes": FAILED,
    },
}
