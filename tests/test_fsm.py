"""The UL state machine (harness.fsm) against PS3.8 9.2, transcribed here independently.

The grids below are typed from the standard (Table 9-10, Tables 9-6..9-9), not derived
from harness.fsm, so a slip in either shows up as a failing cell.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.fsm import (
    ACTIONS,
    PDU_TYPES,
    RECEIVE_EVENTS,
    SEND_EVENTS,
    TABLE,
    TOLERATED_ABORT_SOURCES,
    UNDEFINED,
    AbortSource,
    Event,
    Machine,
    Pdu,
    ProtocolError,
    Reaction,
    Role,
    State,
    Transport,
    acceptable_reactions,
    cell,
    next_state,
    received_event,
    user_primitives,
)

# PS3.8 Table 9-10, rows = events, columns = states, "-" = blank cell.
TABLE_9_10 = """
        Sta1  Sta2  Sta3  Sta4  Sta5  Sta6  Sta7  Sta8  Sta9  Sta10 Sta11 Sta12 Sta13
Evt1    AE-1  -     -     -     -     -     -     -     -     -     -     -     -
Evt2    -     -     -     AE-2  -     -     -     -     -     -     -     -     -
Evt3    -     AA-1  AA-8  -     AE-3  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt4    -     AA-1  AA-8  -     AE-4  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt5    AE-5  -     -     -     -     -     -     -     -     -     -     -     -
Evt6    -     AE-6  AA-8  -     AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-7
Evt7    -     -     AE-7  -     -     -     -     -     -     -     -     -     -
Evt8    -     -     AE-8  -     -     -     -     -     -     -     -     -     -
Evt9    -     -     -     -     -     DT-1  -     AR-7  -     -     -     -     -
Evt10   -     AA-1  AA-8  -     AA-8  DT-2  AR-6  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt11   -     -     -     -     -     AR-1  -     -     -     -     -     -     -
Evt12   -     AA-1  AA-8  -     AA-8  AR-2  AR-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt13   -     AA-1  AA-8  -     AA-8  AA-8  AR-3  AA-8  AA-8  AR-10 AR-3  AA-8  AA-6
Evt14   -     -     -     -     -     -     -     AR-4  AR-9  -     -     AR-4  -
Evt15   -     -     AA-1  AA-2  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  -
Evt16   -     AA-2  AA-3  -     AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-2
Evt17   -     AA-5  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AR-5
Evt18   -     AA-2  -     -     -     -     -     -     -     -     -     -     AA-2
Evt19   -     AA-1  AA-8  -     AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-7
"""

# PS3.8 Tables 9-6..9-9: what each action does, one row per branch ("-": none/unstated).
ACTION_EFFECTS = """
action  branch          sends           source  transport  artim             next
AE-1    -               -               -       open       none              Sta4
AE-2    -               A-ASSOCIATE-RQ  -       none       none              Sta5
AE-3    -               -               -       none       none              Sta6
AE-4    -               -               -       close      none              Sta1
AE-5    -               -               -       accept     start             Sta2
AE-6    acceptable      -               -       none       stop              Sta3
AE-6    not-acceptable  A-ASSOCIATE-RJ  -       none       restart-or-start  Sta13
AE-7    -               A-ASSOCIATE-AC  -       none       none              Sta6
AE-8    -               A-ASSOCIATE-RJ  -       none       start             Sta13
DT-1    -               P-DATA-TF       -       none       none              Sta6
DT-2    -               -               -       none       none              Sta6
AR-1    -               A-RELEASE-RQ    -       none       none              Sta7
AR-2    -               -               -       none       none              Sta8
AR-3    -               -               -       close      none              Sta1
AR-4    -               A-RELEASE-RP    -       none       start             Sta13
AR-5    -               -               -       none       stop              Sta1
AR-6    -               -               -       none       none              Sta7
AR-7    -               P-DATA-TF       -       none       none              Sta8
AR-8    requestor       -               -       none       none              Sta9
AR-8    acceptor        -               -       none       none              Sta10
AR-9    -               A-RELEASE-RP    -       none       none              Sta11
AR-10   -               -               -       none       none              Sta12
AA-1    -               A-ABORT         0       none       restart-or-start  Sta13
AA-2    -               -               -       close      stop-if-running   Sta1
AA-3    -               -               -       close      none              Sta1
AA-4    -               -               -       none       none              Sta1
AA-5    -               -               -       none       stop              Sta1
AA-6    -               -               -       none       none              Sta13
AA-7    -               A-ABORT         -       none       none              Sta13
AA-8    -               A-ABORT         2       none       start             Sta13
"""

#: A-ABORT Reason/Diag values for a service-provider abort (PS3.8 Table 9-26; 3 reserved).
PROVIDER_REASONS = frozenset({0, 1, 2, 4, 5, 6})
#: With a service-user source the Reason/Diag is not significant: any byte.
ANY_REASON = frozenset(range(256))

#: The PDUs a peer can put on the wire, as the events they cause (Table 9-10).
PDU_EVENTS = ("Evt3", "Evt4", "Evt6", "Evt10", "Evt12", "Evt13", "Evt19")


def parse_grid(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def transcribed_cells() -> dict[tuple[str, str], str | None]:
    states, *rows = parse_grid(TABLE_9_10)
    cells = {}
    for event, *names in rows:
        assert len(names) == len(states), event
        for state, name in zip(states, names, strict=True):
            cells[state, event] = None if name == "-" else name
    return cells


CELLS = transcribed_cells()
EFFECT_ROWS = parse_grid(ACTION_EFFECTS)[1:]
TYPE_CODES = {pdu: code for code, pdu in PDU_TYPES.items()}


def test_transcription_covers_13_states_by_19_events() -> None:
    assert len(CELLS) == 13 * 19
    assert {state for state, _ in CELLS} == {f"Sta{n}" for n in range(1, 14)}
    assert {event for _, event in CELLS} == {f"Evt{n}" for n in range(1, 20)}


def test_states_and_events_are_numbered_as_in_the_standard() -> None:
    assert [s.value for s in State] == [f"Sta{n}" for n in range(1, 14)]
    assert [e.value for e in Event] == [f"Evt{n}" for n in range(1, 20)]
    assert State.STA13.meaning.startswith("Awaiting the transport connection close")
    assert Event.EVT19.meaning == "Unrecognized or invalid PDU received"


def test_table_holds_every_cell() -> None:
    assert set(TABLE) == set(Event)
    assert all(set(row) == set(State) for row in TABLE.values())


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [pytest.param(s, e, name, id=f"{s}-{e}") for (s, e), name in CELLS.items()],
)
def test_cell_matches_table_9_10(state: str, event: str, expected: str | None) -> None:
    action = cell(State(state), Event(event))
    assert (action.name if action else None) == expected


def test_every_action_appears_in_the_table() -> None:
    used = {action.name for row in TABLE.values() for action in row.values() if action}
    assert used == set(ACTIONS) == {row[0] for row in EFFECT_ROWS}


def branch_situations(branch: str) -> list[tuple[Role, bool]]:
    """The (role, RQ acceptable) situations a transcribed branch covers."""
    everything = [(role, ok) for role in Role for ok in (True, False)]
    wanted = {
        "-": everything,
        "acceptable": [(role, True) for role in Role],
        "not-acceptable": [(role, False) for role in Role],
        "requestor": [(Role.REQUESTOR, ok) for ok in (True, False)],
        "acceptor": [(Role.ACCEPTOR, ok) for ok in (True, False)],
    }
    return wanted[branch]


@pytest.mark.parametrize("row", [pytest.param(row, id=f"{row[0]}-{row[1]}") for row in EFFECT_ROWS])
def test_action_effect_matches_tables_9_6_to_9_9(row: list[str]) -> None:
    name, branch, sends, source, transport, artim, then = row
    for role, acceptable in branch_situations(branch):
        effect = ACTIONS[name].effect(role, acceptable=acceptable)
        assert effect.sends == (None if sends == "-" else sends)
        assert effect.abort_source == (None if source == "-" else int(source))
        assert (effect.transport, effect.artim, effect.next_state) == (transport, artim, then)


def test_action_cites_its_table() -> None:
    references = [ACTIONS[name].reference for name in ("AE-6", "DT-2", "AR-10", "AA-8")]
    assert references == [f"PS3.8 Table 9-{n}" for n in (6, 7, 8, 9)]


def test_next_state_follows_the_branches_of_ae6_and_ar8() -> None:
    assert next_state(State.STA2, Event.EVT6, Role.ACCEPTOR) == State.STA3
    assert next_state(State.STA2, Event.EVT6, Role.ACCEPTOR, acceptable=False) == State.STA13
    assert next_state(State.STA7, Event.EVT12, Role.REQUESTOR) == State.STA9
    assert next_state(State.STA7, Event.EVT12, Role.ACCEPTOR) == State.STA10


def test_next_state_of_a_blank_cell_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match=r"Evt1 .* undefined in Sta6"):
        next_state(State.STA6, Event.EVT1, Role.REQUESTOR)


# Patterns of Table 9-10 (PS38.md section 3).


def test_unexpected_pdu_in_sta2_gets_aa1() -> None:
    actions = {e: cell(State.STA2, Event(e)) for e in PDU_EVENTS}
    assert {e: a.name for e, a in actions.items() if a} == {
        e: "AE-6" if e == "Evt6" else "AA-1" for e in PDU_EVENTS
    }


#: The PDUs each state expects; any other PDU there is an AA-8 protocol error.
EXPECTED_PDUS = {
    "Sta5": {"Evt3": "AE-3", "Evt4": "AE-4"},
    "Sta6": {"Evt10": "DT-2", "Evt12": "AR-2"},
    "Sta7": {"Evt10": "AR-6", "Evt12": "AR-8", "Evt13": "AR-3"},
    "Sta10": {"Evt13": "AR-10"},
    "Sta11": {"Evt13": "AR-3"},
}


@pytest.mark.parametrize("state", ["Sta3", *(f"Sta{n}" for n in range(5, 13))])
def test_unexpected_pdu_from_sta3_on_gets_aa8(state: str) -> None:
    actions = {e: cell(State(state), Event(e)) for e in PDU_EVENTS}
    assert {e: a.name for e, a in actions.items() if a} == {
        e: EXPECTED_PDUS.get(state, {}).get(e, "AA-8") for e in PDU_EVENTS
    }


def test_sta13_ignores_pdus_except_rq_or_invalid_which_get_aa7() -> None:
    actions = {e: cell(State.STA13, Event(e)) for e in PDU_EVENTS}
    assert {e: a.name for e, a in actions.items() if a} == {
        e: "AA-7" if e in ("Evt6", "Evt19") else "AA-6" for e in PDU_EVENTS
    }


def test_artim_expiry_is_defined_only_in_sta2_and_sta13() -> None:
    defined = {s: a.name for s in State if (a := cell(s, Event.EVT18))}
    assert defined == {State.STA2: "AA-2", State.STA13: "AA-2"}


def test_transport_close_is_defined_wherever_there_is_a_transport() -> None:
    assert [s for s in State if cell(s, Event.EVT17) is None] == [State.STA1]


@given(role=st.sampled_from(Role), data=st.data())
def test_artim_and_transport_agree_with_the_state_on_any_walk(
    role: Role, data: st.DataObject
) -> None:
    """Following what the actions do to ARTIM and the transport: ARTIM runs exactly in Sta2
    and Sta13 (where Evt18 is defined), the transport is up exactly outside Sta1, an action
    only starts ARTIM when it is stopped and only stops it when it runs."""
    machine = Machine(role)
    artim_running = transport_up = False
    walked = []
    for _ in range(30):
        defined = [e for e in Event if cell(machine.state, e) is not None]
        event = data.draw(st.sampled_from(defined))
        walked.append((machine.state, event))
        effect = machine.apply(event, acceptable=data.draw(st.booleans())).effect
        if effect.artim == "start":
            assert not artim_running
        if effect.artim == "stop":
            assert artim_running
        if effect.artim != "none":
            artim_running = effect.artim in ("start", "restart-or-start")
        if effect.transport in ("open", "accept"):
            transport_up = True
        if effect.transport == "close" or event == Event.EVT17:
            transport_up = False
        assert artim_running == (machine.state in (State.STA2, State.STA13))
        assert transport_up == (machine.state != State.STA1)
    assert machine.cells == walked


# PDU type bytes and the events around them.


@pytest.mark.parametrize(
    ("pdu_type", "event"),
    [
        *[(0x01, "Evt6"), (0x02, "Evt3"), (0x03, "Evt4"), (0x04, "Evt10")],
        *[(0x05, "Evt12"), (0x06, "Evt13"), (0x07, "Evt16")],
        *[(0x00, "Evt19"), (0x08, "Evt19"), (0x10, "Evt19"), (0xFF, "Evt19")],
    ],
)
def test_received_pdu_type_maps_to_its_event(pdu_type: int, event: str) -> None:
    assert received_event(pdu_type) == event


def test_unparseable_pdu_of_a_known_type_is_evt19() -> None:
    assert received_event(0x01, valid=False) == Event.EVT19


def test_pdu_names_are_the_standards() -> None:
    assert set(PDU_TYPES.values()) == set(RECEIVE_EVENTS) == set(SEND_EVENTS) == set(Pdu)
    assert [pdu.value for pdu in Pdu] == [
        "A-ASSOCIATE-RQ",
        "A-ASSOCIATE-AC",
        "A-ASSOCIATE-RJ",
        "P-DATA-TF",
        "A-RELEASE-RQ",
        "A-RELEASE-RP",
        "A-ABORT",
    ]


@pytest.mark.parametrize("pdu", list(Pdu))
def test_send_event_sends_that_pdu_wherever_it_sends_one(pdu: Pdu) -> None:
    event = SEND_EVENTS[pdu]
    sent = {
        action.effect(role).sends for action in TABLE[event].values() if action for role in Role
    }
    assert sent - {None} == {pdu}


# The machine.

#: (event, action, PDU sent, state after) for the entity that walks the script.
NORMAL_AS_REQUESTOR = [
    (Event.EVT1, "AE-1", None, State.STA4),
    (Event.EVT2, "AE-2", Pdu.A_ASSOCIATE_RQ, State.STA5),
    (Event.EVT3, "AE-3", None, State.STA6),
    (Event.EVT9, "DT-1", Pdu.P_DATA_TF, State.STA6),
    (Event.EVT10, "DT-2", None, State.STA6),
    (Event.EVT11, "AR-1", Pdu.A_RELEASE_RQ, State.STA7),
    (Event.EVT13, "AR-3", None, State.STA1),
]
NORMAL_AS_ACCEPTOR = [
    (Event.EVT5, "AE-5", None, State.STA2),
    (Event.EVT6, "AE-6", None, State.STA3),
    (Event.EVT7, "AE-7", Pdu.A_ASSOCIATE_AC, State.STA6),
    (Event.EVT10, "DT-2", None, State.STA6),
    (Event.EVT9, "DT-1", Pdu.P_DATA_TF, State.STA6),
    (Event.EVT12, "AR-2", None, State.STA8),
    (Event.EVT14, "AR-4", Pdu.A_RELEASE_RP, State.STA13),
    (Event.EVT17, "AR-5", None, State.STA1),
]
COLLISION_AS_REQUESTOR = [
    (Event.EVT11, "AR-1", Pdu.A_RELEASE_RQ, State.STA7),
    (Event.EVT12, "AR-8", None, State.STA9),
    (Event.EVT14, "AR-9", Pdu.A_RELEASE_RP, State.STA11),
    (Event.EVT13, "AR-3", None, State.STA1),
]
COLLISION_AS_ACCEPTOR = [
    (Event.EVT11, "AR-1", Pdu.A_RELEASE_RQ, State.STA7),
    (Event.EVT12, "AR-8", None, State.STA10),
    (Event.EVT13, "AR-10", None, State.STA12),
    (Event.EVT14, "AR-4", Pdu.A_RELEASE_RP, State.STA13),
    (Event.EVT17, "AR-5", None, State.STA1),
]
Script = list[tuple[Event, str, Pdu | None, State]]


@pytest.mark.parametrize(
    ("role", "start", "script"),
    [
        pytest.param(Role.REQUESTOR, State.STA1, NORMAL_AS_REQUESTOR, id="normal-requestor"),
        pytest.param(Role.ACCEPTOR, State.STA1, NORMAL_AS_ACCEPTOR, id="normal-acceptor"),
        pytest.param(Role.REQUESTOR, State.STA6, COLLISION_AS_REQUESTOR, id="collision-requestor"),
        pytest.param(Role.ACCEPTOR, State.STA6, COLLISION_AS_ACCEPTOR, id="collision-acceptor"),
    ],
)
def test_machine_walks_the_script_and_records_its_cells(
    role: Role, start: State, script: Script
) -> None:
    machine = Machine(role, start)
    for event, action, sends, state in script:
        transition = machine.apply(event)
        assert (transition.action.name, transition.effect.sends) == (action, sends), event
        assert machine.state == state, event
    states_before = [start, *(state for *_, state in script[:-1])]
    events = [event for event, *_ in script]
    assert machine.cells == list(zip(states_before, events, strict=True))


def arrival(pdu: Pdu | None) -> Event:
    """The event at the receiving end of a PDU that one machine sent."""
    assert pdu is not None
    return received_event(TYPE_CODES[pdu])


def test_release_collision_between_two_machines_requestor_answers_first() -> None:
    requestor = Machine(Role.REQUESTOR, State.STA6)
    acceptor = Machine(Role.ACCEPTOR, State.STA6)
    # Both users ask for release at about the same time; the A-RELEASE-RQs cross.
    rq_from_requestor = requestor.apply(Event.EVT11).effect.sends
    rq_from_acceptor = acceptor.apply(Event.EVT11).effect.sends
    acceptor.apply(arrival(rq_from_requestor))
    requestor.apply(arrival(rq_from_acceptor))
    assert (requestor.state, acceptor.state) == (State.STA9, State.STA10)
    # The acceptor may not answer before the requestor's RP (PS3.8 7.2.2.7).
    with pytest.raises(ProtocolError):
        acceptor.apply(Event.EVT14)
    acceptor.apply(arrival(requestor.apply(Event.EVT14).effect.sends))
    assert (requestor.state, acceptor.state) == (State.STA11, State.STA12)
    closing = requestor.apply(arrival(acceptor.apply(Event.EVT14).effect.sends))
    assert closing.effect.transport is Transport.CLOSE
    acceptor.apply(Event.EVT17)
    assert (requestor.state, acceptor.state) == (State.STA1, State.STA1)


def test_machine_rejecting_an_rq_sends_rj_and_waits_in_sta13() -> None:
    machine = Machine(Role.ACCEPTOR, State.STA2)
    transition = machine.apply(Event.EVT6, acceptable=False)
    assert (transition.action.name, transition.effect.sends) == ("AE-6", Pdu.A_ASSOCIATE_RJ)
    assert machine.state == State.STA13


def test_machine_refuses_a_blank_cell_naming_state_and_event() -> None:
    machine = Machine(Role.ACCEPTOR, State.STA6)
    with pytest.raises(ProtocolError, match=r"Evt18 .* undefined in Sta6") as raised:
        machine.apply(Event.EVT18)
    assert (raised.value.state, raised.value.event) == (State.STA6, Event.EVT18)
    assert (machine.state, machine.cells) == (State.STA6, [])


# The oracle: acceptable reactions of an implementation under test.


def reactions_to(state: State, event: Event, role: Role) -> tuple[Reaction, ...]:
    reactions = acceptable_reactions(state, event, role)
    assert reactions is not UNDEFINED, f"{state}/{event} is blank"
    return reactions


def wire(reactions: tuple[Reaction, ...]) -> set[tuple[tuple[str, ...], Pdu | None, State]]:
    """The actions, PDU and next state of each alternative, ignoring A-ABORT details."""
    return {(r.actions, r.sends, r.then) for r in reactions}


def test_wrong_first_pdu_gets_user_abort_or_tolerated_provider_abort() -> None:
    abort = Reaction(
        ("AA-1",), Pdu.A_ABORT, closes_transport=False, starts_artim=True, then=State.STA13
    )
    assert reactions_to(State.STA2, Event.EVT10, Role.ACCEPTOR) == (
        replace(abort, abort_source=AbortSource.SERVICE_USER, abort_reasons=ANY_REASON),
        replace(
            abort,
            abort_source=AbortSource.SERVICE_PROVIDER,
            abort_reasons=PROVIDER_REASONS,
            tolerance=TOLERATED_ABORT_SOURCES["AA-1"][AbortSource.SERVICE_PROVIDER],
        ),
    )


def test_unknown_pdu_in_sta6_gets_provider_abort_with_any_valid_reason() -> None:
    assert reactions_to(State.STA6, Event.EVT19, Role.ACCEPTOR) == (
        Reaction(
            ("AA-8",),
            Pdu.A_ABORT,
            closes_transport=False,
            starts_artim=True,
            then=State.STA13,
            abort_source=AbortSource.SERVICE_PROVIDER,
            abort_reasons=PROVIDER_REASONS,
        ),
    )


def test_pdata_in_sta13_is_ignored() -> None:
    assert reactions_to(State.STA13, Event.EVT10, Role.ACCEPTOR) == (
        Reaction(("AA-6",), None, closes_transport=False, starts_artim=False, then=State.STA13),
    )


def test_rq_in_sta13_gets_an_abort_of_either_source_without_restarting_artim() -> None:
    reactions = reactions_to(State.STA13, Event.EVT6, Role.REQUESTOR)
    assert {(r.sends, r.abort_source, r.abort_reasons) for r in reactions} == {
        (Pdu.A_ABORT, AbortSource.SERVICE_USER, ANY_REASON),
        (Pdu.A_ABORT, AbortSource.SERVICE_PROVIDER, PROVIDER_REASONS),
    }
    assert all(r.strict and not r.starts_artim and r.then == State.STA13 for r in reactions)


@pytest.mark.parametrize(("state", "action"), [(State.STA6, "AA-3"), (State.STA2, "AA-2")])
def test_abort_received_closes_the_transport_without_a_pdu(state: State, action: str) -> None:
    assert reactions_to(state, Event.EVT16, Role.ACCEPTOR) == (
        Reaction((action,), None, closes_transport=True, starts_artim=False, then=State.STA1),
    )


def test_silence_in_sta2_ends_with_a_close_when_artim_expires() -> None:
    (reaction,) = reactions_to(State.STA2, Event.EVT18, Role.ACCEPTOR)
    assert (reaction.sends, reaction.closes_transport, reaction.then) == (None, True, State.STA1)


def test_rj_received_makes_the_requestor_close() -> None:
    (reaction,) = reactions_to(State.STA5, Event.EVT4, Role.REQUESTOR)
    assert (reaction.sends, reaction.closes_transport, reaction.then) == (None, True, State.STA1)


def test_valid_rq_in_sta2_gets_ac_rj_or_the_users_abort_never_silence() -> None:
    reactions = reactions_to(State.STA2, Event.EVT6, Role.ACCEPTOR)
    assert wire(reactions) == {
        (("AE-6", "AE-7"), Pdu.A_ASSOCIATE_AC, State.STA6),
        (("AE-6", "AE-8"), Pdu.A_ASSOCIATE_RJ, State.STA13),
        (("AE-6", "AA-1"), Pdu.A_ABORT, State.STA13),
        (("AE-6",), Pdu.A_ASSOCIATE_RJ, State.STA13),
    }
    (abort,) = [r for r in reactions if r.sends is Pdu.A_ABORT]
    assert (abort.abort_source, abort.strict) == (AbortSource.SERVICE_USER, True)


def test_release_rq_in_sta6_gets_rp_possibly_after_more_data_or_the_users_abort() -> None:
    reactions = reactions_to(State.STA6, Event.EVT12, Role.ACCEPTOR)
    assert wire(reactions) == {
        (("AR-2", "AR-7"), Pdu.P_DATA_TF, State.STA8),
        (("AR-2", "AR-4"), Pdu.A_RELEASE_RP, State.STA13),
        (("AR-2", "AA-1"), Pdu.A_ABORT, State.STA13),
    }
    assert {r.sends: r.starts_artim for r in reactions} == {
        Pdu.P_DATA_TF: False,
        Pdu.A_RELEASE_RP: True,
        Pdu.A_ABORT: True,
    }


def test_release_collision_only_the_requestor_answers_at_once() -> None:
    assert wire(reactions_to(State.STA7, Event.EVT12, Role.REQUESTOR)) == {
        (("AR-8", "AR-9"), Pdu.A_RELEASE_RP, State.STA11),
        (("AR-8", "AA-1"), Pdu.A_ABORT, State.STA13),
    }
    assert wire(reactions_to(State.STA7, Event.EVT12, Role.ACCEPTOR)) == {
        (("AR-8",), None, State.STA10),
        (("AR-8", "AA-1"), Pdu.A_ABORT, State.STA13),
    }
    assert wire(reactions_to(State.STA10, Event.EVT13, Role.ACCEPTOR)) == {
        (("AR-10", "AR-4"), Pdu.A_RELEASE_RP, State.STA13),
        (("AR-10", "AA-1"), Pdu.A_ABORT, State.STA13),
    }


def test_transport_events_caused_by_the_peer() -> None:
    assert reactions_to(State.STA1, Event.EVT5, Role.ACCEPTOR) == (
        Reaction(("AE-5",), None, closes_transport=False, starts_artim=True, then=State.STA2),
    )
    assert wire(reactions_to(State.STA4, Event.EVT2, Role.REQUESTOR)) == {
        (("AE-2",), Pdu.A_ASSOCIATE_RQ, State.STA5)
    }


@pytest.mark.parametrize(("state", "event"), [(State.STA6, Event.EVT18), (State.STA1, Event.EVT3)])
def test_blank_cell_reaction_is_undefined_by_the_standard(state: State, event: Event) -> None:
    assert acceptable_reactions(state, event, Role.ACCEPTOR) is UNDEFINED
    assert "undefined by the standard" in UNDEFINED.value


def test_every_defined_cell_has_at_least_one_strict_reaction() -> None:
    for state, event, role in [(s, e, r) for s in State for e in Event for r in Role]:
        reactions = acceptable_reactions(state, event, role)
        if cell(state, event) is None:
            assert reactions is UNDEFINED
        else:
            assert reactions is not UNDEFINED
            assert any(r.strict for r in reactions), (state, event, role)


@pytest.mark.parametrize(
    ("state", "primitives"),
    [
        (State.STA2, ()),
        (State.STA3, (Event.EVT7, Event.EVT8, Event.EVT15)),
        (State.STA6, (Event.EVT9, Event.EVT11, Event.EVT15)),
        (State.STA8, (Event.EVT14, Event.EVT9, Event.EVT15)),
        (State.STA10, (Event.EVT15,)),
        (State.STA13, ()),
    ],
)
def test_the_user_may_issue_the_primitives_table_9_10_defines_in_its_state(
    state: State, primitives: tuple[Event, ...]
) -> None:
    assert user_primitives(state) == primitives


def test_data_in_sta6_gets_nothing_or_the_users_first_primitive_there() -> None:
    assert wire(reactions_to(State.STA6, Event.EVT10, Role.ACCEPTOR)) == {
        (("DT-2",), None, State.STA6),
        (("DT-2", "DT-1"), Pdu.P_DATA_TF, State.STA6),
        (("DT-2", "AR-1"), Pdu.A_RELEASE_RQ, State.STA7),
        (("DT-2", "AA-1"), Pdu.A_ABORT, State.STA13),
    }


def test_our_ac_gets_nothing_or_the_requestors_first_primitive() -> None:
    reactions = reactions_to(State.STA5, Event.EVT3, Role.REQUESTOR)
    assert {r.sends for r in reactions} == {None, Pdu.P_DATA_TF, Pdu.A_RELEASE_RQ, Pdu.A_ABORT}


@pytest.mark.parametrize(
    ("state", "event"),
    [(State.STA6, Event.EVT15), (State.STA2, Event.EVT6), (State.STA6, Event.EVT10)],
)
def test_the_users_own_abort_is_never_tolerated_with_the_providers_source(
    state: State, event: Event
) -> None:
    aborts = [r for r in reactions_to(state, event, Role.ACCEPTOR) if r.sends is Pdu.A_ABORT]
    assert aborts
    assert {(r.abort_source, r.strict) for r in aborts} == {(AbortSource.SERVICE_USER, True)}
