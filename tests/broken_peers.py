"""Deliberately broken built-in peers: the reference SCP with one behaviour altered.

Each class overrides exactly one decision of :class:`harness.reference.AcceptorProtocol`
(see that package's docstring) and is listed in :data:`BREAKS` with the verdict each
scenario must then get. A conformant peer passes every scenario; these show that every
check in ``scenarios/`` can fail (DEVELOPERS.md: "A check that cannot fail is a defect").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from pydicom.dataset import Dataset

from harness import dimse
from harness.association import (
    DICOM_APPLICATION_CONTEXT,
    PROTOCOL_VERSION_NOT_SUPPORTED,
    AssociateAC,
    AssociateRQ,
    Rejection,
)
from harness.dimse import Message
from harness.fsm import Event, State, Transition
from harness.pdu import A_ABORT, A_RELEASE_RP
from harness.reference import AcceptorProtocol, CloseTransport, Inbound, Send, ULProtocol
from harness.results import Verdict


class IgnoresEvents(ULProtocol):
    """Drops some events in one state instead of taking their cells of Table 9-10.

    A mixin for either role: ``class X(IgnoresEvents, AcceptorProtocol)``.
    """

    ignored_state: State
    ignored_events: frozenset[Event]

    def on_pdu(self, inbound: Inbound) -> None:
        if self.state is not self.ignored_state or inbound.event not in self.ignored_events:
            super().on_pdu(inbound)


class IgnoresAbortInSta6(IgnoresEvents, AcceptorProtocol):
    """Stays associated after an A-ABORT (Sta6, Evt16 should be AA-3: close)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT16})


class IgnoresPDataInSta2(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for a P-DATA-TF before the A-ASSOCIATE-RQ (Sta2, Evt10: AA-1)."""

    ignored_state = State.STA2
    ignored_events = frozenset({Event.EVT10})


class IgnoresUnknownPduInSta2(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for an unknown PDU type as the first PDU (Sta2, Evt19: AA-1)."""

    ignored_state = State.STA2
    ignored_events = frozenset({Event.EVT19})


class IgnoresReleaseRpInSta6(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for an unsolicited A-RELEASE-RP (Sta6, Evt13: AA-8)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT13})


class IgnoresSecondRqInSta6(IgnoresEvents, AcceptorProtocol):
    """No A-ABORT for a second A-ASSOCIATE-RQ (Sta6, Evt6: AA-8)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT6})


#: Every PDU the suites send while the SUT waits for its user (Sta3, Sta8, Sta9, Sta12) or
#: for our A-RELEASE-RP in a release collision (Sta10).
HELD_PDU_EVENTS = frozenset(
    {Event.EVT3, Event.EVT4, Event.EVT6, Event.EVT10}
    | {Event.EVT12, Event.EVT13, Event.EVT16, Event.EVT19}
)
#: The PDUs of the state-table/sta3-*, sta8-*, sta9-*, sta10-* and sta12-* scenarios.
HELD_PROBES = (
    *("associate-ac", "associate-rj", "associate-rq", "p-data"),
    *("release-rq", "release-rp", "abort", "unknown-pdu"),
)


class IgnoresPdusInSta3(IgnoresEvents, AcceptorProtocol):
    """Its provider lets PDUs pass unanswered while its user decides on the association
    (Sta3: AA-8, or AA-3 for an A-ABORT); the user's A-ASSOCIATE-AC comes all the same."""

    ignored_state = State.STA3
    ignored_events = HELD_PDU_EVENTS


class IgnoresPdusInSta8(IgnoresEvents, AcceptorProtocol):
    """Its provider lets PDUs pass unanswered while its user decides on the release
    (Sta8: AA-8, or AA-3 for an A-ABORT); the user's A-RELEASE-RP comes all the same."""

    ignored_state = State.STA8
    ignored_events = HELD_PDU_EVENTS


