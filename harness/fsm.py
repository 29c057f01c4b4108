"""The DICOM Upper Layer state machine, PS3.8 section 9.2, as data.

Everything here is pure: no I/O, no clock, no threads. Sockets and timers live in the
peer and the runner; this module only says what the standard prescribes.

- :class:`State` (PS3.8 9.2.1, Tables 9-1..9-5), :class:`Event` (Table 9-10) and
  :class:`Role` (association-requestor or -acceptor).
- :class:`Action` (PS3.8 9.2.2, Tables 9-6..9-9): each of AE-1..AA-8 with its
  :class:`Effect` -- the PDU it sends, the A-ABORT source the standard fixes, what it does
  to the transport and to ARTIM, and its next state. The two actions that branch (AE-6 on
  whether the provider finds the A-ASSOCIATE-RQ acceptable, AR-8 on the association role)
  carry one effect per :class:`Branch`; every other action has the single branch
  ``ALWAYS``.
- :data:`TABLE` (PS3.8 9.2.3, Table 9-10): all 13 x 19 cells, blanks explicit.
- :func:`cell`, :func:`next_state` and :class:`Machine` (a sans-I/O machine in the style of
  h11) walk the table; :func:`acceptable_reactions` turns it into an oracle: which wire
  reactions of an implementation under test are acceptable when our peer causes an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum, IntEnum, StrEnum
from types import MappingProxyType
from typing import Final, Literal

from harness.errors import HarnessError

__all__ = [
    "ABORT_REASONS",
    "ACTIONS",
    "BLANK",
    "DATA_INDICATIONS",
    "PDU_TYPES",
    "RECEIVE_EVENTS",
    "SEND_EVENTS",
    "TABLE",
    "TOLERATED_ABORT_SOURCES",
    "UNDEFINED",
    "USER_PRIMITIVES",
    "AbortSource",
    "Action",
    "Artim",
    "Branch",
    "Effect",
    "Event",
    "Machine",
    "Pdu",
    "ProtocolError",
    "Reaction",
    "Role",
    "State",
    "Transition",
    "Transport",
    "Undefined",
    "acceptable_reactions",
    "cell",
    "next_state",
    "received_event",
    "user_primitives",
]


class State(StrEnum):
    """A state of the UL protocol machine (PS3.8 9.2.1, Tables 9-1..9-5); see ``meaning``."""

    STA1 = "Sta1"
    STA2 = "Sta2"
    STA3 = "Sta3"
    STA4 = "Sta4"
    STA5 = "Sta5"
    STA6 = "Sta6"
    STA7 = "Sta7"
    STA8 = "Sta8"
    STA9 = "Sta9"
    STA10 = "Sta10"
    STA11 = "Sta11"
    STA12 = "Sta12"
    STA13 = "Sta13"

    @property
    def meaning(self) -> str:
        """The standard's description of the state, paraphrased."""
        return _STATE_MEANINGS[self]


_STATE_MEANINGS: Final[Mapping[State, str]] = {
    # Table 9-1
    State.STA1: "Idle",
    # Table 9-2
    State.STA2: "Transport connection open, awaiting an A-ASSOCIATE-RQ PDU",
    State.STA3: "Awaiting the local A-ASSOCIATE response primitive (from the local user)",
    State.STA4: "Awaiting the transport connection opening to complete",
    State.STA5: "Awaiting an A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU",
    # Table 9-3
    State.STA6: "Association established and ready for data transfer",
    # Table 9-4
    State.STA7: "Awaiting an A-RELEASE-RP PDU",
    State.STA8: "Awaiting the local A-RELEASE response primitive (from the local user)",
    State.STA9: "Release collision, requestor side: awaiting the local A-RELEASE response",
    State.STA10: "Release collision, acceptor side: awaiting an A-RELEASE-RP PDU",
    State.STA11: "Release collision, requestor side: awaiting an A-RELEASE-RP PDU",
    State.STA12: "Release collision, acceptor side: awaiting the local A-RELEASE response",
    # Table 9-5
    State.STA13: "Awaiting the transport connection close; the association no longer exists",
}


