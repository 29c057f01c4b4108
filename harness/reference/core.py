"""The sans-I/O core shared by the reference acceptor and requestor (PS3.8 9.2, Table 9-10).

A :class:`ULProtocol` owns a :class:`harness.fsm.Machine` and nothing else that touches
the world: inputs are method calls (a received PDU's bytes, the transport closing, ARTIM
expiring, a local request), and each returns the :data:`Output` list the caller must carry
out in order (bytes to send, close the transport, start or stop ARTIM, open a connection).
Every reaction is a cell of Table 9-10 taken through ``Machine.apply``; what the table
leaves to the entity (the A-ABORT reason, the PDU contents, the user's answers) comes from
small public methods that a subclass may override (see :mod:`harness.reference`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar, Final

from pydicom.dataset import Dataset
from scapy.packet import Packet

from harness.association import DEFAULT_MAX_LENGTH, AssociateAC, AssociateRQ, accepted_contexts
from harness.dimse import Message, Reassembler, encode_command, message_pdus
from harness.errors import DecodeError
from harness.framing import PDU_HEADER_LENGTH, PDVError
from harness.fsm import (
    DATA_INDICATIONS,
    PDU_TYPES,
    AbortSource,
    Artim,
    Event,
    Machine,
    Pdu,
    Role,
    State,
    Transition,
    Transport,
    cell,
    received_event,
)
from harness.pdu import A_ABORT, A_RELEASE_RP, A_RELEASE_RQ, PDUDecodeError, dissect_shared
from harness.pdu.validity import fixed_length_defect, missing_items, p_data_defect
from harness.reference.config import ReferenceConfig

# A-ABORT Reason/Diag. with the service-provider source (PS3.8 Table 9-26).
REASON_NOT_SPECIFIED: Final = 0
UNRECOGNIZED_PDU: Final = 1
UNEXPECTED_PDU: Final = 2
INVALID_PARAMETER_VALUE: Final = 6

P_DATA_TF_TYPE: Final = 0x04
RELEASE_RQ: Final = bytes(A_RELEASE_RQ())
"""The A-RELEASE-RQ PDU (PS3.8 9.3.6), built once."""
RELEASE_RP: Final = bytes(A_RELEASE_RP())
"""The A-RELEASE-RP PDU (PS3.8 9.3.7), built once."""
_RELEASE_RESPONSE_STATES: Final = frozenset({State.STA8, State.STA9, State.STA12})
"""States where the local user answers a release indication (Evt14, Table 9-10)."""


@dataclass(frozen=True, slots=True)
class Send:
    """Write these bytes (one whole PDU) to the transport."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CloseTransport:
    """Close the transport connection (AE-4, AR-3, AA-2, AA-3)."""


@dataclass(frozen=True, slots=True)
class OpenTransport:
    """Open the transport connection to the acceptor (AE-1)."""


