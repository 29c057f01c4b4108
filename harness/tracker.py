"""The presumed Table 9-10 state of the implementation under test, read off the wire.

The fake peer cannot see inside the SUT, but every event it causes there is known (the
PDU it sent, its connect or close) and every reaction shows on the wire (a PDU, a close,
or nothing). :class:`Tracker` replays both through :mod:`harness.fsm`: each event we
cause takes a cell of the SUT's table, the reaction we then observe picks among the
acceptable reactions of that cell (:func:`harness.fsm.acceptable_reactions`), and the
cells taken are recorded for the coverage report, each with the action the SUT was seen
to take there (:class:`Cell`). The SUT's user acts on its own too (PS3.8 Table 9-10:
Evt7, Evt8 in Sta3; Evt9 in Sta6 and Sta8; Evt11 in Sta6; Evt14 in Sta8, Sta9, Sta12;
Evt15 from Sta3 to Sta12): a PDU that one of its primitives defined in the presumed state
sends is that primitive's own cell, after the reaction to our event, instead of it where
the cell's action passed the event to the user (:func:`harness.fsm.acceptable_reactions`);
a P-DATA-TF, which leaves the SUT's state as it was, also before it (its user was
first). When the SUT does something the table does not allow there, the tracker says so
and stops presuming (``lost``). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

from harness.fsm import (
    SEND_EVENTS,
    UNDEFINED,
    Action,
    Branch,
    Effect,
    Event,
    Pdu,
    Reaction,
    Role,
    State,
    acceptable_reactions,
    cell,
    next_state,
    user_primitives,
)


@dataclass(frozen=True)
class Seen:
    """What the SUT did, as far as the table cares: a PDU, a close, or nothing."""

    pdu: Pdu | None = None
    closed: bool = False
    abort_source: int | None = None
    abort_reason: int | None = None


NOTHING = Seen()
CLOSED = Seen(closed=True)

#: The action recorded for a cell whose event the SUT answered in a way the table does
#: not allow there (the tracker is then ``lost``).
DEVIATED: Final = "deviated"
#: The action recorded for a cell whose reaction was never seen: the next event came, or
#: the exchange ended, while the table still expected the SUT to put something on the wire.
UNOBSERVED: Final = "unobserved"

_BRANCH_NAMES: Final = {
    Branch.RQ_ACCEPTABLE: "acceptable",
    Branch.RQ_NOT_ACCEPTABLE: "not acceptable",
    Branch.REQUESTOR: "requestor",
    Branch.ACCEPTOR: "acceptor",
}


class Cell(NamedTuple):
    """A cell of PS3.8 Table 9-10 the SUT went through, and the action it was seen to take
    there: the action's name ("AA-8"); for an action that branches, with the branch
    ("AE-6 acceptable", "AR-8 requestor"); or :data:`DEVIATED` / :data:`UNOBSERVED`."""

    state: State
    event: Event
    action: str


def action_label(action: Action, effect: Effect) -> str:
    """The name of ``action``, with the branch whose effect is ``effect`` if it branches
    (PS3.8 Tables 9-6 and 9-8: AE-6 and AR-8)."""
    branch = next(b for b, e in action.effects.items() if e == effect)
    return action.name if branch is Branch.ALWAYS else f"{action.name} {_BRANCH_NAMES[branch]}"


def reaction_matches(reaction: Reaction, seen: Seen) -> bool:
    """Whether ``seen`` is ``reaction``: the same PDU (A-ABORT source and reason included),
    or no PDU and the same transport outcome."""
    if seen.pdu is not None:
        if reaction.sends != seen.pdu:
            return False
        if seen.pdu is not Pdu.A_ABORT:
            return True
        return seen.abort_source == reaction.abort_source and (
            seen.abort_reason in reaction.abort_reasons
        )
    return reaction.sends is None and reaction.closes_transport == seen.closed


@dataclass
class Pending:
    """An event we caused whose reaction has not been observed yet."""

    state: State
    events: tuple[Event, ...]
    """The event caused; with Evt19 after it where PS3.8 leaves the SUT free to read our
    PDU as valid or as invalid (:meth:`Tracker.caused`)."""
    reactions: tuple[Reaction, ...]
    """The reactions of each event's cell, in the order of ``events``."""
    causes: tuple[Event, ...]
    """The event of each reaction."""
    index: int = -1
    """Where its cell is in :attr:`Tracker.cells`, to record the action once seen."""
    taken: Reaction | None = None
    """The reaction it was seen to draw."""

    @property
    def event(self) -> Event:
        """The event caused (the SUT's own reading of our PDU)."""
        return self.events[0]

    def event_of(self, reaction: Reaction) -> Event:
        """The event whose cell has ``reaction``."""
        return self.causes[self.reactions.index(reaction)]