class Event(StrEnum):
    """An event of the UL protocol machine (PS3.8 Table 9-10, first column); see ``meaning``.

    Seen from a peer: Evt3, 4, 6, 10, 12, 13, 16 and 19 are PDUs it sends; Evt2, 5 and 17
    are transport events it causes (accepting a connection, connecting, closing); Evt18 is
    the entity's ARTIM expiring, which a peer causes by staying silent; the others are
    primitives of the entity's own user, visible only through what they put on the wire.
    """

    EVT1 = "Evt1"
    EVT2 = "Evt2"
    EVT3 = "Evt3"
    EVT4 = "Evt4"
    EVT5 = "Evt5"
    EVT6 = "Evt6"
    EVT7 = "Evt7"
    EVT8 = "Evt8"
    EVT9 = "Evt9"
    EVT10 = "Evt10"
    EVT11 = "Evt11"
    EVT12 = "Evt12"
    EVT13 = "Evt13"
    EVT14 = "Evt14"
    EVT15 = "Evt15"
    EVT16 = "Evt16"
    EVT17 = "Evt17"
    EVT18 = "Evt18"
    EVT19 = "Evt19"

    @property
    def meaning(self) -> str:
        """The standard's name for the event."""
        return _EVENT_MEANINGS[self]


_EVENT_MEANINGS: Final[Mapping[Event, str]] = {
    Event.EVT1: "A-ASSOCIATE request primitive (local user)",
    Event.EVT2: "Transport connect confirmation (local transport service)",
    Event.EVT3: "A-ASSOCIATE-AC PDU received",
    Event.EVT4: "A-ASSOCIATE-RJ PDU received",
    Event.EVT5: "Transport connection indication (local transport service)",
    Event.EVT6: "A-ASSOCIATE-RQ PDU received",
    Event.EVT7: "A-ASSOCIATE response primitive (accept)",
    Event.EVT8: "A-ASSOCIATE response primitive (reject)",
    Event.EVT9: "P-DATA request primitive",
    Event.EVT10: "P-DATA-TF PDU received",
    Event.EVT11: "A-RELEASE request primitive",
    Event.EVT12: "A-RELEASE-RQ PDU received",
    Event.EVT13: "A-RELEASE-RP PDU received",
    Event.EVT14: "A-RELEASE response primitive",
    Event.EVT15: "A-ABORT request primitive",
    Event.EVT16: "A-ABORT PDU received",
    Event.EVT17: "Transport connection closed indication (local transport service)",
    Event.EVT18: "ARTIM timer expired",
    Event.EVT19: "Unrecognized or invalid PDU received",
}


class Role(StrEnum):
    """The association role of the UL entity whose state a :class:`State` describes.

    PS3.8 9.2 speaks of the association-requestor and the association-acceptor; the role
    matters to the state table only in AR-8 (Table 9-8), the release collision.
    """

    REQUESTOR = "requestor"
    ACCEPTOR = "acceptor"


class Pdu(StrEnum):
    """The seven PDUs of PS3.8 9.3, by the names the standard gives them."""

    A_ASSOCIATE_RQ = "A-ASSOCIATE-RQ"
    A_ASSOCIATE_AC = "A-ASSOCIATE-AC"
    A_ASSOCIATE_RJ = "A-ASSOCIATE-RJ"
    P_DATA_TF = "P-DATA-TF"
    A_RELEASE_RQ = "A-RELEASE-RQ"
    A_RELEASE_RP = "A-RELEASE-RP"
    A_ABORT = "A-ABORT"


class AbortSource(IntEnum):
    """The Source field of an A-ABORT PDU (PS3.8 Table 9-26); 1 is reserved."""

    SERVICE_USER = 0
    SERVICE_PROVIDER = 2


#: Acceptable A-ABORT Reason/Diag values per source (PS3.8 Table 9-26). With source 0 the
#: field is not significant, so any byte will do; with source 2 it is one of 0
#: reason-not-specified, 1 unrecognized-PDU, 2 unexpected-PDU, 4 unrecognized-PDU parameter,
#: 5 unexpected-PDU parameter, 6 invalid-PDU-parameter value (3 is reserved). The standard
#: ties no condition to a reason, so an oracle accepts any of them.
ABORT_REASONS: Final[Mapping[AbortSource, frozenset[int]]] = MappingProxyType(
    {
        AbortSource.SERVICE_USER: frozenset(range(256)),
        AbortSource.SERVICE_PROVIDER: frozenset({0, 1, 2, 4, 5, 6}),
    }
)


class Transport(StrEnum):
    """What an action does to the transport connection (PS3.8 Tables 9-6..9-9)."""

    NONE = "none"
    OPEN = "open"  # AE-1: TRANSPORT CONNECT request
    ACCEPT = "accept"  # AE-5: transport connection response
    CLOSE = "close"  # AE-4, AR-3, AA-2, AA-3