@dataclass(frozen=True, slots=True)
class StartArtim:
    """Start ARTIM, or restart it if running, to expire ``seconds`` from now (PS3.8 9.1.5)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class StopArtim:
    """Stop ARTIM if it is running."""


@dataclass(frozen=True, slots=True)
class AwaitUser:
    """The local user acts ``seconds`` from now: it answers the indication it was given
    (``config.user_delay``), or releases (``config.release_after``). Call
    :meth:`ULProtocol.user_turn` then, reading on meanwhile."""

    seconds: float


Output = Send | CloseTransport | OpenTransport | StartArtim | StopArtim | AwaitUser
"""What a protocol asks its I/O layer to do."""


@dataclass(frozen=True)
class Defect:
    """Why a received PDU is invalid (Evt19): the A-ABORT reason that reports it, and text."""

    reason: int
    detail: str


@dataclass(frozen=True)
class Inbound:
    """A received PDU as the protocol classified it.

    ``event`` is what it causes in Table 9-10 (Evt19 when ``defect`` says why it is
    invalid); ``packet`` is its dissection (None for P-DATA-TF, read as bytes);
    ``message`` a DIMSE message it completed.
    """

    event: Event
    raw: bytes
    packet: Packet | None = None
    defect: Defect | None = None
    message: Message | None = None


@functools.lru_cache(maxsize=64)
def abort_pdu(source: int, reason: int) -> bytes:
    """The A-ABORT PDU with ``source`` and ``reason`` (PS3.8 9.3.8, Table 9-26), built once
    per pair (a few pairs occur)."""
    return bytes(A_ABORT(source=source, reason=reason))


def invalid(inbound: Inbound, reason: int, detail: str) -> Inbound:
    """``inbound`` reclassified as an invalid PDU (Evt19)."""
    return replace(inbound, event=Event.EVT19, defect=Defect(reason, detail))


def association_defect(raw: bytes) -> str | None:
    """A required item the A-ASSOCIATE-RQ/AC ``raw`` lacks (PS3.8 9.3.2-9.3.3, Annex D.1),
    if any (:func:`harness.pdu.validity.missing_items`, the rule the harness's judgement
    of the PDUs it sends shares). A missing Implementation Class UID (PS3.7 D.3.3.2) is
    tolerated."""
    missing = missing_items(raw)
    return f"no {', '.join(missing)} item" if missing else None


class ULProtocol:
    """One UL entity of ``role`` over one transport connection, sans I/O.

    Public state: ``state``, ``machine`` (with the cells taken), ``contexts`` (accepted
    PC-ID -> (abstract syntax, transfer syntax)) and ``peer_abort`` (source, reason of an
    A-ABORT received). Subclasses implement :meth:`on_message`.
    """

    role: ClassVar[Role]

    def __init__(self, config: ReferenceConfig) -> None:
        self.config = config
        self.machine = Machine(self.role)
        self.contexts: dict[int, tuple[str, str]] = {}
        self.own_max_length = config.max_length
        self.peer_max_length = DEFAULT_MAX_LENGTH
        self.peer_abort: tuple[int, int] | None = None
        self._reassembler = Reassembler()
        self._outputs: list[Output] = []
        self._handlers: dict[str, Callable[[Inbound], None]] = {
            "DT-2": self._on_data,
            "AR-6": self._on_data,
        }

    @property
    def state(self) -> State:
        """The current state of Table 9-10."""
        return self.machine.state

    # -- inputs: each returns what to do, in order -----------------------------------

    def receive(self, raw: bytes) -> list[Output]:
        """One whole PDU received (header included)."""
        self.on_pdu(self.classify(raw))
        return self._flush()

    def receive_oversized(self, pdu_type: int, declared: int) -> list[Output]:
        """A PDU whose declared length the I/O layer refused to read: invalid (Evt19)."""
        detail = f"PDU type 0x{pdu_type:02X} declares PDU-length {declared}, beyond what we read"
        self.on_pdu(Inbound(Event.EVT19, b"", defect=Defect(INVALID_PARAMETER_VALUE, detail)))
        return self._flush()

    def transport_closed(self) -> list[Output]:
        """The peer closed or reset the connection (Evt17); nothing once we closed it."""
        if cell(self.state, Event.EVT17) is not None:
            self._step(Event.EVT17)
        return self._flush()

    def artim_expired(self) -> list[Output]:
        """ARTIM ran out (Evt18)."""
        self.on_artim_expired()
        return self._flush()

    def timed_out(self) -> list[Output]:
        """Nothing arrived for ``config.idle_timeout`` while ARTIM was not running."""
        self.on_timeout()
        return self._flush()

    def release(self) -> list[Output]:
        """Local A-RELEASE request (Evt11, AR-1), open to either role in Sta6."""
        self._step(Event.EVT11, pdu=RELEASE_RQ)
        return self._flush()

    def abort(self) -> list[Output]:
        """Local A-ABORT request (Evt15)."""
        self._step(Event.EVT15)
        return self._flush()

    def user_turn(self) -> list[Output]:
        """The local user's answer is due (:class:`AwaitUser`)."""
        self.on_user_turn()
        return self._flush()

    # -- decision methods: override one of these to make a deliberately broken peer --

    def classify(self, raw: bytes) -> Inbound:
        """The event a received PDU causes (Table 9-10), and why it is invalid, if it is.

        Evt19 for an unknown PDU type (reason 1), a PDU that does not dissect, a 10-byte
        PDU whose PDU-length is not 4, a P-DATA-TF whose PDVs do not fit (reason 6). A
        P-DATA-TF is further checked where it is processed (DT-2, AR-6): within our
        maximum length (PS3.8 D.1), on accepted PC-IDs, and per PS3.8 Annex E (reason 6).
        """
        pdu_type = raw[0]
        if pdu_type == P_DATA_TF_TYPE:
            return self._classify_p_data(raw)
        try:
            packet = dissect_shared(raw)
        except PDUDecodeError as exc:
            known = pdu_type in PDU_TYPES
            reason = INVALID_PARAMETER_VALUE if known else UNRECOGNIZED_PDU
            return Inbound(Event.EVT19, raw, defect=Defect(reason, str(exc)))
        inbound = Inbound(received_event(pdu_type), raw, packet)
        if pdu_type not in PDU_TYPES:
            return invalid(inbound, UNRECOGNIZED_PDU, f"unknown PDU type 0x{pdu_type:02X}")
        detail = fixed_length_defect(raw)
        if detail is not None:  # PS3.8 leaves the choice to the receiver: we refuse it
            return invalid(inbound, INVALID_PARAMETER_VALUE, detail)
        return inbound

    def on_pdu(self, inbound: Inbound) -> None:
        """React to a classified PDU: the cell of Table 9-10 for it in the current state."""
        if inbound.event is Event.EVT16 and inbound.packet is not None:
            self.peer_abort = (inbound.packet.source, inbound.packet.reason)
        action = cell(self.state, inbound.event)
        handler = self._handlers.get(action.name) if action is not None else None
        if handler is None:
            self._step(inbound.event, inbound=inbound)
        else:
            handler(inbound)

    def on_artim_expired(self) -> None:
        """Evt18: AA-2 in Sta2 and Sta13 (close the transport)."""
        if cell(self.state, Event.EVT18) is not None:
            self._step(Event.EVT18)

    def on_timeout(self) -> None:
        """Waited ``idle_timeout`` in vain: a local A-ABORT (Evt15, AA-1; PS3.8 9.1.4 note 2)
        where the table allows one, else close (a bound of ours, not a table action)."""
        if cell(self.state, Event.EVT15) is not None:
            self._step(Event.EVT15)
        else:
            self.emit(CloseTransport())

    def on_release_indication(self) -> None:
        """The user's answer to a release indication (Sta8, Sta9, Sta12): A-RELEASE-RP."""
        self._step(Event.EVT14, pdu=RELEASE_RP)

    def on_user_turn(self) -> None:
        """The local user answers the indication its state waits on, if it still does:
        a release indication (Sta8, Sta9, Sta12) with :meth:`on_release_indication`."""
        if self.state in _RELEASE_RESPONSE_STATES:
            self.on_release_indication()

    def on_message(self, message: Message) -> None:
        """A DIMSE message arrived whole on an accepted context: the user's business."""
        raise NotImplementedError

    def abort_source_for(self, transition: Transition) -> int:
        """The A-ABORT source: as the action fixes it (AA-1: 0, AA-8: 2), else 2 (AA-7)."""
        source = transition.effect.abort_source
        return int(source if source is not None else AbortSource.SERVICE_PROVIDER)

    def abort_reason_for(self, transition: Transition, inbound: Inbound | None) -> int:
        """The A-ABORT reason (PS3.8 Table 9-26): 0 with the service-user source (not
        significant); else the defect's reason, 2 for a valid PDU out of place, or 0."""
        if transition.effect.abort_source is AbortSource.SERVICE_USER or inbound is None:
            return REASON_NOT_SPECIFIED
        if inbound.defect is not None:
            return inbound.defect.reason
        return UNEXPECTED_PDU

    # -- for subclasses ----------------------------------------------------------------

    def emit(self, output: Output) -> None:
        """Queue an output outside the state table (for deliberately broken peers)."""
        self._outputs.append(output)

    @property
    def can_send_data(self) -> bool:
        """Whether a P-DATA request (Evt9) is allowed in the current state (DT-1, AR-7)."""
        return cell(self.state, Event.EVT9) is not None

    def send_message(self, pc_id: int, command: Dataset, data_set: bytes | None = None) -> None:
        """Send one DIMSE message as P-DATA-TF PDUs within the peer's maximum length
        (PS3.8 Annex E, D.1), one Evt9 each; a maximum too small to carry a fragment
        leaves no way to send: local A-ABORT (Evt15)."""
        try:
            pdus = message_pdus(pc_id, encode_command(command), data_set, self.peer_max_length)
        except ValueError:
            self._step(Event.EVT15)
            return
        for pdu in pdus:
            self._step(Event.EVT9, pdu=pdu)

    def establish(self, rq: AssociateRQ, ac: AssociateAC) -> None:
        """Record what the association negotiated: the usable contexts, and the maximum
        length each side receives (PS3.8 D.1: the RQ's binds the acceptor, the AC's the
        requestor)."""
        self.contexts = accepted_contexts(rq, ac)
        requestor = self.role is Role.REQUESTOR
        self.peer_max_length = ac.max_length if requestor else rq.max_length
        self.own_max_length = rq.max_length if requestor else ac.max_length

    def _step(
        self,
        event: Event,
        *,
        pdu: bytes | None = None,
        acceptable: bool = True,
        inbound: Inbound | None = None,
    ) -> Transition:
        """Take the cell for ``event`` and carry out its effect (PS3.8 Tables 9-6..9-9).

        ``pdu`` is the PDU the action sends, when it sends one other than an A-ABORT.
        """
        transition = self.machine.apply(event, acceptable=acceptable)
        effect = transition.effect
        if effect.sends is Pdu.A_ABORT:
            source = self.abort_source_for(transition)
            reason = self.abort_reason_for(transition, inbound)
            pdu = abort_pdu(source, reason)
        if effect.sends is not None:
            if pdu is None:
                raise ValueError(f"{transition.action.name} sends {effect.sends}: no PDU given")
            self.emit(Send(pdu))
        if effect.transport is Transport.OPEN:
            self.emit(OpenTransport())
        if effect.artim in (Artim.STOP, Artim.STOP_IF_RUNNING):
            self.emit(StopArtim())
        elif effect.artim in (Artim.START, Artim.RESTART_OR_START):
            self.emit(StartArtim(self.config.artim))
        if effect.transport is Transport.CLOSE:
            self.emit(CloseTransport())
        if transition.state is not self.state and self.state in _RELEASE_RESPONSE_STATES:
            self.await_user()
        return transition

    def await_user(self) -> None:
        """The local user was given an indication to answer (Sta3, Sta8, Sta9, Sta12): it
        answers at once, or ``config.user_delay`` seconds later while the provider reads
        on, so that a PDU arriving meanwhile is an event in the state that waits (PS3.8
        9.2.1, Table 9-10)."""
        if self.config.user_delay > 0:
            self.emit(AwaitUser(self.config.user_delay))
        else:
            self.on_user_turn()

    def _flush(self) -> list[Output]:
        outputs, self._outputs = self._outputs, []
        return outputs

    def _classify_p_data(self, raw: bytes) -> Inbound:
        inbound = Inbound(Event.EVT10, raw)
        body = memoryview(raw)[PDU_HEADER_LENGTH:]
        try:
            defect = p_data_defect(body, self.contexts, self.own_max_length)
        except PDVError as exc:
            return invalid(inbound, INVALID_PARAMETER_VALUE, str(exc))
        action = cell(self.state, Event.EVT10)
        if action is None or action.name not in DATA_INDICATIONS:
            return inbound
        if defect is not None:  # PS3.8 leaves the choice to the receiver: we refuse it
            return invalid(inbound, INVALID_PARAMETER_VALUE, defect)
        try:
            message = self._reassembler.feed_p_data(body)
        except DecodeError as exc:
            return invalid(inbound, INVALID_PARAMETER_VALUE, str(exc))
        return replace(inbound, message=message)

    def _on_data(self, inbound: Inbound) -> None:
        """DT-2 / AR-6: the P-DATA indication, then the message to the user."""
        self._step(inbound.event, inbound=inbound)
        if inbound.message is not None:
            self.on_message(inbound.message)