@dataclass
class Tracker:
    """The SUT's presumed state and the cells of Table 9-10 taken so far."""

    role: Role
    state: State = State.STA1
    cells: list[Cell] = field(default_factory=list)
    pending: Pending | None = None
    last: Pending | None = None
    lost: str = ""
    in_flight: tuple[Pending, Reaction] | None = None
    """An event whose reaction we presumed when we caused the next one before seeing it
    (two PDUs in one write): that reaction may still show, ahead of the next one's."""

    def caused(self, event: Event, *alternatives: Event) -> None:
        """We caused ``event`` in the SUT, or one of ``alternatives`` where PS3.8 leaves it
        free to read our PDU either way; :attr:`pending` then holds what it may do."""
        if self.lost:
            return
        self.settle()
        events = (event, *alternatives)
        causes: list[Event] = []
        reactions: list[Reaction] = []
        for reading in events:
            allowed = acceptable_reactions(self.state, reading, self.role)
            if allowed is not UNDEFINED:
                causes += [reading] * len(allowed)
                reactions += allowed
        if not reactions:
            self.lost = f"{event} in {self.state} is a blank cell of PS3.8 Table 9-10"
            return
        index = len(self.cells)
        self.pending = self.last = Pending(
            self.state, events, tuple(reactions), tuple(causes), index
        )
        self.cells.append(Cell(self.state, event, UNOBSERVED))
        if all(reaction_matches(r, NOTHING) for r in reactions):
            self._take(reactions[0])

    def observed(self, seen: Seen) -> Reaction | None:
        """The SUT did ``seen``; returns the reaction of the table it was, if any."""
        if self.lost:
            return None
        if self.in_flight is not None and seen != NOTHING:
            earlier, presumed = self.in_flight
            self.in_flight = None
            if reaction_matches(presumed, seen):
                self._label(earlier, presumed)
                earlier.taken = presumed
                return presumed
        if self.pending is not None:
            for reaction in self.pending.reactions:
                if reaction_matches(reaction, seen):
                    self._take(reaction)
                    return reaction
            if seen == NOTHING:
                self._user_holds(self.pending)
                return None
            if self._user_first(self.pending, seen):
                return None
            self.cells[self.pending.index] = self.cells[self.pending.index]._replace(
                action=DEVIATED
            )
            self.lost = (
                f"the SUT's reaction to {self.pending.event} in {self.pending.state} "
                "is none the table allows"
            )
            self.pending = None
            return None
        self._spontaneous(seen)
        return None

    def _user_holds(self, pending: Pending) -> None:
        """Silence where the SUT's reaction would be its user's answer (an A-ASSOCIATE-AC
        or -RJ after AE-6, an A-RELEASE-RP after AR-2, AR-8 or AR-10, PS3.8 Table 9-10):
        its user holds the answer (the ``slow_user`` capability, PS3.8 9.2.1), so the SUT
        waits in the state the cell's action left it in (Sta3, Sta8, Sta9, Sta12). The
        events we cause next are taken there, and the answer, if it comes, is its user's
        own primitive (Evt7, Evt8, Evt14). Without this rule, an event caused before the
        answer shows is taken where the answer leads (:meth:`settle`)."""
        holding = [r for r in pending.reactions if len(r.actions) > 1]
        if holding:
            self._label(pending, holding[0])
            self.state = self._first_effect(pending, holding[0]).next_state
            self.pending = None

    def _user_first(self, pending: Pending, seen: Seen) -> bool:
        """Whether ``seen`` is a PDU the SUT's user sent before the SUT took our event,
        with a primitive that leaves it in the state it was: a P-DATA-TF (Evt9: DT-1 in
        Sta6, AR-7 in Sta8, PS3.8 Table 9-10), e.g. the answer to an earlier message. It
        takes its own cell, and our event's reaction is still awaited. A primitive that
        moves the SUT (its user's A-ABORT, Evt15, AA-1; an A-RELEASE-RQ, Evt11) is not let
        go first: on the wire it cannot be told from the SUT taking our event wrongly (an
        A-ABORT of source 0 where AA-8 owes source 2), so it is judged as the reaction."""
        event = self._user_event(seen)
        if event is None or next_state(self.state, event, self.role) is not self.state:
            return False
        ours = self.cells.pop(pending.index)
        self._record(event)
        pending.index = len(self.cells)
        self.cells.append(ours)
        return True

    def _user_event(self, seen: Seen) -> Event | None:
        """The SUT's own event that puts ``seen`` on the wire in its presumed state: a
        primitive of its user (:data:`harness.fsm.SEND_EVENTS`) whose cell there sends that
        PDU (an A-ABORT: AA-1, service-user source), if any."""
        if seen.pdu is None:
            return None
        event = SEND_EVENTS[seen.pdu]
        allowed = acceptable_reactions(self.state, event, self.role)
        if allowed is UNDEFINED or not any(reaction_matches(r, seen) for r in allowed):
            return None
        return event

    def settle(self) -> None:
        """A new event comes before the last one's reaction showed: presume a silent one
        (else the first, which may still show: :attr:`in_flight`), so that :attr:`state`
        is where the new event finds the SUT."""
        if self.pending is None:
            return
        silent = [r for r in self.pending.reactions if reaction_matches(r, NOTHING)]
        if silent:
            self._take(silent[0])
        else:
            self.in_flight = (self.pending, self.pending.reactions[0])
            self._take(self.pending.reactions[0], seen=False)

    def _take(self, reaction: Reaction, *, seen: bool = True) -> None:
        """Move along ``reaction``: its cell's action, then the SUT user's answers in it.
        ``seen``: the reaction showed (silence included), so its action is recorded."""
        pending = self.pending
        assert pending is not None
        if seen:
            self._label(pending, reaction)
            pending.taken = reaction
        state = self._first_effect(pending, reaction).next_state
        for name in reaction.actions[1:]:
            event = _event_taking(state, name)
            assert event is not None
            self.cells.append(Cell(state, event, name))
            state = _defined(state, event).effect(self.role).next_state
        self.state = reaction.then
        self.pending = None

    def _first_effect(self, pending: Pending, reaction: Reaction) -> Effect:
        """The effect of the cell's own action in ``reaction`` (its branch, for AE-6 and
        AR-8: one that hands the event to the SUT's user, or the one that ends where the
        reaction does)."""
        first = _defined(pending.state, pending.event_of(reaction))
        if len(reaction.actions) > 1:  # the cell's action handed the event to the SUT's user
            return first.effect(self.role, acceptable=True)
        return next(e for e in first.effects.values() if e.next_state is reaction.then)

    def _label(self, pending: Pending, reaction: Reaction) -> None:
        """Record the action ``reaction`` shows for ``pending``'s cell."""
        event = pending.event_of(reaction)
        action = _defined(pending.state, event)
        effect = self._first_effect(pending, reaction)
        self.cells[pending.index] = Cell(pending.state, event, action_label(action, effect))

    def _spontaneous(self, seen: Seen) -> None:
        """Something the SUT did on its own: a local primitive, or ARTIM expiring."""
        if seen.closed:
            if self.state in (State.STA2, State.STA13):  # ARTIM expired: AA-2
                self._record(Event.EVT18)
            self.state = State.STA1
            return
        if seen.pdu is None:
            return
        event = self._user_event(seen)
        if event is None:
            source = "" if seen.abort_source is None else f" (source {seen.abort_source})"
            self.lost = (
                f"the SUT sent {seen.pdu}{source} in {self.state}, which no primitive of its"
                " user sends there (PS3.8 Table 9-10)"
            )
            return
        self._record(event)

    def requested(self) -> None:
        """The SUT, as requestor, connected to us: its user's A-ASSOCIATE request opened
        the transport (Sta1, Evt1, AE-1: Sta4), which we then accept (Evt2)."""
        self.state = State.STA1
        self._record(Event.EVT1)
        self.caused(Event.EVT2)

    def _record(self, event: Event) -> None:
        """A cell the SUT took on its own (a primitive of its user, or ARTIM): the action
        is the one it shows, and the SUT moves on."""
        action = _defined(self.state, event)
        effect = action.effect(self.role)
        self.cells.append(Cell(self.state, event, action_label(action, effect)))
        self.state = effect.next_state


def _defined(state: State, event: Event) -> Action:
    action = cell(state, event)
    assert action is not None
    return action


def _event_taking(state: State, action_name: str) -> Event | None:
    """The primitive of the SUT's user whose cell in ``state`` holds ``action_name``."""
    for event in user_primitives(state):
        action = cell(state, event)
        if action is not None and action.name == action_name:
            return event
    return None