class Artim(StrEnum):
    """What an action does to the ARTIM timer (PS3.8 9.1.5, Tables 9-6..9-9)."""

    NONE = "none"
    START = "start"
    STOP = "stop"
    #: (Re)started from now whether or not it was running: AA-1 "start (or restart if
    #: already started)", and AE-6's reject branch, which stops it and then starts it.
    RESTART_OR_START = "restart-or-start"
    STOP_IF_RUNNING = "stop-if-running"


class Branch(StrEnum):
    """The condition under which an action has a given :class:`Effect`.

    Only AE-6 (Table 9-6: whether the service-provider finds the A-ASSOCIATE-RQ acceptable)
    and AR-8 (Table 9-8: association-requestor or not) branch; every other action has the
    single branch ``ALWAYS``.
    """

    ALWAYS = "always"
    RQ_ACCEPTABLE = "A-ASSOCIATE-RQ acceptable to the service-provider"
    RQ_NOT_ACCEPTABLE = "A-ASSOCIATE-RQ not acceptable to the service-provider"
    REQUESTOR = "association-requestor"
    ACCEPTOR = "association-acceptor"


def _holding(role: Role, *, acceptable: bool) -> frozenset[Branch]:
    """The branch conditions that hold for an entity of ``role`` and an RQ verdict."""
    return frozenset(
        {
            Branch.ALWAYS,
            Branch.REQUESTOR if role is Role.REQUESTOR else Branch.ACCEPTOR,
            Branch.RQ_ACCEPTABLE if acceptable else Branch.RQ_NOT_ACCEPTABLE,
        }
    )


@dataclass(frozen=True)
class Effect:
    """What an action does on one branch: the wire, the transport, ARTIM, the next state.

    ``abort_source`` is set only where the standard fixes it (AA-1: service-user, AA-8:
    service-provider); AA-7 sends an A-ABORT without stating the source.
    """

    next_state: State
    sends: Pdu | None = None
    abort_source: AbortSource | None = None
    transport: Transport = Transport.NONE
    artim: Artim = Artim.NONE


@dataclass(frozen=True, eq=False)
class Action:
    """One action of PS3.8 9.2.2 (Tables 9-6..9-9), e.g. ``AE-1``.

    ``definition`` paraphrases the standard; ``effects`` holds one :class:`Effect` per
    :class:`Branch` (a single ``ALWAYS`` entry unless the action branches).
    """

    name: str
    definition: str
    effects: Mapping[Branch, Effect]

    @property
    def reference(self) -> str:
        """The PS3.8 table that defines the action."""
        table = {"AE": "9-6", "DT": "9-7", "AR": "9-8", "AA": "9-9"}[self.name[:2]]
        return f"PS3.8 Table {table}"

    def effect(self, role: Role, *, acceptable: bool = True) -> Effect:
        """The effect for an entity of ``role``; ``acceptable`` decides AE-6's branch."""
        holding = _holding(role, acceptable=acceptable)
        (effect,) = (e for branch, e in self.effects.items() if branch in holding)
        return effect


def _action(
    name: str,
    definition: str,
    next_state: State,
    *,
    sends: Pdu | None = None,
    abort_source: AbortSource | None = None,
    transport: Transport = Transport.NONE,
    artim: Artim = Artim.NONE,
) -> Action:
    """An action without branches."""
    effect = Effect(next_state, sends, abort_source, transport, artim)
    return Action(name, definition, MappingProxyType({Branch.ALWAYS: effect}))


