"""What `expect: per-state-table` accepts from the SUT's own user, and how the harness
reads a PDU that PS3.8 leaves the receiver free to take or refuse.

The SUT's user issues its own primitives (PS3.8 9.2.3, Table 9-10: Evt7, Evt8 in Sta3;
Evt9 in Sta6, Sta8; Evt11 in Sta6; Evt14 in Sta8, Sta9, Sta12; Evt15 in Sta3..Sta12). The
oracle accepts the reaction to the event we caused, then, where that reaction sends
nothing, the user's first primitive in the state reached (instead of its usual answer
where the cell passed the event to the user), each recorded as its own cell; a P-DATA-TF
its user sent before the reaction is let pass. What the table does not allow still
fails: an A-ABORT of the provider where only the user's AA-1 can come, the user's A-ABORT
where the provider owes AA-8, a close where AA-8 owes an A-ABORT.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from broken_peers import UserSourceForUnknownPdu
from hypothesis import HealthCheck, given, settings

from harness import fuzz_strategies as moves
from harness.exchange import readings
from harness.fsm import AbortSource, Event, Pdu, Role, State, Transition, received_event
from harness.pdu import A_RELEASE_RQ
from harness.profile import Address, Profile, load_profile
from harness.reference import (
    AcceptorFactory,
    AcceptorProtocol,
    ReferenceConfig,
    ReferenceServer,
    config_from_mapping,
)
from harness.reference.core import Inbound
from harness.results import ScenarioResult, Verdict
from harness.runner import RunOptions, run_scenario
from harness.scenario import Send, parse_scenario
from harness.stimuli import build_pdus, stand_in_context
from harness.tracker import CLOSED, DEVIATED, NOTHING, Cell, Seen, Tracker

BUILTIN = load_profile("builtin")
#: An A-ASSOCIATE-RQ carrying an empty item of unknown type 00H, which PS3.8 9.3.1 says a
#: receiver skips; pynetdicom 3.0.4's user answers it with an A-ABORT.
ODD_RQ = {"send": "A-ASSOCIATE-RQ", "set": {"extra_items": [{"item_type": 0, "data": ""}]}}
UNKNOWN_PDU = {"send": "unknown-pdu", "set": {"pdu_type": 8, "data": "00000000"}}
PER_STATE_TABLE = {"expect": "per-state-table"}


class UserAbortsOddRq(AcceptorProtocol):
    """Its user aborts an A-ASSOCIATE-RQ with an item of type 00H (Sta3, Evt15, AA-1)."""

    def on_user_turn(self) -> None:
        rq = self.rq_packet
        odd = rq is not None and any(item.item_type == 0 for item in rq.variable_items)
        if self.state is State.STA3 and odd:
            self._step(Event.EVT15)
            return
        super().on_user_turn()


class ProviderAbortsOddRq(UserAbortsOddRq):
    """The same A-ABORT, with the service-provider source (2), which AA-1 does not send."""

    def abort_source_for(self, transition: Transition) -> int:
        return int(AbortSource.SERVICE_PROVIDER)


class ReadsPaddedPdusWhole(AcceptorProtocol):
    """Takes a 10-byte PDU of a longer PDU-length as the PDU it is (its own event), where
    the built-in peer refuses it (Evt19); PS3.8 leaves the choice to the receiver."""

    def classify(self, raw: bytes) -> Inbound:
        inbound = super().classify(raw)
        if inbound.packet is not None and inbound.event is Event.EVT19 and raw[0] in (5, 6, 7):
            return replace(inbound, event=received_event(raw[0]))
        return inbound


@contextmanager
def serving(factory: AcceptorFactory) -> Iterator[tuple[Profile, Address]]:
    """A built-in SCP made by ``factory`` and the profile naming it (reply 1 s)."""
    config = config_from_mapping(BUILTIN.ae_title, BUILTIN.builtin or {})
    with ReferenceServer(config, factory, keep_transcripts=False) as server:
        address = Address(*server.address)
        timers = {**BUILTIN.timers, "reply": 1.0}
        yield replace(BUILTIN, builtin=None, port=address.port, timers=timers), address


def run(factory: AcceptorFactory, steps: list[Any], tmp_path: Path) -> ScenarioResult:
    scenario = parse_scenario(
        {
            "id": "acceptor/test/oracle",
            "title": "oracle",
            "references": ["PS3.8 9.2.3"],
            "requirement": "MUST",
            "sut_role": "acceptor",
            "steps": steps,
        },
        "<test>",
    )
    with serving(factory) as (profile, address):
        return run_scenario(scenario, profile, address, RunOptions(workdir=tmp_path))


# -- the SUT's user acts after the reaction, or instead of its usual answer ----------------


def test_a_users_abort_of_an_rq_with_an_unknown_item_is_the_tables_ae6_then_aa1(
    tmp_path: Path,
) -> None:
    result = run(UserAbortsOddRq, [ODD_RQ, PER_STATE_TABLE], tmp_path)

    assert result.verdict is Verdict.PASSED, result.message
    assert result.cells[1:3] == [("Sta2", "Evt6", "AE-6 acceptable"), ("Sta3", "Evt15", "AA-1")]


def test_the_same_abort_with_the_providers_source_is_none_the_table_allows(
    tmp_path: Path,
) -> None:
    result = run(ProviderAbortsOddRq, [ODD_RQ, PER_STATE_TABLE], tmp_path)

    assert result.verdict is Verdict.FAILED
    assert "PS3.8 Table 9-10 (Sta2, Evt6) allows" in result.message
    assert "got A-ABORT (source 2" in result.message


def test_the_users_answer_to_an_echo_is_its_own_p_data_request(tmp_path: Path) -> None:
    steps = [{"associate": {}}, {"send": "C-ECHO-RQ"}, PER_STATE_TABLE]
    result = run(AcceptorProtocol, steps, tmp_path)

    assert result.verdict is Verdict.PASSED, result.message
    assert ("Sta6", "Evt10", "DT-2") in result.cells
    assert ("Sta6", "Evt9", "DT-1") in result.cells


def test_an_echo_answer_that_comes_before_the_abort_of_the_next_pdu_is_let_pass(
    tmp_path: Path,
) -> None:
    steps = [{"associate": {}}, {"send": "C-ECHO-RQ"}, UNKNOWN_PDU, PER_STATE_TABLE]
    result = run(AcceptorProtocol, steps, tmp_path)

    assert result.verdict is Verdict.PASSED, result.message
    path = result.cells
    assert path.index(("Sta6", "Evt9", "DT-1")) < path.index(("Sta6", "Evt19", "AA-8"))


def test_a_users_abort_where_the_provider_owes_aa8_fails(tmp_path: Path) -> None:
    """Decided: not let go first as the user's Evt15 in Sta6. On the wire it is the
    provider answering an invalid PDU with the wrong source; the tracker records the cell
    as deviated."""
    steps = [{"associate": {}}, UNKNOWN_PDU, PER_STATE_TABLE]
    result = run(UserSourceForUnknownPdu, steps, tmp_path)

    assert result.verdict is Verdict.FAILED
    assert "(Sta6, Evt19) allows A-ABORT source 2 [AA-8]; got A-ABORT (source 0" in result.message
    assert ("Sta6", "Evt19", DEVIATED) in result.cells


# -- the tracker, pure ---------------------------------------------------------------------


def established(role: Role = Role.ACCEPTOR) -> Tracker:
    tracker = Tracker(role)
    if role is Role.ACCEPTOR:
        tracker.caused(Event.EVT5)
        tracker.caused(Event.EVT6)
        tracker.observed(Seen(Pdu.A_ASSOCIATE_AC))
    else:
        tracker.requested()
        tracker.observed(Seen(Pdu.A_ASSOCIATE_RQ))
        tracker.caused(Event.EVT3)
        tracker.observed(NOTHING)
    return tracker


def test_a_requestors_request_after_our_ac_is_its_users_p_data_request() -> None:
    tracker = Tracker(Role.REQUESTOR)
    tracker.requested()
    tracker.observed(Seen(Pdu.A_ASSOCIATE_RQ))
    tracker.caused(Event.EVT3)
    reaction = tracker.observed(Seen(Pdu.P_DATA_TF))

    assert reaction is not None
    assert reaction.actions == ("AE-3", "DT-1")
    assert tracker.cells[-2:] == [
        Cell(State.STA5, Event.EVT3, "AE-3"),
        Cell(State.STA6, Event.EVT9, "DT-1"),
    ]
    assert tracker.state is State.STA6


def test_a_p_data_tf_the_user_sent_first_is_its_own_cell_before_our_event() -> None:
    tracker = established(Role.REQUESTOR)
    tracker.caused(Event.EVT19)

    assert tracker.observed(Seen(Pdu.P_DATA_TF)) is None
    reaction = tracker.observed(Seen(Pdu.A_ABORT, abort_source=2, abort_reason=1))

    assert reaction is not None
    assert reaction.actions == ("AA-8",)
    assert tracker.cells[-2:] == [
        Cell(State.STA6, Event.EVT9, "DT-1"),
        Cell(State.STA6, Event.EVT19, "AA-8"),
    ]
    assert not tracker.lost


def test_a_close_where_aa8_owes_an_abort_is_none_the_table_allows() -> None:
    tracker = established()
    tracker.caused(Event.EVT19)
    tracker.observed(CLOSED)

    assert tracker.cells[-1] == Cell(State.STA6, Event.EVT19, DEVIATED)
    assert tracker.lost


def test_a_provider_abort_with_nothing_pending_is_no_primitive_of_the_user() -> None:
    tracker = established()
    tracker.observed(Seen(Pdu.A_ABORT, abort_source=2, abort_reason=0))

    assert "no primitive of its user sends there" in tracker.lost


def test_a_pdu_read_either_way_is_recorded_with_the_reading_the_sut_showed() -> None:
    refused, read_whole = established(), established()
    for tracker in (refused, read_whole):
        tracker.caused(Event.EVT12, Event.EVT19)
    refused.observed(Seen(Pdu.A_ABORT, abort_source=2, abort_reason=6))
    read_whole.observed(Seen(Pdu.A_RELEASE_RP))

    assert refused.cells[-1] == Cell(State.STA6, Event.EVT19, "AA-8")
    assert read_whole.cells[-2:] == [
        Cell(State.STA6, Event.EVT12, "AR-2"),
        Cell(State.STA8, Event.EVT14, "AR-4"),
    ]


# -- PDUs PS3.8 makes invalid, and PDUs it leaves the receiver free to refuse --------------


def test_a_10_byte_pdu_of_another_pdu_length_may_be_read_whole_or_refused() -> None:
    context = stand_in_context()
    padded = bytes(A_RELEASE_RQ(extra=b"\x00\x00"))

    assert readings(bytes(A_RELEASE_RQ()), context, State.STA6) == (Event.EVT12,)
    assert readings(padded, context, State.STA6) == (Event.EVT12, Event.EVT19)


def test_a_p_data_tf_on_an_unaccepted_context_may_be_refused_only_where_it_is_read() -> None:
    context = stand_in_context()  # PC-ID 1 accepted
    fields = {"pdvs": [{"pc_id": 99, "data": "00"}]}
    (data,) = build_pdus(Send(line=1, what="P-DATA-TF", fields=fields), context)

    assert readings(data, context, State.STA6) == (Event.EVT10, Event.EVT19)  # DT-2
    assert readings(data, context, State.STA13) == (Event.EVT10,)  # AA-6: not read


def test_an_rq_without_a_mandatory_item_is_invalid_for_the_harness_and_the_builtin_peer(
    tmp_path: Path,
) -> None:
    packet = stand_in_context().default_rq().build()
    packet.variable_items = [i for i in packet.variable_items if i.item_type != 0x50]

    assert readings(bytes(packet), stand_in_context(), State.STA2) == (Event.EVT19,)
    result = run(AcceptorProtocol, [{"raw": bytes(packet).hex()}, PER_STATE_TABLE], tmp_path)
    assert result.verdict is Verdict.PASSED, result.message
    assert ("Sta2", "Evt19", "AA-1") in result.cells


@settings(max_examples=60, database=None, suppress_health_check=list(HealthCheck))
@given(moves.rq_missing_items())
def test_every_rq_the_fuzzer_sends_without_a_mandatory_item_is_evt19_for_both(
    move: moves.Move,
) -> None:
    data = bytes.fromhex(move.step["raw"])
    protocol = AcceptorProtocol(ReferenceConfig())
    protocol.connection_made()
    protocol.receive(data)

    assert readings(data, stand_in_context(), State.STA2) == (Event.EVT19,)
    assert protocol.machine.cells[-1] == (State.STA2, Event.EVT19)


def test_a_padded_release_rq_passes_whether_the_sut_refuses_it_or_reads_it_whole(
    tmp_path: Path,
) -> None:
    steps = [
        {"associate": {}},
        {"send": "A-RELEASE-RQ", "length": 6, "append": "0000"},
        PER_STATE_TABLE,
    ]
    refused = run(AcceptorProtocol, steps, tmp_path)
    read_whole = run(ReadsPaddedPdusWhole, steps, tmp_path)

    assert (refused.verdict, read_whole.verdict) == (Verdict.PASSED, Verdict.PASSED)
    assert ("Sta6", "Evt19", "AA-8") in refused.cells
    assert ("Sta6", "Evt12", "AR-2") in read_whole.cells
