"""The presumed Table 9-10 state of the implementation under test, read off the wire.

The fake peer cannot see inside the SUT, but every event it causes there is known (the
PDU it sent, its connect or close) and every reaction shows on the wire (a PDU, a close,
or nothing). :class:`Tracker` replays both through :mod:`harness.fsm`: each event we
cause takes a cell of the SUT's table, the reaction we then observe picks among the
acceptable reactions of that cell (:func:`harness.fsm.acceptable_reactions`), and the
cells taken are recorded for the coverage report. When the SUT does something the table
does not allow there, the tracker says so and stops presuming (``lost``). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.fsm import (
    SEND_EVENTS,
    UNDEFINED,
    Action,
    Event,
    Pdu,
    Reaction,
    Role,
    State,
    acceptable_reactions,
    cell,
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
    event: Event
    reactions: tuple[Reaction, ...]


@dataclass
class Tracker:
    """The SUT's presumed state and the cells of Table 9-10 taken so far."""

    role: Role
    state: State = State.STA1
    cells: list[tuple[State, Event]] = field(default_factory=list)
    pending: Pending | None = None
    last: Pending | None = None
    lost: str = ""

    def caused(self, event: Event) -> None:
        """We caused ``event`` in the SUT; :attr:`pending` then holds what it may do."""
        if self.lost:
            return
        self._settle_unseen()
        reactions = acceptable_reactions(self.state, event, self.role)
        if reactions is UNDEFINED:
            self.lost = f"{event} in {self.state} is a blank cell of PS3.8 Table 9-10"
            return
        self.cells.append((self.state, event))
        self.pending = self.last = Pending(self.state, event, reactions)
        if all(reaction_matches(r, NOTHING) for r in reactions):
            self._take(reactions[0])

    def observed(self, seen: Seen) -> Reaction | None:
        """The SUT did ``seen``; returns the reaction of the table it was, if any."""
        if self.lost:
            return None
        if self.pending is not None:
            for reaction in self.pending.reactions:
                if reaction_matches(reaction, seen):
                    self._take(reaction)
                    return reaction
            if seen == NOTHING:
                return None
            self.lost = (
                f"the SUT's reaction to {self.pending.event} in {self.pending.state} "
                "is none the table allows"
            )
            self.pending = None
            return None
        self._spontaneous(seen)
        return None

    def _settle_unseen(self) -> None:
        """A new event before the last one's reaction showed: assume a silent one."""
        if self.pending is None:
            return
        silent = [r for r in self.pending.reactions if reaction_matches(r, NOTHING)]
        self._take(silent[0] if silent else self.pending.reactions[0])

    def _take(self, reaction: Reaction) -> None:
        """Move along ``reaction``: its cell's action, then the SUT user's answers in it."""
        assert self.pending is not None
        state = self.pending.state
        if len(reaction.actions) > 1:  # the cell's action handed the event to the SUT's user
            first = cell(state, self.pending.event)
            assert first is not None
            state = first.effect(self.role, acceptable=True).next_state
            for name in reaction.actions[1:]:
                event = _event_taking(state, name)
                assert event is not None
                self.cells.append((state, event))
                state = _defined(state, event).effect(self.role).next_state
        self.state = reaction.then
        self.pending = None

    def _spontaneous(self, seen: Seen) -> None:
        """Something the SUT did on its own: a local primitive, or ARTIM expiring."""
        if seen.closed:
            if self.state in (State.STA2, State.STA13):
                self.cells.append((self.state, Event.EVT18))
            self.state = State.STA1
            return
        if seen.pdu is None:
            return
        event = SEND_EVENTS[seen.pdu]
        action = cell(self.state, event)
        if action is None:
            self.lost = f"the SUT sent {seen.pdu} in {self.state}, a blank cell for {event}"
            return
        self.cells.append((self.state, event))
        self.state = action.effect(self.role).next_state


def _defined(state: State, event: Event) -> Action:
    action = cell(state, event)
    assert action is not None
    return action


def _event_taking(state: State, action_name: str) -> Event | None:
    """The event whose cell in ``state`` holds ``action_name`` (a user's primitive)."""
    for event in Event:
        action = cell(state, event)
        if action is not None and action.name == action_name:
            return event
    return None