# Table 9-6: association establishment related actions.
AE_1 = _action(
    "AE-1",
    "Issue a TRANSPORT CONNECT request primitive to the local transport service",
    State.STA4,
    transport=Transport.OPEN,
)
AE_2 = _action("AE-2", "Send the A-ASSOCIATE-RQ PDU", State.STA5, sends=Pdu.A_ASSOCIATE_RQ)
AE_3 = _action("AE-3", "Issue the A-ASSOCIATE confirmation (accept) primitive", State.STA6)
AE_4 = _action(
    "AE-4",
    "Issue the A-ASSOCIATE confirmation (reject) primitive and close the transport connection",
    State.STA1,
    transport=Transport.CLOSE,
)
AE_5 = _action(
    "AE-5",
    "Issue the transport connection response primitive and start ARTIM",
    State.STA2,
    transport=Transport.ACCEPT,
    artim=Artim.START,
)
AE_6 = Action(
    "AE-6",
    "Stop ARTIM; if the service-provider finds the A-ASSOCIATE-RQ acceptable, issue the"
    " A-ASSOCIATE indication primitive (Sta3), otherwise send an A-ASSOCIATE-RJ PDU and"
    " start ARTIM (Sta13)",
    MappingProxyType(
        {
            Branch.RQ_ACCEPTABLE: Effect(State.STA3, artim=Artim.STOP),
            Branch.RQ_NOT_ACCEPTABLE: Effect(
                State.STA13, sends=Pdu.A_ASSOCIATE_RJ, artim=Artim.RESTART_OR_START
            ),
        }
    ),
)
AE_7 = _action("AE-7", "Send the A-ASSOCIATE-AC PDU", State.STA6, sends=Pdu.A_ASSOCIATE_AC)
AE_8 = _action(
    "AE-8",
    "Send the A-ASSOCIATE-RJ PDU and start ARTIM",
    State.STA13,
    sends=Pdu.A_ASSOCIATE_RJ,
    artim=Artim.START,
)

# Table 9-7: data transfer related actions.
DT_1 = _action("DT-1", "Send the P-DATA-TF PDU", State.STA6, sends=Pdu.P_DATA_TF)
DT_2 = _action("DT-2", "Issue the P-DATA indication primitive", State.STA6)

# Table 9-8: association release related actions.
AR_1 = _action("AR-1", "Send the A-RELEASE-RQ PDU", State.STA7, sends=Pdu.A_RELEASE_RQ)
AR_2 = _action("AR-2", "Issue the A-RELEASE indication primitive", State.STA8)
AR_3 = _action(
    "AR-3",
    "Issue the A-RELEASE confirmation primitive and close the transport connection",
    State.STA1,
    transport=Transport.CLOSE,
)
AR_4 = _action(
    "AR-4",
    "Send the A-RELEASE-RP PDU and start ARTIM",
    State.STA13,
    sends=Pdu.A_RELEASE_RP,
    artim=Artim.START,
)
AR_5 = _action("AR-5", "Stop ARTIM", State.STA1, artim=Artim.STOP)
AR_6 = _action("AR-6", "Issue the P-DATA indication primitive", State.STA7)
AR_7 = _action("AR-7", "Send the P-DATA-TF PDU", State.STA8, sends=Pdu.P_DATA_TF)
AR_8 = Action(
    "AR-8",
    "Issue the A-RELEASE indication primitive (release collision); next state Sta9 for the"
    " association-requestor, Sta10 otherwise",
    MappingProxyType({Branch.REQUESTOR: Effect(State.STA9), Branch.ACCEPTOR: Effect(State.STA10)}),
)
AR_9 = _action("AR-9", "Send the A-RELEASE-RP PDU", State.STA11, sends=Pdu.A_RELEASE_RP)
AR_10 = _action("AR-10", "Issue the A-RELEASE confirmation primitive", State.STA12)

# Table 9-9: association abort related actions.
AA_1 = _action(
    "AA-1",
    "Send an A-ABORT PDU (service-user source) and start ARTIM, or restart it if running",
    State.STA13,
    sends=Pdu.A_ABORT,
    abort_source=AbortSource.SERVICE_USER,
    artim=Artim.RESTART_OR_START,
)
AA_2 = _action(
    "AA-2",
    "Stop ARTIM if running and close the transport connection",
    State.STA1,
    transport=Transport.CLOSE,
    artim=Artim.STOP_IF_RUNNING,
)
AA_3 = _action(
    "AA-3",
    "Issue the A-ABORT indication (service-user initiated abort) or the A-P-ABORT indication"
    " (service-provider initiated abort) and close the transport connection",
    State.STA1,
    transport=Transport.CLOSE,
)
AA_4 = _action("AA-4", "Issue the A-P-ABORT indication primitive", State.STA1)
AA_5 = _action("AA-5", "Stop ARTIM", State.STA1, artim=Artim.STOP)
AA_6 = _action("AA-6", "Ignore the PDU", State.STA13)
AA_7 = _action("AA-7", "Send an A-ABORT PDU", State.STA13, sends=Pdu.A_ABORT)
AA_8 = _action(
    "AA-8",
    "Send an A-ABORT PDU (service-provider source), issue the A-P-ABORT indication and start ARTIM",
    State.STA13,
    sends=Pdu.A_ABORT,
    abort_source=AbortSource.SERVICE_PROVIDER,
    artim=Artim.START,
)