class IgnoresPdusInSta10(IgnoresEvents, AcceptorProtocol):
    """Its provider lets PDUs pass unanswered while it waits for our A-RELEASE-RP in a
    release collision on its acceptor side (Sta10: AA-8, AA-3 for an A-ABORT, AR-10 for
    the RP itself)."""

    ignored_state = State.STA10
    ignored_events = HELD_PDU_EVENTS


class IgnoresPdusInSta12(IgnoresEvents, AcceptorProtocol):
    """Its provider lets PDUs pass unanswered while its user decides on its A-RELEASE-RP
    in a release collision on its acceptor side (Sta12: AA-8, or AA-3 for an A-ABORT);
    the RP comes all the same."""

    ignored_state = State.STA12
    ignored_events = HELD_PDU_EVENTS


class AnswersReleaseInSta2(AcceptorProtocol):
    """Answers an A-RELEASE-RQ before any association with an RP (Sta2, Evt12: AA-1)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if (self.state, inbound.event) == (State.STA2, Event.EVT12):
            self.emit(Send(bytes(A_RELEASE_RP())))
            return
        super().on_pdu(inbound)


class AbortsBackInSta2(AcceptorProtocol):
    """Answers an A-ABORT with an A-ABORT before closing (Sta2, Evt16: AA-2 sends none)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if (self.state, inbound.event) == (State.STA2, Event.EVT16):
            self.emit(Send(bytes(A_ABORT(source=2, reason=2))))
        super().on_pdu(inbound)


