"""Deliberately broken built-in SCUs: the reference requestor with one behaviour altered.

Each class overrides exactly one decision of :class:`harness.reference.RequestorProtocol`
and is listed in :data:`BREAKS`, under the built-in SCU profile whose trigger command it
replaces the protocol of, with the verdict each requestor scenario must then get. The
trigger command selects one with ``python -m harness.reference --protocol
broken_requestors:ClassName`` (tests/ on PYTHONPATH), so the SUT stays a separate
process started by the runner, exactly as a real requestor is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from broken_peers import HELD_PDU_EVENTS, HELD_PROBES, IgnoresEvents
from scapy.packet import Packet

from harness import pdu
from harness.association import AssociateAC, AssociateRQ
from harness.framing import MIN_MAX_LENGTH
from harness.fsm import Event, State, Transition
from harness.pdu import A_ABORT
from harness.profile import Profile, load_profile
from harness.reference import (
    CloseTransport,
    Inbound,
    NoContextError,
    Output,
    ReferenceConfig,
    RequestorProtocol,
    Send,
)
from harness.results import Verdict

TESTS = Path(__file__).resolve().parent
FAILED = Verdict.FAILED


def builtin_scu(
    name: str = "builtin-scu", protocol: type[RequestorProtocol] | None = None
) -> Profile:
    """The built-in SCU profile ``name``, replying within 2 s, with ``protocol`` in place
    of the conformant one (a class of a module in tests/)."""
    profile = load_profile(name)
    profile = replace(profile, timers={**profile.timers, "reply": 2.0})
    if protocol is None:
        return profile
    return replace(
        profile,
        trigger=(*profile.trigger, "--protocol", f"{protocol.__module__}:{protocol.__name__}"),
        trigger_env={"PYTHONPATH": str(TESTS)},
    )


class EvenPcId(RequestorProtocol):
    """Proposes its last presentation context (not the Verification one) with an even ID
    (PS3.8 Table 9-13: odd IDs only)."""

    def build_rq(self) -> Packet:
        packet = super().build_rq()
        contexts = [
            i for i in packet.variable_items if isinstance(i, pdu.PresentationContextRQItem)
        ]
        contexts[-1].pc_id += 1
        return packet


class ReservedBytesSet(RequestorProtocol):
    """Sends 0001H in the reserved bytes 9-10 of its RQ (PS3.8 Table 9-11: 0000H)."""

    def build_rq(self) -> Packet:
        packet = super().build_rq()
        packet.reserved2 = 1
        return packet


class NoMaximumLength(RequestorProtocol):
    """Leaves the 51H sub-item out of its RQ (PS3.8 D.1: required)."""

    def build_rq(self) -> Packet:
        packet = super().build_rq()
        for item in packet.variable_items:
            if isinstance(item, pdu.UserInformationItem):
                item.user_data = [
                    s for s in item.user_data if not isinstance(s, pdu.MaximumLengthSubItem)
                ]
        return packet


class UserInformationFirst(RequestorProtocol):
    """Puts the 50H item before the 20H items (PS3.8 9.3.2: 10H, 20H..., 50H)."""

    def build_rq(self) -> Packet:
        packet = super().build_rq()
        items = list(packet.variable_items)
        packet.variable_items = [items[0], items[-1], *items[1:-1]]
        return packet


class PaddedImplementationUid(RequestorProtocol):
    """Pads its Implementation Class UID with a NUL (PS3.8 Annex F: no padding)."""

    def build_rq(self) -> Packet:
        packet = super().build_rq()
        for item in packet.variable_items:
            for sub in getattr(item, "user_data", []):
                if isinstance(sub, pdu.ImplementationClassUIDSubItem):
                    sub.implementation_class_uid = bytes(sub.implementation_class_uid) + b"\0"
        return packet


class StaysAfterReject(IgnoresEvents, RequestorProtocol):
    """Keeps the connection after an A-ASSOCIATE-RJ (Sta5, Evt4: AE-4 closes)."""

    ignored_state = State.STA5
    ignored_events = frozenset({Event.EVT4})


class IgnoresPDataInSta5(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for a P-DATA-TF in answer to its RQ (Sta5, Evt10: AA-8)."""

    ignored_state = State.STA5
    ignored_events = frozenset({Event.EVT10})