#: Every action of Tables 9-6..9-9 by name ("AE-1" .. "AA-8"), in the standard's order.
ACTIONS: Final[Mapping[str, Action]] = MappingProxyType(
    {
        a.name: a
        for a in (
            *(AE_1, AE_2, AE_3, AE_4, AE_5, AE_6, AE_7, AE_8),
            *(DT_1, DT_2),
            *(AR_1, AR_2, AR_3, AR_4, AR_5, AR_6, AR_7, AR_8, AR_9, AR_10),
            *(AA_1, AA_2, AA_3, AA_4, AA_5, AA_6, AA_7, AA_8),
        )
    }
)

#: The actions that issue the P-DATA indication (PS3.8 Tables 9-7, 9-8): the cells where
#: a received P-DATA-TF's content is read and passed on; elsewhere it is unexpected
#: (AA-1, AA-8) or ignored (AA-6) whatever it holds.
DATA_INDICATIONS: Final = frozenset({"DT-2", "AR-6"})

#: A blank cell of Table 9-10: the standard defines no action for that state and event.
BLANK: Final = None

# PS3.8 Table 9-10, laid out as in the standard: one row per event, one column per state.
# fmt: off
_GRID: Final[Mapping[int, tuple[Action | None, ...]]] = {
    #    Sta1   Sta2   Sta3   Sta4   Sta5   Sta6   Sta7   Sta8   Sta9   Sta10  Sta11  Sta12  Sta13
    1:  (AE_1,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK),
    2:  (BLANK, BLANK, BLANK, AE_2,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK),
    3:  (BLANK, AA_1,  AA_8,  BLANK, AE_3,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_6),
    4:  (BLANK, AA_1,  AA_8,  BLANK, AE_4,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_6),
    5:  (AE_5,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK),
    6:  (BLANK, AE_6,  AA_8,  BLANK, AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_7),
    7:  (BLANK, BLANK, AE_7,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK),
    8:  (BLANK, BLANK, AE_8,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK),
    9:  (BLANK, BLANK, BLANK, BLANK, BLANK, DT_1,  BLANK, AR_7,  BLANK, BLANK, BLANK, BLANK, BLANK),
    10: (BLANK, AA_1,  AA_8,  BLANK, AA_8,  DT_2,  AR_6,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_6),
    11: (BLANK, BLANK, BLANK, BLANK, BLANK, AR_1,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK),
    12: (BLANK, AA_1,  AA_8,  BLANK, AA_8,  AR_2,  AR_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_6),
    13: (BLANK, AA_1,  AA_8,  BLANK, AA_8,  AA_8,  AR_3,  AA_8,  AA_8,  AR_10, AR_3,  AA_8,  AA_6),
    14: (BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, AR_4,  AR_9,  BLANK, BLANK, AR_4,  BLANK),
    15: (BLANK, BLANK, AA_1,  AA_2,  AA_1,  AA_1,  AA_1,  AA_1,  AA_1,  AA_1,  AA_1,  AA_1,  BLANK),
    16: (BLANK, AA_2,  AA_3,  BLANK, AA_3,  AA_3,  AA_3,  AA_3,  AA_3,  AA_3,  AA_3,  AA_3,  AA_2),
    17: (BLANK, AA_5,  AA_4,  AA_4,  AA_4,  AA_4,  AA_4,  AA_4,  AA_4,  AA_4,  AA_4,  AA_4,  AR_5),
    18: (BLANK, AA_2,  BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, BLANK, AA_2),
    19: (BLANK, AA_1,  AA_8,  BLANK, AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_8,  AA_7),
}
# fmt: on


def _table() -> Mapping[Event, Mapping[State, Action | None]]:
    """:data:`_GRID` keyed by :class:`Event` and :class:`State`, checked to be complete."""
    if sorted(_GRID) != list(range(1, len(Event) + 1)):
        raise AssertionError("PS3.8 Table 9-10 needs exactly one row per event")
    return MappingProxyType(
        {
            Event(f"Evt{n}"): MappingProxyType(dict(zip(State, row, strict=True)))
            for n, row in _GRID.items()
        }
    )


#: PS3.8 Table 9-10: ``TABLE[event][state]`` is the action, or :data:`BLANK`.
TABLE: Final = _table()