class AbortsOnPDataInSta13(AcceptorProtocol):
    """Aborts on a P-DATA-TF after its RP (Sta13, Evt10: AA-6, ignore)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if (self.state, inbound.event) == (State.STA13, Event.EVT10):
            self.emit(Send(bytes(A_ABORT(source=2, reason=2))))
            return
        super().on_pdu(inbound)


class ClosesOnPdusInSta13(AcceptorProtocol):
    """Closes the connection on any PDU after its RP or RJ (Sta13: AA-6 ignores it, AA-7
    answers an A-ABORT; neither closes), as DCMTK and Orthanc do."""

    def on_pdu(self, inbound: Inbound) -> None:
        if self.state is State.STA13:
            self.emit(CloseTransport())
            return
        super().on_pdu(inbound)


class UserSourceForUnknownPdu(AcceptorProtocol):
    """Aborts an unknown PDU type in Sta6 with source 0 (AA-8 fixes source 2)."""

    def abort_source_for(self, transition: Transition) -> int:
        if (transition.state, transition.event) == (State.STA6, Event.EVT19):
            return 0
        return super().abort_source_for(transition)


class IgnoresArtimInSta2(AcceptorProtocol):
    """Never closes a connection that sends nothing (Sta2, Evt18: AA-2)."""

    def on_artim_expired(self) -> None:
        if self.state is not State.STA2:
            super().on_artim_expired()


class IgnoresArtimInSta13(AcceptorProtocol):
    """Never closes after its RJ or RP when the requestor does not (Sta13, Evt18: AA-2)."""

    def on_artim_expired(self) -> None:
        if self.state is not State.STA13:
            super().on_artim_expired()


class ClosesRightAfterRp(AcceptorProtocol):
    """Closes the transport with its A-RELEASE-RP instead of waiting in Sta13 (AR-4)."""

    def on_release_indication(self) -> None:
        super().on_release_indication()
        self.emit(CloseTransport())


class LongReleaseRp(AcceptorProtocol):
    """Sends an A-RELEASE-RP of PDU-length 6 (PS3.8 Table 9-25 fixes 4)."""

    def on_release_indication(self) -> None:
        self._step(Event.EVT14, pdu=bytes(A_RELEASE_RP(extra=b"\x00\x00")))


class WrongMessageIdInEcho(AcceptorProtocol):
    """Answers a C-ECHO naming another request (PS3.7 9.3.5: Message ID Being Responded To)."""

    def on_message(self, message: Message) -> None:
        if int(message.command.CommandField) != dimse.COMMANDS["C-ECHO-RQ"].command_field:
            super().on_message(message)
            return
        response: Dataset = dimse.c_echo_rsp(int(message.command.MessageID) + 7)
        self.send_message(message.pc_id, response)


class ChecksWholeProtocolVersion(AcceptorProtocol):
    """Rejects any protocol version but 0001H (PS3.8 9.3.2 tests only bit 0)."""

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        if rq.protocol_version != 1:
            return PROTOCOL_VERSION_NOT_SUPPORTED
        return super().negotiate(rq)


class AcceptsAnyProtocolVersion(AcceptorProtocol):
    """Accepts a protocol version without bit 0 (PS3.8 Table 9-21: reject 1/2/2)."""

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        return super().negotiate(replace(rq, protocol_version=1))


class AcceptsAnyApplicationContext(AcceptorProtocol):
    """Accepts an unknown application context name (PS3.7 D.3.1: reject 1/1/2)."""

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        return super().negotiate(replace(rq, application_context_name=DICOM_APPLICATION_CONTEXT))


class _AltersRejection(AcceptorProtocol):
    """Changes the rejection it sends for one reason code."""

    reason: int
    altered: Mapping[str, int]

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        answer = super().negotiate(rq)
        if isinstance(answer, Rejection) and answer.reason == self.reason:
            return replace(answer, **self.altered)
        return answer


class WrongSourceForCalledAe(_AltersRejection):
    """Rejects an unknown called AE title with source 2 (Table 9-21: 1/1/7)."""

    reason = 7
    altered = {"source": 2}


class NoReasonForCallingAe(_AltersRejection):
    """Rejects an unknown calling AE title with reason 1 (Table 9-21: 1/1/3)."""

    reason = 3
    altered = {"reason": 1}


FAILED = Verdict.FAILED
#: Each broken peer, and the verdict of every scenario it must not pass.
BREAKS: Mapping[type[AcceptorProtocol], Mapping[str, Verdict]] = {
    IgnoresAbortInSta6: {"acceptor/abort/sta6-abort-from-harness": FAILED},
    IgnoresPDataInSta2: {"acceptor/association/p-data-before-association": FAILED},
    IgnoresUnknownPduInSta2: {
        "acceptor/state-table/sta2-unknown-pdu": FAILED,
        "acceptor/malformed/associate-rq-item-overrun": FAILED,
        "acceptor/malformed/associate-rq-length-short": FAILED,
    },
    IgnoresReleaseRpInSta6: {"acceptor/state-table/sta6-release-rp": FAILED},
    IgnoresPdusInSta3: {f"acceptor/state-table/sta3-{pdu}": FAILED for pdu in HELD_PROBES},
    IgnoresPdusInSta8: {f"acceptor/state-table/sta8-{pdu}": FAILED for pdu in HELD_PROBES},
    IgnoresPdusInSta10: {  # Sta12 is reached through our RP in Sta10 (AR-10)
        f"acceptor/state-table/{state}-{pdu}": FAILED
        for state in ("sta10", "sta12")
        for pdu in HELD_PROBES
    },
    IgnoresPdusInSta12: {f"acceptor/state-table/sta12-{pdu}": FAILED for pdu in HELD_PROBES},
    IgnoresSecondRqInSta6: {"acceptor/state-table/sta6-second-rq": FAILED},
    AnswersReleaseInSta2: {"acceptor/state-table/sta2-release-rq": FAILED},
    AbortsBackInSta2: {"acceptor/state-table/sta2-abort": FAILED},
    AbortsOnPDataInSta13: {
        "acceptor/state-table/sta13-p-data-ignored": FAILED,
        "acceptor/state-table/release-rq-then-p-data": FAILED,
        "acceptor/state-table/sta13-after-rj-p-data": FAILED,
    },
    ClosesOnPdusInSta13: {
        f"acceptor/state-table/sta13-{probe}": FAILED
        for probe in (
            "after-rj-associate-rq",
            "after-rj-p-data",
            "after-rj-release-rq",
            "after-rj-unknown-pdu",
            "associate-ac",
            "associate-rj",
            "associate-rq",
            "p-data-ignored",
            "release-rp",
            "release-rq",
            "unknown-pdu",
        )
    },
    UserSourceForUnknownPdu: {
        "acceptor/state-table/sta6-unknown-pdu": FAILED,
        "acceptor/malformed/odd-fragments": Verdict.INFORMATIONAL,
        "acceptor/malformed/p-data-over-sut-max": Verdict.NON_STRICT,
        "acceptor/malformed/pdv-even-pc-id": Verdict.NON_STRICT,
        "acceptor/malformed/pdv-unaccepted-pc-id": Verdict.NON_STRICT,
        "acceptor/malformed/release-rq-length-6": Verdict.INFORMATIONAL,
    },
    IgnoresArtimInSta2: {
        "acceptor/artim/silent-connection": FAILED,
        "acceptor/artim/partial-rq": FAILED,
    },
    IgnoresArtimInSta13: {
        "acceptor/reject/closed-after-artim": FAILED,
        "acceptor/artim/sta13-after-abort": FAILED,
        "acceptor/artim/sta13-after-rp": FAILED,
    },
    ClosesRightAfterRp: {
        "acceptor/release/waits-for-close": Verdict.NON_STRICT,
        "acceptor/state-table/sta13-p-data-ignored": Verdict.UNSUPPORTED,
        "acceptor/abort/sta13-abort-after-rp": Verdict.UNSUPPORTED,
        "acceptor/state-table/sta13-associate-ac": Verdict.UNSUPPORTED,
        "acceptor/state-table/sta13-associate-rj": Verdict.UNSUPPORTED,
        "acceptor/state-table/sta13-associate-rq": Verdict.UNSUPPORTED,
        "acceptor/state-table/sta13-release-rp": Verdict.UNSUPPORTED,
        "acceptor/state-table/sta13-release-rq": Verdict.UNSUPPORTED,
        "acceptor/state-table/sta13-unknown-pdu": Verdict.UNSUPPORTED,
    },
    LongReleaseRp: {"acceptor/release/rp-is-ten-bytes": FAILED},
    WrongMessageIdInEcho: {
        "acceptor/association/echo-and-release": FAILED,
        "acceptor/abort/close-then-new-association": FAILED,
        "acceptor/abort/reset-then-new-association": FAILED,
        "acceptor/dimse/echo-command-fragmented": FAILED,
        "acceptor/dimse/echo-command-pdvs-in-one-pdu": FAILED,
        "acceptor/dimse/echo-response-fields": FAILED,
        "acceptor/malformed/associate-rq-split-bytes": FAILED,
        "acceptor/malformed/coalesced-pdus": FAILED,
        "acceptor/malformed/control-header-reserved-bits": FAILED,
        "acceptor/malformed/echo-split-tcp-writes": FAILED,
        "acceptor/malformed/extra-empty-pdv": Verdict.NON_STRICT,
        "acceptor/malformed/sut-respects-our-max-length": FAILED,
        "acceptor/async/outstanding-echoes": FAILED,
    },
    ChecksWholeProtocolVersion: {"acceptor/association/protocol-version-bit0": FAILED},
    AcceptsAnyProtocolVersion: {
        "acceptor/reject/protocol-version-unsupported": FAILED,
        "acceptor/reject/closed-after-artim": FAILED,
        "acceptor/abort/sta13-abort-after-rj": FAILED,
        "acceptor/state-table/sta13-after-rj-associate-rq": FAILED,
        "acceptor/state-table/sta13-after-rj-p-data": FAILED,
        "acceptor/state-table/sta13-after-rj-release-rq": FAILED,
        "acceptor/state-table/sta13-after-rj-unknown-pdu": FAILED,
        "acceptor/reject/rj-reserved-bytes-zero": FAILED,
    },
    AcceptsAnyApplicationContext: {
        "acceptor/reject/application-context-unknown": Verdict.NON_STRICT,
        "acceptor/reject/application-context-rj-format": Verdict.UNSUPPORTED,
    },
    WrongSourceForCalledAe: {"acceptor/reject/called-ae-unknown": FAILED},
    NoReasonForCallingAe: {"acceptor/reject/calling-ae-unknown": FAILED},
}