class IgnoresReleaseRqInSta5(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for an A-RELEASE-RQ in answer to its RQ (Sta5, Evt12: AA-8)."""

    ignored_state = State.STA5
    ignored_events = frozenset({Event.EVT12})


class StaysAfterAbortInSta5(IgnoresEvents, RequestorProtocol):
    """Keeps the connection after an A-ABORT in answer to its RQ (Sta5, Evt16: AA-3)."""

    ignored_state = State.STA5
    ignored_events = frozenset({Event.EVT16})


class AbortsOnPDataInSta7(RequestorProtocol):
    """Aborts on a P-DATA-TF while waiting for the RP (Sta7, Evt10: AR-6 takes it)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if (self.state, inbound.event) == (State.STA7, Event.EVT10):
            self.emit(Send(bytes(A_ABORT(source=2, reason=2))))
            self.emit(CloseTransport())
            return
        super().on_pdu(inbound)


class StaysAfterReleaseRp(IgnoresEvents, RequestorProtocol):
    """Does not close after the A-RELEASE-RP (Sta7, Evt13: AR-3 closes)."""

    ignored_state = State.STA7
    ignored_events = frozenset({Event.EVT13})


class ClosesOnReleaseCollision(RequestorProtocol):
    """Closes on a colliding A-RELEASE-RQ instead of answering it (Sta7, Evt12: AR-8,
    then AR-9 sends A-RELEASE-RP)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if (self.state, inbound.event) == (State.STA7, Event.EVT12):
            self.emit(CloseTransport())
            return
        super().on_pdu(inbound)


class AbortsBack(RequestorProtocol):
    """Answers an A-ABORT with an A-ABORT before closing (PS3.8 Table 9-10, Evt16: AA-3
    from Sta5 to Sta12, AA-2 in Sta13; both close and send nothing)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if inbound.event is Event.EVT16:
            self.emit(Send(bytes(A_ABORT(source=0, reason=0))))
        super().on_pdu(inbound)


class UserSourceForUnknownPdu(RequestorProtocol):
    """Aborts an unknown PDU type in Sta6 with source 0 (AA-8 fixes source 2)."""

    def abort_source_for(self, transition: Transition) -> int:
        if (transition.state, transition.event) == (State.STA6, Event.EVT19):
            return 0
        return super().abort_source_for(transition)


class IgnoresOtherPdusInSta5(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for an A-ASSOCIATE-RQ, A-RELEASE-RP or unknown PDU in answer to its RQ
    (Sta5, Evt6/Evt13/Evt19: AA-8)."""

    ignored_state = State.STA5
    ignored_events = frozenset({Event.EVT6, Event.EVT13, Event.EVT19})


class IgnoresAssociationPdusInSta6(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for an AC, RJ, RQ or RP during the association (Sta6, Evt3/Evt4/Evt6/
    Evt13: AA-8)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT3, Event.EVT4, Event.EVT6, Event.EVT13})


class IgnoresReleaseRqInSta6(IgnoresEvents, RequestorProtocol):
    """No A-RELEASE-RP for our A-RELEASE-RQ during the association (Sta6, Evt12: AR-2)."""

    ignored_state = State.STA6
    ignored_events = frozenset({Event.EVT12})


class IgnoresUnexpectedPdusInSta7(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for an AC, RJ, RQ or unknown PDU while it waits for the A-RELEASE-RP
    (Sta7, Evt3/Evt4/Evt6/Evt19: AA-8)."""

    ignored_state = State.STA7
    ignored_events = frozenset({Event.EVT3, Event.EVT4, Event.EVT6, Event.EVT19})


class IgnoresUnexpectedPdusInSta11(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for an AC, RJ, RQ, P-DATA-TF, A-RELEASE-RQ or unknown PDU after its RP in
    a release collision (Sta11, Evt3/Evt4/Evt6/Evt10/Evt12/Evt19: AA-8)."""

    ignored_state = State.STA11
    ignored_events = frozenset(
        {Event.EVT3, Event.EVT4, Event.EVT6, Event.EVT10, Event.EVT12, Event.EVT19}
    )


class IgnoresAssociateRqInSta13(IgnoresEvents, RequestorProtocol):
    """No A-ABORT for an A-ASSOCIATE-RQ after its own A-ABORT (Sta13, Evt6: AA-7)."""

    ignored_state = State.STA13
    ignored_events = frozenset({Event.EVT6})


class RefusesAc(RequestorProtocol):
    """Aborts (A-ABORT source 0, then close) an A-ASSOCIATE-AC that :meth:`refuses`,
    instead of taking AE-3 to Sta6 (PS3.8 Table 9-10, Sta5, Evt3).

    The base of the SCUs that object to something an A-ASSOCIATE-AC may lawfully carry
    or leave out; each overrides :meth:`refuses` alone.
    """

    def refuses(self, ac: Packet) -> bool:
        """Whether this A-ASSOCIATE-AC is unacceptable to this SCU."""
        raise NotImplementedError

    def on_pdu(self, inbound: Inbound) -> None:
        packet = inbound.packet
        if (self.state, inbound.event) == (State.STA5, Event.EVT3) and (
            packet is not None and self.refuses(packet)
        ):
            self.emit(Send(bytes(A_ABORT(source=0, reason=0))))
            self.emit(CloseTransport())
            return
        super().on_pdu(inbound)


class AbortsOnAcReservedFields(RefusesAc):
    """Aborts an A-ASSOCIATE-AC whose protocol version is not 0001H (PS3.8 Table 9-17:
    only bit 0 is tested, reserved fields are not)."""

    def refuses(self, ac: Packet) -> bool:
        return bool(ac.protocol_version != 1)


class AbortsOnUnknownAcItem(RefusesAc):
    """Aborts an A-ASSOCIATE-AC carrying an item of an unknown type (PS3.8 9.3.1: ignored)."""

    def refuses(self, ac: Packet) -> bool:
        return any(isinstance(item, pdu.UnknownItem) for item in ac.variable_items)


class AbortsOnRejectedContext(RefusesAc):
    """Aborts an A-ASSOCIATE-AC that rejects any of its contexts, though the ones it needs
    are accepted (PS3.7 D.3.3.1: the association goes on with the accepted contexts)."""

    def refuses(self, ac: Packet) -> bool:
        return any(
            isinstance(item, pdu.PresentationContextACItem) and item.result_reason != 0
            for item in ac.variable_items
        )


class RequiresAsyncWindow(RefusesAc):
    """Aborts an A-ASSOCIATE-AC without an asynchronous operations window (PS3.7 D.3.3.3:
    none means the default window, 1/1)."""

    def refuses(self, ac: Packet) -> bool:
        return AssociateAC.from_packet(ac).async_ops_window is None


class RequiresRoleSelection(RefusesAc):
    """Aborts an A-ASSOCIATE-AC without SCP/SCU role selection (PS3.7 D.3.3.4: none means
    the default roles, the requestor as SCU)."""

    def refuses(self, ac: Packet) -> bool:
        return not AssociateAC.from_packet(ac).role_selections


class RefusesForeignImplementation(RefusesAc):
    """Aborts an A-ASSOCIATE-AC whose Implementation Class UID is not its own (PS3.7
    D.3.3.2: the UID names the acceptor's implementation, whatever it is)."""

    def refuses(self, ac: Packet) -> bool:
        return AssociateAC.from_packet(ac).implementation_class_uid != (
            self.rq.implementation_class_uid
        )


class WaitsOnAClosedTransport(RequestorProtocol):
    """Does not notice the transport closing while it waits for the A-ASSOCIATE-AC (Sta5,
    Evt17: AA-4, the attempt is over at once): it waits out its idle timeout first (5 s
    with the builtin-scu profile, longer than the 2 s the tests wait for its exit)."""

    waiting_states: frozenset[State] = frozenset({State.STA5})

    def transport_closed(self) -> list[Output]:
        if self.state in self.waiting_states:
            time.sleep(self.config.idle_timeout)
        return super().transport_closed()


class WaitsOnAClosedTransportWhenReleasing(WaitsOnAClosedTransport):
    """The same while it waits for the A-RELEASE-RP, alone (Sta7) or after a release
    collision (Sta11): Evt17 there is AA-4 too."""

    waiting_states = frozenset({State.STA7, State.STA11})


class ShortAcseTimeout(RequestorProtocol):
    """Gives up after 1 s without a PDU (its ACSE and DIMSE timeout, PS3.8 9.1.4 note 2),
    far below the usual 30 s: a slow A-ASSOCIATE-AC makes it abort (Evt15, AA-1)."""

    def __init__(self, config: ReferenceConfig, rq: AssociateRQ) -> None:
        super().__init__(replace(config, idle_timeout=1.0), rq)


class NeverTimesOut(RequestorProtocol):
    """Waits for an answer for ever: no ACSE or DIMSE timeout ends an association whose
    acceptor went silent (PS3.8 9.1.4 note 2: a local A-ABORT, Evt15, AA-1)."""

    def on_timeout(self) -> None:
        return


class IgnoresPdusInSta9(IgnoresEvents, RequestorProtocol):
    """Its provider lets PDUs pass unanswered while its user decides on its A-RELEASE-RP
    in a release collision (Sta9: AA-8, or AA-3 for an A-ABORT); the RP comes all the
    same."""

    ignored_state = State.STA9
    ignored_events = HELD_PDU_EVENTS


class EchoOnLastContext(RequestorProtocol):
    """Sends every request on its last proposed presentation context, whatever the
    A-ASSOCIATE-AC said of it (PS3.8 Table 9-23, PS3.7 D.3.3.1: only on an accepted
    context of the request's abstract syntax)."""

    def context_for(self, abstract_syntax: str) -> tuple[int, str]:
        last = self.rq.presentation_contexts[-1]
        return last.id, last.transfer_syntaxes[0]


class EchoOnRejectedContext(RequestorProtocol):
    """Sends a request whose context the A-ASSOCIATE-AC rejected all the same, on the
    context it proposed for the request's SOP class (PS3.8 Table 9-23, PS3.7 D.3.3.1:
    only on an accepted context)."""

    def context_for(self, abstract_syntax: str) -> tuple[int, str]:
        try:
            return super().context_for(abstract_syntax)
        except NoContextError:
            proposed = next(
                pc for pc in self.rq.presentation_contexts if pc.abstract_syntax == abstract_syntax
            )
            return proposed.id, proposed.transfer_syntaxes[0]


class IgnoresGrantedWindow(RequestorProtocol):
    """Keeps as many requests outstanding as it proposed in its 53H, ignoring the smaller
    number of operations invoked the A-ASSOCIATE-AC granted (PS3.7 D.3.3.3)."""

    @property
    def max_outstanding(self) -> int:
        granted = self.ac is not None and self.ac.async_ops_window is not None
        proposed = self.rq.async_ops_window
        return proposed[0] if granted and proposed else super().max_outstanding


class PipelinesWithoutWindow(RequestorProtocol):
    """Keeps as many requests outstanding as it proposed in its 53H when the
    A-ASSOCIATE-AC has no 53H (PS3.7 D.3.3.3: then the default window, one, applies)."""

    @property
    def max_outstanding(self) -> int:
        ungranted = self.ac is not None and self.ac.async_ops_window is None
        proposed = self.rq.async_ops_window
        return proposed[0] if ungranted and proposed else super().max_outstanding


class IgnoresMaxLength(RequestorProtocol):
    """Sends P-DATA-TF PDUs of any length, whatever Maximum Length Received the
    A-ASSOCIATE-AC stated (PS3.8 D.1: a bound on every P-DATA-TF it sends)."""

    def establish(self, rq: AssociateRQ, ac: AssociateAC) -> None:
        super().establish(rq, ac)
        self.peer_max_length = 0


class ZeroMaxLengthAsLimit(RequestorProtocol):
    """Reads a Maximum Length Received of 0 as a limit no PDV fits in, not as "no maximum"
    (PS3.8 D.1): it cannot send its request and aborts (Evt15, AA-1)."""

    def establish(self, rq: AssociateRQ, ac: AssociateAC) -> None:
        super().establish(rq, ac)
        if self.peer_max_length == 0:
            self.peer_max_length = MIN_MAX_LENGTH - 1


STA7_UNEXPECTED = ("associate-ac", "associate-rj", "associate-rq", "unknown-pdu")
"""The PDUs of the requestor/state-table/sta7-* scenarios (Sta7: AA-8)."""
STA11_UNEXPECTED = (*STA7_UNEXPECTED, "p-data", "release-rq")
"""The PDUs of the requestor/state-table/sta11-* scenarios (Sta11: AA-8)."""
COLLIDING = frozenset(
    {
        "requestor/release/collision",
        "requestor/abort/abort-in-sta11",
        "requestor/transport/close-in-sta11",
        *(f"requestor/state-table/sta11-{pdu}" for pdu in STA11_UNEXPECTED),
        *(f"requestor/state-table/sta9-{pdu}" for pdu in HELD_PROBES),
        "requestor/timeouts/no-release-answer-in-collision",
    }
)
"""The scenarios that answer the SUT's A-RELEASE-RQ with ours (a release collision, Sta7,
Evt12: AR-8) and expect its A-RELEASE-RP (AR-9)."""

ACCEPTING: frozenset[str] = frozenset(
    {
        "requestor/abort/abort-in-sta6",
        "requestor/abort/abort-in-sta7",
        "requestor/abort/abort-in-sta11",
        "requestor/abort/provider-abort-in-sta6",
        "requestor/dimse/echo-on-accepted-context",
        "requestor/negotiation/ac-context-rejected",
        "requestor/negotiation/ac-delayed",
        "requestor/negotiation/ac-foreign-implementation",
        "requestor/negotiation/ac-items-reordered",
        "requestor/negotiation/ac-max-length-small",
        "requestor/negotiation/ac-max-length-zero",
        "requestor/negotiation/ac-reserved-garbage",
        "requestor/negotiation/ac-unknown-items",
        "requestor/negotiation/ac-without-async-window",
        "requestor/negotiation/ac-without-role-selection",
        "requestor/reject/transient-then-accepted",
        "requestor/release/collision",
        "requestor/release/echo-and-release",
        "requestor/release/p-data-while-releasing",
        "requestor/release/release-rq-in-sta6",
        "requestor/state-table/sta13-after-abort",
        "requestor/state-table/sta6-associate-ac",
        "requestor/state-table/sta6-associate-rj",
        "requestor/state-table/sta6-associate-rq",
        "requestor/state-table/sta6-release-rp",
        "requestor/state-table/sta6-unknown-pdu",
        *(f"requestor/state-table/sta7-{pdu}" for pdu in STA7_UNEXPECTED),
        *(f"requestor/state-table/sta11-{pdu}" for pdu in STA11_UNEXPECTED),
        *(f"requestor/state-table/sta9-{pdu}" for pdu in HELD_PROBES),
        "requestor/timeouts/no-echo-response",
        "requestor/timeouts/no-release-answer",
        "requestor/timeouts/no-release-answer-in-collision",
        "requestor/transport/close-in-sta7",
        "requestor/transport/close-in-sta11",
    }
)
"""The scenarios whose A-ASSOCIATE-AC has neither 53H nor 54H (all that send one and that
the builtin-scu profile runs): an SCU that requires either, and so aborts (source 0) such
an AC, fails them all, as it would fail every such acceptor. Left out:
negotiation/ac-rejects-verification, where a user A-ABORT after that AC passes (the SUT
has nothing left to do), and the async/ scenarios, which need builtin-scu-async."""


BREAKS: Mapping[str, Mapping[type[RequestorProtocol], Mapping[str, Verdict]]] = {
    "builtin-scu": {
        EvenPcId: {"requestor/association/rq-presentation-contexts": FAILED},
        ReservedBytesSet: {"requestor/association/rq-fixed-fields": FAILED},
        NoMaximumLength: {"requestor/association/rq-user-information": FAILED},
        UserInformationFirst: {"requestor/association/rq-items-order": FAILED},
        PaddedImplementationUid: {"requestor/association/rq-uids": FAILED},
        StaysAfterReject: {
            "requestor/reject/permanent-called-ae": FAILED,
            "requestor/reject/transient-provider": FAILED,
            "requestor/reject/permanent-no-reason": FAILED,
            "requestor/reject/permanent-application-context": FAILED,
            "requestor/reject/permanent-calling-ae": FAILED,
            "requestor/reject/permanent-reserved-reason": FAILED,
            "requestor/reject/permanent-acse-no-reason": FAILED,
            "requestor/reject/permanent-protocol-version": FAILED,
            "requestor/reject/transient-temporary-congestion": FAILED,
            "requestor/reject/transient-then-accepted": FAILED,
        },
        IgnoresPDataInSta5: {"requestor/state-table/sta5-p-data": FAILED},
        IgnoresReleaseRqInSta5: {"requestor/state-table/sta5-release-rq": FAILED},
        StaysAfterAbortInSta5: {"requestor/abort/abort-in-sta5": FAILED},
        AbortsOnPDataInSta7: {"requestor/release/p-data-while-releasing": FAILED},
        StaysAfterReleaseRp: {
            "requestor/release/echo-and-release": FAILED,
            "requestor/release/p-data-while-releasing": FAILED,
            "requestor/reject/transient-then-accepted": FAILED,
            "requestor/negotiation/ac-rejects-verification": FAILED,
        },
        ClosesOnReleaseCollision: dict.fromkeys(COLLIDING, FAILED),
        AbortsBack: {
            "requestor/abort/abort-in-sta5": FAILED,
            "requestor/abort/abort-in-sta6": FAILED,
            "requestor/abort/provider-abort-in-sta6": FAILED,
            "requestor/abort/abort-in-sta7": FAILED,
            "requestor/abort/abort-in-sta11": FAILED,
        },
        UserSourceForUnknownPdu: {"requestor/state-table/sta6-unknown-pdu": FAILED},
        IgnoresOtherPdusInSta5: {
            "requestor/state-table/sta5-associate-rq": FAILED,
            "requestor/state-table/sta5-release-rp": FAILED,
            "requestor/state-table/sta5-unknown-pdu": FAILED,
            "requestor/negotiation/ac-items-reordered": FAILED,
        },
        IgnoresAssociationPdusInSta6: {
            "requestor/state-table/sta6-associate-ac": FAILED,
            "requestor/state-table/sta6-associate-rj": FAILED,
            "requestor/state-table/sta6-associate-rq": FAILED,
            "requestor/state-table/sta6-release-rp": FAILED,
            "requestor/state-table/sta13-after-abort": FAILED,
        },
        IgnoresReleaseRqInSta6: {"requestor/release/release-rq-in-sta6": FAILED},
        IgnoresAssociateRqInSta13: {"requestor/state-table/sta13-after-abort": FAILED},
        IgnoresUnexpectedPdusInSta7: {
            f"requestor/state-table/sta7-{pdu}": FAILED for pdu in STA7_UNEXPECTED
        },
        IgnoresUnexpectedPdusInSta11: {
            f"requestor/state-table/sta11-{pdu}": FAILED for pdu in STA11_UNEXPECTED
        },
        AbortsOnAcReservedFields: {"requestor/negotiation/ac-reserved-garbage": FAILED},
        AbortsOnUnknownAcItem: {"requestor/negotiation/ac-unknown-items": FAILED},
        AbortsOnRejectedContext: {
            "requestor/negotiation/ac-context-rejected": FAILED,
            "requestor/dimse/echo-on-accepted-context": FAILED,
        },
        RequiresAsyncWindow: dict.fromkeys(ACCEPTING, FAILED),
        RequiresRoleSelection: dict.fromkeys(ACCEPTING, FAILED),
        RefusesForeignImplementation: {"requestor/negotiation/ac-foreign-implementation": FAILED},
        WaitsOnAClosedTransport: {
            "requestor/transport/reset-mid-ac": FAILED,
            "requestor/abort/close-without-answer": FAILED,
        },
        WaitsOnAClosedTransportWhenReleasing: {
            "requestor/transport/close-in-sta7": FAILED,
            "requestor/transport/close-in-sta11": FAILED,
        },
        ShortAcseTimeout: {"requestor/negotiation/ac-delayed": Verdict.NON_STRICT},
        NeverTimesOut: {
            f"requestor/timeouts/{scenario}": FAILED
            for scenario in (
                *("no-echo-response", "no-associate-answer"),
                *("no-release-answer", "no-release-answer-in-collision"),
            )
        },
        EchoOnLastContext: {
            "requestor/dimse/echo-on-accepted-context": FAILED,
            "requestor/negotiation/ac-rejects-verification": FAILED,
        },
        EchoOnRejectedContext: {"requestor/negotiation/ac-rejects-verification": FAILED},
        IgnoresMaxLength: {"requestor/negotiation/ac-max-length-small": FAILED},
        ZeroMaxLengthAsLimit: {"requestor/negotiation/ac-max-length-zero": FAILED},
    },
    "builtin-scu-slow-user": {
        IgnoresPdusInSta9: {f"requestor/state-table/sta9-{pdu}": FAILED for pdu in HELD_PROBES},
    },
    "builtin-scu-async": {
        IgnoresGrantedWindow: {"requestor/async/window-granted-smaller": FAILED},
        PipelinesWithoutWindow: {"requestor/async/no-window-one-outstanding": FAILED},
    },
}
"""Per built-in SCU profile (peers/*.yaml), the broken SCUs run with its trigger command,
and the verdict of each scenario that profile runs and they do not pass."""