class ProtocolError(HarnessError):
    """An event that Table 9-10 leaves blank for the current state."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(
            f"{event} ({event.meaning}) is undefined in {state} ({state.meaning}):"
            " blank cell of PS3.8 Table 9-10"
        )
        self.state = state
        self.event = event


def cell(state: State, event: Event) -> Action | None:
    """The action of Table 9-10 for ``state`` and ``event``, or None for a blank cell."""
    return TABLE[event][state]


def _defined_cell(state: State, event: Event) -> Action:
    action = cell(state, event)
    if action is None:
        raise ProtocolError(state, event)
    return action


def next_state(state: State, event: Event, role: Role, *, acceptable: bool = True) -> State:
    """The state after ``event`` in ``state`` (PS3.8 9.2.2-9.2.3).

    ``role`` decides AR-8's branch and ``acceptable`` AE-6's. Raises :class:`ProtocolError`
    on a blank cell.
    """
    return _defined_cell(state, event).effect(role, acceptable=acceptable).next_state


#: PDU-type byte (PS3.8 9.3, byte 1 of every PDU) to PDU.
PDU_TYPES: Final[Mapping[int, Pdu]] = MappingProxyType(
    {
        0x01: Pdu.A_ASSOCIATE_RQ,
        0x02: Pdu.A_ASSOCIATE_AC,
        0x03: Pdu.A_ASSOCIATE_RJ,
        0x04: Pdu.P_DATA_TF,
        0x05: Pdu.A_RELEASE_RQ,
        0x06: Pdu.A_RELEASE_RP,
        0x07: Pdu.A_ABORT,
    }
)

#: The event a valid PDU causes at the entity that receives it (Table 9-10).
RECEIVE_EVENTS: Final[Mapping[Pdu, Event]] = MappingProxyType(
    {
        Pdu.A_ASSOCIATE_RQ: Event.EVT6,
        Pdu.A_ASSOCIATE_AC: Event.EVT3,
        Pdu.A_ASSOCIATE_RJ: Event.EVT4,
        Pdu.P_DATA_TF: Event.EVT10,
        Pdu.A_RELEASE_RQ: Event.EVT12,
        Pdu.A_RELEASE_RP: Event.EVT13,
        Pdu.A_ABORT: Event.EVT16,
    }
)

#: The local event on which an entity sends each PDU: its user's primitive, or for the
#: A-ASSOCIATE-RQ the transport connect confirmation that follows the user's A-ASSOCIATE
#: request (Evt1, AE-1; then Evt2, AE-2). An A-ABORT also goes out as the provider's own
#: reaction to a received event (AA-1 in Sta2, AA-7, AA-8): take that from the table.
SEND_EVENTS: Final[Mapping[Pdu, Event]] = MappingProxyType(
    {
        Pdu.A_ASSOCIATE_RQ: Event.EVT2,
        Pdu.A_ASSOCIATE_AC: Event.EVT7,
        Pdu.A_ASSOCIATE_RJ: Event.EVT8,
        Pdu.P_DATA_TF: Event.EVT9,
        Pdu.A_RELEASE_RQ: Event.EVT11,
        Pdu.A_RELEASE_RP: Event.EVT14,
        Pdu.A_ABORT: Event.EVT15,
    }
)


def received_event(pdu_type: int, *, valid: bool = True) -> Event:
    """The event caused by receiving a PDU whose type byte is ``pdu_type``.

    An unknown type, or a PDU of a known type that could not be parsed (``valid=False``),
    is Evt19, "unrecognized or invalid PDU" (Table 9-10).
    """
    pdu = PDU_TYPES.get(pdu_type)
    if pdu is None or not valid:
        return Event.EVT19
    return RECEIVE_EVENTS[pdu]


@dataclass(frozen=True)
class Transition:
    """One move of a :class:`Machine`: the cell taken and the effect of its action."""

    state: State
    event: Event
    action: Action
    effect: Effect


class Machine:
    """The UL protocol machine of one entity, sans I/O (in the style of h11).

    Feed it events with :meth:`apply`; it answers with the :class:`Transition` whose
    ``effect`` the caller carries out (send a PDU, close the transport, run ARTIM). It moves
    ``state`` and appends every cell it takes to ``cells``. A blank cell raises
    :class:`ProtocolError` and leaves the machine as it was.

    It drives the built-in reference peer (our own entity) and tracks the presumed state of
    an implementation under test (``role`` is then the SUT's role).
    """

    def __init__(self, role: Role, state: State = State.STA1) -> None:
        self.role = role
        self.state = state
        self.cells: list[tuple[State, Event]] = []

    def apply(self, event: Event, *, acceptable: bool = True) -> Transition:
        """Take the cell (``state``, ``event``); ``acceptable`` decides AE-6's branch."""
        action = _defined_cell(self.state, event)
        effect = action.effect(self.role, acceptable=acceptable)
        transition = Transition(self.state, event, action, effect)
        self.cells.append((self.state, event))
        self.state = effect.next_state
        return transition


class Undefined(Enum):
    """The answer of :func:`acceptable_reactions` for a blank cell of Table 9-10."""

    UNDEFINED = "undefined by the standard (blank cell of PS3.8 Table 9-10)"


UNDEFINED: Final = Undefined.UNDEFINED

#: Harness policy, not the standard: A-ABORT sources accepted, as ``non-strict``, besides
#: the one an action fixes, each with the reason. AA-1 says "service-user source" (0), yet
#: in Sta2 it answers a wrong first PDU: the provider-detected protocol error that AA-8
#: answers with source 2 from Sta3 on, so 2 is a defensible reading (PS3.8 digest, A35).
TOLERATED_ABORT_SOURCES: Final[Mapping[str, Mapping[AbortSource, str]]] = MappingProxyType(
    {
        "AA-1": MappingProxyType(
            {
                AbortSource.SERVICE_PROVIDER: "AA-1 (PS3.8 Table 9-9) sends the A-ABORT with"
                " service-user source (0); service-provider source (2) is tolerated"
            }
        )
    }
)

#: The primitives of the entity's own user that put something on the wire (PS3.8 9.2.3,
#: Table 9-10): the A-ASSOCIATE response, accept (Evt7) or reject (Evt8), the P-DATA
#: request (Evt9), the A-RELEASE request (Evt11) and response (Evt14), the A-ABORT request
#: (Evt15). The user may issue each on its own in any state whose cell for it is defined
#: (:func:`user_primitives`). Evt1, the A-ASSOCIATE request, opens another connection.
#: The answers to an indication come first: the likeliest reaction leads where a list of
#: them is in this order (:mod:`harness.tracker` presumes the first when it cannot wait).
USER_PRIMITIVES: Final = (Event.EVT7, Event.EVT8, Event.EVT14, Event.EVT9, Event.EVT11, Event.EVT15)

#: States where the entity has passed an indication to its user and waits for the answer:
#: Sta3 (the A-ASSOCIATE indication: AE-7 AC or AE-8 RJ), Sta8, Sta9 and Sta12 (the
#: A-RELEASE indication: AR-4 or AR-9 RP; in Sta8 the user may send data first, AR-7).
#: Silence is no answer there; any primitive of its user defined there is (an A-ABORT,
#: AA-1, included).
_AWAITING_USER: Final = frozenset({State.STA3, State.STA8, State.STA9, State.STA12})


def user_primitives(state: State) -> tuple[Event, ...]:
    """The primitives of :data:`USER_PRIMITIVES` that Table 9-10 defines in ``state``."""
    return tuple(event for event in USER_PRIMITIVES if cell(state, event) is not None)


@dataclass(frozen=True)
class Reaction:
    """One acceptable wire reaction of an entity to an event.

    ``actions`` is the chain that produces it, e.g. ``("AR-2", "AR-4")``: the cell's action,
    then, where it sends nothing and leaves the entity where its user may act, the user's
    first primitive there (its answer, where the action passed it an indication). ``sends``
    is the PDU that shows on the wire (None: no PDU); for an A-ABORT, ``abort_source`` and
    the acceptable ``abort_reasons``. ``closes_transport``: the entity closes the
    connection. ``starts_artim``: it (re)starts ARTIM, so it will close by itself if the
    peer stays silent for that long. ``then``: its state afterwards. ``tolerance`` is None
    for what the standard prescribes, else why the harness accepts it anyway (a
    ``non-strict`` verdict).
    """

    actions: tuple[str, ...]
    sends: Pdu | None
    closes_transport: bool
    starts_artim: bool
    then: State
    abort_source: AbortSource | None = None
    abort_reasons: frozenset[int] = frozenset()
    tolerance: str | None = None

    @property
    def strict(self) -> bool:
        """Whether this is what the standard prescribes (not merely tolerated)."""
        return self.tolerance is None


_Step = tuple[Action, Effect]


def _chains(action: Action, effect: Effect, role: Role) -> list[tuple[_Step, ...]]:
    """The action's effect alone (unless its user must answer), and followed by each
    primitive its user may issue in the state reached, where the action sends nothing."""
    first = (action, effect)
    answers = user_primitives(effect.next_state) if effect.sends is None else ()
    alone = [] if answers and effect.next_state in _AWAITING_USER else [(first,)]
    replies = (_defined_cell(effect.next_state, event) for event in answers)
    return alone + [(first, (reply, reply.effect(role))) for reply in replies]


def _reactions(chain: tuple[_Step, ...], *, tolerant: bool) -> list[Reaction]:
    """The wire reactions of a chain of actions: one per acceptable A-ABORT source.
    ``tolerant``: the chain answers a received event, so the sources of
    :data:`TOLERATED_ABORT_SOURCES` apply to an A-ABORT its first action sends."""
    senders = [step for step in chain if step[1].sends is not None]
    reaction = Reaction(
        actions=tuple(action.name for action, _ in chain),
        sends=senders[0][1].sends if senders else None,
        closes_transport=any(e.transport is Transport.CLOSE for _, e in chain),
        starts_artim=any(e.artim in (Artim.START, Artim.RESTART_OR_START) for _, e in chain),
        then=chain[-1][1].next_state,
    )
    if reaction.sends is not Pdu.A_ABORT:
        return [reaction]
    action, effect = senders[0]

    def aborting(source: AbortSource, tolerance: str | None = None) -> Reaction:
        reasons = ABORT_REASONS[source]
        return replace(reaction, abort_source=source, abort_reasons=reasons, tolerance=tolerance)

    strict = [effect.abort_source] if effect.abort_source is not None else list(AbortSource)
    own = tolerant and senders[0] is chain[0]
    tolerated = TOLERATED_ABORT_SOURCES.get(action.name, {}) if own else {}
    return [aborting(source) for source in strict] + [
        aborting(source, why) for source, why in tolerated.items()
    ]


def acceptable_reactions(
    state: State, event: Event, role: Role
) -> tuple[Reaction, ...] | Literal[Undefined.UNDEFINED]:
    """The wire reactions Table 9-10 allows an entity in ``state`` of ``role`` on ``event``.

    Meant for the event our peer causes in the implementation under test: a PDU we send
    (Evt3, 4, 6, 10, 12, 13, 16, 19), a connect (Evt5) or close (Evt17), accepting its
    connection (Evt2), or silence until its ARTIM expires (Evt18). For its own primitives
    the answer is what they put on the wire. A blank cell answers :data:`UNDEFINED`.

    Where the standard leaves a choice, every alternative is returned:

    - AE-6 (RQ in Sta2): the provider may reject at once (RJ), or pass the RQ to its user,
      who answers AC (AE-7) or RJ (AE-8), or aborts (Evt15, AA-1). "Nothing" is not a
      final answer.
    - AR-2 (release RQ in Sta6): the user answers RP (AR-4); it may send P-DATA-TF first
      (AR-7, staying in Sta8), or abort. AR-8 (collision in Sta7): the requestor's user
      answers RP (AR-9); the acceptor sends nothing and waits for the peer's RP (Sta10).
      AR-10: RP.
    - An action that sends nothing and leaves the entity where its user may act (DT-2 and
      AE-3: Sta6; AR-6: Sta7; AR-8: Sta10): nothing, or the user's first primitive there
      (in Sta6 a P-DATA-TF, DT-1, e.g. the answer to the message just received; an
      A-RELEASE-RQ, AR-1; an A-ABORT, AA-1). What the user does after a reaction that
      sends is its own cell (:func:`user_primitives` of the state reached).
    - A-ABORT: the source fixed by the action (AA-1: 0, AA-8: 2) or either source where it
      is unstated (AA-7), each with the reasons of :data:`ABORT_REASONS`; plus, for the
      action of the cell of a received event, the sources of
      :data:`TOLERATED_ABORT_SOURCES`, marked with their ``tolerance`` (never for the
      A-ABORT of the user's own Evt15).

    A reaction ending in Sta13 leaves the close to the peer, or to ARTIM (Evt18, AA-2);
    when an entity closes sooner is a question of its ARTIM value, for the scenario to
    judge, not of the table.
    """
    action = cell(state, event)
    if action is None:
        return UNDEFINED
    effects = dict.fromkeys(action.effect(role, acceptable=ok) for ok in (True, False))
    tolerant = event not in USER_PRIMITIVES
    return tuple(
        reaction
        for effect in effects
        for chain in _chains(action, effect, role)
        for reaction in _reactions(chain, tolerant=tolerant)
    )
