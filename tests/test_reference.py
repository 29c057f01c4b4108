"""The built-in reference peer (harness.reference): sans-I/O, on the wire, and against
pynetdicom 3.0.4 as an independent implementation of both roles.

The sans-I/O tests judge every reaction against the state-table oracle
(harness.fsm.acceptable_reactions); the wire tests observe only bytes and closes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt

from harness.association import (
    CT_IMAGE_STORAGE,
    VERIFICATION_SOP_CLASS,
    AssociateAC,
    AssociateRQ,
    Rejection,
    negotiate,
)
from harness.dimse import (
    c_echo_rq,
    c_find_rq,
    decode_command,
    decode_data_set,
    encode_command,
    message_pdus,
)
from harness.framing import encode_p_data_tf, iter_pdvs
from harness.fsm import (
    PDU_TYPES,
    UNDEFINED,
    Event,
    Pdu,
    Role,
    State,
    acceptable_reactions,
    received_event,
)
from harness.pdu import (
    A_ABORT,
    A_RELEASE_RP,
    A_RELEASE_RQ,
    UnknownItem,
    UnknownPDU,
    dissect_one,
)
from harness.peer import FakePeer, Observation, Observed
from harness.process import LOOPBACK
from harness.reference import (
    AcceptorProtocol,
    CloseTransport,
    Echo,
    Inbound,
    Output,
    ReferenceConfig,
    ReferenceServer,
    RequestorProtocol,
    Send,
    StartArtim,
    Store,
    config_from_mapping,
    run_requestor,
)

CONFIG = ReferenceConfig(artim=0.3, idle_timeout=5.0)
SCU_CONFIG = replace(CONFIG, ae_title="TEST-SCU")
RQ = SCU_CONFIG.associate_rq(CONFIG.ae_title)
RQ_BYTES = bytes(RQ.build())
ECHO_RQ = message_pdus(1, encode_command(c_echo_rq(1)), None, 16384)[0]
PARTIAL_COMMAND = encode_p_data_tf([(1, 0x01, b"\0\0")])
UNKNOWN_PDU = bytes(UnknownPDU(pdu_type=0x08, data=b"\0\0\0\0"))
REPLY = 2.0
"""Seconds a wire test waits for a PDU or a close that must come."""


def ac_bytes(rq: AssociateRQ = RQ) -> bytes:
    """The reference acceptor's AC to ``rq``."""
    answer = negotiate(rq, CONFIG.policy())
    assert isinstance(answer, AssociateAC)
    return bytes(answer.build(rq.build()))


PDUS: dict[str, bytes] = {
    "A-ASSOCIATE-AC": ac_bytes(),
    "A-ASSOCIATE-RJ": bytes(Rejection(1, 1, 1).build()),
    "A-ASSOCIATE-RQ": RQ_BYTES,
    "P-DATA-TF": PARTIAL_COMMAND,
    "A-RELEASE-RQ": bytes(A_RELEASE_RQ()),
    "A-RELEASE-RP": bytes(A_RELEASE_RP()),
    "A-ABORT": bytes(A_ABORT()),
    "unknown-0x08": UNKNOWN_PDU,
}
"""One valid PDU of each kind (a P-DATA-TF that completes no message)."""


def sent(outputs: list[Output]) -> list[bytes]:
    return [output.data for output in outputs if isinstance(output, Send)]


def seen_reaction(outputs: list[Output]) -> tuple[Pdu | None, int | None, bool, bool]:
    """(first PDU sent, its A-ABORT source, closes, starts ARTIM), as the oracle has it."""
    pdus = sent(outputs)
    pdu = PDU_TYPES[pdus[0][0]] if pdus else None
    return (
        pdu,
        pdus[0][8] if pdu is Pdu.A_ABORT else None,
        any(isinstance(output, CloseTransport) for output in outputs),
        any(isinstance(output, StartArtim) for output in outputs),
    )


def assert_per_table(state: State, event: Event, role: Role, outputs: list[Output]) -> None:
    reactions = acceptable_reactions(state, event, role)
    assert reactions is not UNDEFINED
    strict = {
        (r.sends, r.abort_source, r.closes_transport, r.starts_artim) for r in reactions if r.strict
    }
    assert seen_reaction(outputs) in strict, (state, event, outputs)


# -- sans-I/O: driving each role into its stable states ------------------------------------


def acceptor_in(state: State) -> AcceptorProtocol:
    protocol = AcceptorProtocol(CONFIG)
    protocol.connection_made()
    steps: dict[State, list[Callable[[], object]]] = {
        State.STA2: [],
        State.STA6: [lambda: protocol.receive(RQ_BYTES)],
        State.STA7: [lambda: protocol.receive(RQ_BYTES), protocol.release],
        State.STA10: [
            lambda: protocol.receive(RQ_BYTES),
            protocol.release,
            lambda: protocol.receive(PDUS["A-RELEASE-RQ"]),
        ],
        State.STA13: [
            lambda: protocol.receive(RQ_BYTES),
            lambda: protocol.receive(PDUS["A-RELEASE-RQ"]),
        ],
    }
    for step in steps[state]:
        step()
    assert protocol.state is state
    return protocol


def requestor_in(state: State) -> RequestorProtocol:
    protocol = RequestorProtocol(SCU_CONFIG, RQ)
    protocol.associate()
    protocol.connection_made()
    steps: dict[State, list[Callable[[], object]]] = {
        State.STA5: [],
        State.STA6: [lambda: protocol.receive(PDUS["A-ASSOCIATE-AC"])],
        State.STA7: [lambda: protocol.receive(PDUS["A-ASSOCIATE-AC"]), protocol.release],
        State.STA11: [
            lambda: protocol.receive(PDUS["A-ASSOCIATE-AC"]),
            protocol.release,
            lambda: protocol.receive(PDUS["A-RELEASE-RQ"]),
        ],
        State.STA13: [lambda: protocol.receive(PDUS["A-ASSOCIATE-AC"]), protocol.abort],
    }
    for step in steps[state]:
        step()
    assert protocol.state is state
    return protocol


CASES = [
    (role, state, name)
    for role, states in (
        (Role.ACCEPTOR, (State.STA2, State.STA6, State.STA7, State.STA10, State.STA13)),
        (Role.REQUESTOR, (State.STA5, State.STA6, State.STA7, State.STA11, State.STA13)),
    )
    for state in states
    for name in PDUS
]


def in_state(role: Role, state: State) -> AcceptorProtocol | RequestorProtocol:
    return acceptor_in(state) if role is Role.ACCEPTOR else requestor_in(state)


@pytest.mark.parametrize(("role", "state", "name"), CASES, ids=str)
def test_every_received_pdu_gets_the_table_9_10_reaction(
    role: Role, state: State, name: str
) -> None:
    protocol = in_state(role, state)
    raw = PDUS[name]
    event = received_event(raw[0])
    assert_per_table(state, event, role, protocol.receive(raw))


@pytest.mark.parametrize(
    ("role", "state"),
    sorted({(role, state) for role, state, _ in CASES}),
    ids=str,
)
def test_transport_close_and_artim_per_table(role: Role, state: State) -> None:
    assert_per_table(state, Event.EVT17, role, in_state(role, state).transport_closed())
    if state in (State.STA2, State.STA13):
        assert_per_table(state, Event.EVT18, role, in_state(role, state).artim_expired())


# -- sans-I/O: A-ABORT reasons (PS3.8 Table 9-26) ----------------------------------------


def abort_of(outputs: list[Output]) -> tuple[int, int]:
    (pdu,) = sent(outputs)
    abort = dissect_one(pdu)
    assert isinstance(abort, A_ABORT)
    return abort.source, abort.reason


def data_pdu(pc_id: int, control: int, fragment: bytes) -> bytes:
    return encode_p_data_tf([(pc_id, control, fragment)])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(UNKNOWN_PDU, 1, id="unknown-pdu-type"),
        pytest.param(PDUS["A-ASSOCIATE-AC"], 2, id="ac"),
        pytest.param(PDUS["A-ASSOCIATE-RJ"], 2, id="rj"),
        pytest.param(RQ_BYTES, 2, id="second-rq"),
        pytest.param(PDUS["A-RELEASE-RP"], 2, id="release-rp"),
        pytest.param(bytes(A_RELEASE_RQ(extra=b"\0\0")), 6, id="release-rq-length-6"),
        pytest.param(data_pdu(3, 0x03, b"\0\0"), 6, id="p-data-unaccepted-pc"),
        pytest.param(data_pdu(1, 0x03, b"\0" * 16380), 6, id="p-data-over-max-length"),
        pytest.param(data_pdu(1, 0x01, b"\0\0\0"), 6, id="p-data-odd-fragment"),
        pytest.param(data_pdu(1, 0x02, b"\0\0"), 6, id="p-data-data-before-command"),
        pytest.param(bytes.fromhex("04000000000400000009"), 6, id="pdv-overruns-pdu"),
        pytest.param(bytes.fromhex("0100000000020001"), 6, id="rq-truncated-body"),
    ],
)
def test_abort_in_sta6_names_the_problem(raw: bytes, reason: int) -> None:
    """AA-8: service-provider source, reason per PS38 digest 5.2; ARTIM starts."""
    protocol = acceptor_in(State.STA6)
    outputs = protocol.receive(raw)
    assert abort_of(outputs) == (2, reason)
    assert protocol.state is State.STA13
    assert any(isinstance(output, StartArtim) for output in outputs)


def test_unexpected_first_pdu_aborts_with_service_user_source() -> None:
    """AA-1 in Sta2: source 0, reason 0 (not significant); ARTIM (re)started."""
    protocol = acceptor_in(State.STA2)
    outputs = protocol.receive(ECHO_RQ)
    assert abort_of(outputs) == (0, 0)
    assert protocol.machine.cells[-1] == (State.STA2, Event.EVT10)


def test_rq_without_required_items_is_an_invalid_pdu() -> None:
    rq = RQ.build()
    rq.variable_items[-1].user_data = [UnknownItem(item_type=0x70)]
    protocol = acceptor_in(State.STA2)
    assert abort_of(protocol.receive(bytes(rq))) == (0, 0)
    assert protocol.machine.cells[-1] == (State.STA2, Event.EVT19)


@pytest.mark.parametrize("raw", [RQ_BYTES, UNKNOWN_PDU], ids=["rq", "unknown"])
def test_sta13_aborts_without_restarting_artim(raw: bytes) -> None:
    """AA-7: an A-ABORT, and ARTIM keeps running from when it started."""
    protocol = acceptor_in(State.STA13)
    outputs = protocol.receive(raw)
    assert abort_of(outputs)[0] == 2
    assert not any(isinstance(output, StartArtim) for output in outputs)


# -- sans-I/O: negotiation paths and DIMSE ------------------------------------------------


def test_provider_rejection_takes_ae6_reject_branch() -> None:
    """Protocol version without bit 0: RJ 1/2/2 straight from AE-6, ARTIM started."""
    rq = RQ.build()
    rq.protocol_version = 2
    protocol = acceptor_in(State.STA2)
    outputs = protocol.receive(bytes(rq))
    assert Rejection.from_packet(dissect_one(sent(outputs)[0])) == Rejection(1, 2, 2)
    assert protocol.machine.cells[-1] == (State.STA2, Event.EVT6)
    assert protocol.state is State.STA13
    assert isinstance(outputs[-1], StartArtim)


def test_user_rejection_goes_through_sta3() -> None:
    protocol = acceptor_in(State.STA2)
    outputs = protocol.receive(bytes(replace(RQ, called_ae_title="SOMEONE-ELSE").build()))
    assert Rejection.from_packet(dissect_one(sent(outputs)[0])) == Rejection(1, 1, 7)
    assert protocol.machine.cells[-2:] == [(State.STA2, Event.EVT6), (State.STA3, Event.EVT8)]


def test_association_limit_rejects_transiently() -> None:
    protocol = AcceptorProtocol(CONFIG, busy=True)
    protocol.connection_made()
    outputs = protocol.receive(RQ_BYTES)
    assert Rejection.from_packet(dissect_one(sent(outputs)[0])) == Rejection(2, 3, 2)


def responses(outputs: list[Output]) -> list[Dataset]:
    commands = []
    for pdu in sent(outputs):
        for pdv in iter_pdvs(memoryview(pdu)[6:]):
            commands.append(decode_command(pdv.fragment))
    return commands


def test_outstanding_requests_are_all_answered() -> None:
    """With an asynchronous window negotiated, each request gets its response."""
    protocol = acceptor_in(State.STA2)
    protocol.receive(bytes(replace(RQ, async_ops_window=(3, 3)).build()))
    outputs = protocol.receive(ECHO_RQ)
    outputs += protocol.receive(message_pdus(1, encode_command(c_echo_rq(2)), None, 0)[0])
    assert [(r.MessageIDBeingRespondedTo, r.Status) for r in responses(outputs)] == [
        (1, 0),
        (2, 0),
    ]


def test_responses_respect_the_peer_maximum_length() -> None:
    """PS3.8 D.1: every P-DATA-TF it sends has PDU-length <= the RQ's maximum."""
    protocol = acceptor_in(State.STA2)
    protocol.receive(bytes(replace(RQ, max_length=32).build()))
    pdus = sent(protocol.receive(ECHO_RQ))
    assert len(pdus) > 1
    assert all(struct.unpack(">I", pdu[2:6])[0] <= 32 for pdu in pdus)


def test_peer_maximum_too_small_for_any_fragment_aborts() -> None:
    protocol = acceptor_in(State.STA2)
    protocol.receive(bytes(replace(RQ, max_length=7).build()))
    assert abort_of(protocol.receive(ECHO_RQ)) == (0, 0)


def test_release_collision_acceptor_answers_after_the_requestor() -> None:
    """PS3.8 7.2.2.7: Sta10 waits for the peer's RP, then RP and ARTIM (AR-10, AR-4)."""
    protocol = acceptor_in(State.STA10)
    outputs = protocol.receive(PDUS["A-RELEASE-RP"])
    assert [PDU_TYPES[pdu[0]] for pdu in sent(outputs)] == [Pdu.A_RELEASE_RP]
    assert protocol.state is State.STA13


def test_release_collision_requestor_answers_first_then_closes() -> None:
    protocol = requestor_in(State.STA11)
    assert protocol.receive(PDUS["A-RELEASE-RP"]) == [CloseTransport()]
    assert protocol.machine.cells[-3:] == [
        (State.STA7, Event.EVT12),
        (State.STA9, Event.EVT14),
        (State.STA11, Event.EVT13),
    ]


def test_idle_timeout_aborts_where_the_table_allows_else_closes() -> None:
    """PS3.8 9.1.4 note 2: an application timeout is a local A-ABORT (Evt15, AA-1)."""
    assert abort_of(acceptor_in(State.STA6).timed_out()) == (0, 0)
    assert acceptor_in(State.STA13).timed_out() == [CloseTransport()]


def test_requestor_aborts_an_ac_without_required_items() -> None:
    """An AC lacking its User Information item is invalid: AA-8, source 2, reason 6."""
    ac = dissect_one(PDUS["A-ASSOCIATE-AC"])
    ac.variable_items = ac.variable_items[:-1]
    ac.length = None
    raw = bytes(ac)
    assert "user-information" in AssociateAC.from_packet(dissect_one(raw)).irregularities.missing
    protocol = requestor_in(State.STA5)
    assert abort_of(protocol.receive(raw)) == (2, 6)
    assert protocol.machine.cells[-1] == (State.STA5, Event.EVT19)


def test_requestor_aborts_an_ac_whose_items_are_out_of_order() -> None:
    """PS3.8 9.3.1 and 9.3.3: 10H, 21H..., 50H; 50H first is invalid: AA-8, source 2,
    reason 5 (unexpected-PDU parameter)."""
    ac = dissect_one(PDUS["A-ASSOCIATE-AC"])
    ac.variable_items = [ac.variable_items[-1], *ac.variable_items[:-1]]
    protocol = requestor_in(State.STA5)
    assert abort_of(protocol.receive(bytes(ac))) == (2, 5)
    assert protocol.machine.cells[-1] == (State.STA5, Event.EVT19)


def test_requestor_skips_unknown_items_when_it_checks_their_order() -> None:
    """PS3.8 9.3.1: an item of an unrecognized type is skipped, wherever it is."""
    ac = dissect_one(PDUS["A-ASSOCIATE-AC"])
    ac.variable_items = [UnknownItem(item_type=0x60, data=b"\0\0"), *ac.variable_items]
    ac.length = None
    protocol = requestor_in(State.STA5)
    assert protocol.receive(bytes(ac)) == []
    assert protocol.state is State.STA6


def test_requestor_aborts_when_the_application_context_is_changed() -> None:
    """PS3.8 7.1.1.2: a requestor that cannot work in the returned context aborts."""
    ac = dissect_one(PDUS["A-ASSOCIATE-AC"])
    ac.variable_items[0].application_context_name = b"1.2.3.4"
    ac.variable_items[0].item_length = ac.length = None
    protocol = requestor_in(State.STA5)
    assert abort_of(protocol.receive(bytes(ac))) == (0, 0)
    assert protocol.machine.cells[-2:] == [(State.STA5, Event.EVT3), (State.STA6, Event.EVT15)]


def test_requestor_records_the_rejection_and_closes() -> None:
    protocol = requestor_in(State.STA5)
    assert protocol.receive(PDUS["A-ASSOCIATE-RJ"]) == [CloseTransport()]
    assert protocol.rejection == Rejection(1, 1, 1)


@pytest.mark.parametrize(
    ("command", "data_set", "status"),
    [
        pytest.param(c_echo_rq(5, CT_IMAGE_STORAGE), None, 0x0122, id="wrong-sop-class"),
        pytest.param(c_find_rq(5, CT_IMAGE_STORAGE), b"\0\0", 0x0211, id="unrecognized-op"),
    ],
)
def test_scp_answers_requests_it_cannot_serve_with_a_status(
    command: Dataset, data_set: bytes | None, status: int
) -> None:
    protocol = acceptor_in(State.STA6)
    outputs: list[Output] = []
    for pdu in message_pdus(1, encode_command(command), data_set, 0):
        outputs += protocol.receive(pdu)
    (response,) = responses(outputs)
    assert (response.MessageIDBeingRespondedTo, response.Status) == (5, status)


def test_config_from_a_profile_builtin_section() -> None:
    settings = {
        "artim": 1.0,
        "allowed_calling_ae_titles": ["DICOM-HARNESS"],
        "async_ops_window": [2, 3],
        "user_identities": [["user", "secret"]],
    }
    config = config_from_mapping("SCP", settings)
    assert config.ae_title == "SCP"
    assert config.allowed_calling_ae_titles == frozenset({"DICOM-HARNESS"})
    assert config.async_ops_window == (2, 3)
    assert config.user_identities == frozenset({(b"user", b"secret")})
    with pytest.raises(ValueError, match="artimm"):
        config_from_mapping("SCP", {"artimm": 1})


# -- on the wire ---------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(CONFIG) as running:
        yield running


def connect(server: ReferenceServer) -> FakePeer:
    return FakePeer.connect(*server.address, timeout=REPLY)


def associate(server: ReferenceServer) -> FakePeer:
    peer = connect(server)
    peer.send(RQ_BYTES)
    assert peer.receive(REPLY).pdu_type == 0x02
    return peer


def abort_on_wire(observation: Observation) -> tuple[int, int]:
    assert observation.kind is Observed.PDU, observation
    abort = dissect_one(observation.raw)
    assert isinstance(abort, A_ABORT)
    return abort.source, abort.reason


def last_cell(server: ReferenceServer) -> tuple[State, Event]:
    (record,) = server.wait_for_records(1, REPLY)
    assert record.error is None
    return record.protocol.machine.cells[-1]


def test_wire_unexpected_pdu_in_sta2_aborts_then_waits_for_our_close(
    server: ReferenceServer,
) -> None:
    peer = connect(server)
    peer.send(PDUS["A-RELEASE-RQ"])
    assert abort_on_wire(peer.receive(REPLY)) == (0, 0)
    peer.close()
    assert last_cell(server) == (State.STA13, Event.EVT17)


def test_wire_unknown_pdu_in_sta6_aborts_with_reason_1(server: ReferenceServer) -> None:
    peer = associate(server)
    peer.send(UNKNOWN_PDU)
    assert abort_on_wire(peer.receive(REPLY)) == (2, 1)
    assert peer.receive(REPLY).kind is Observed.CLOSED  # ARTIM in Sta13 (AA-2)
    assert last_cell(server) == (State.STA13, Event.EVT18)


def test_wire_silent_connection_closed_after_artim(server: ReferenceServer) -> None:
    """Sta2 + Evt18: AA-2, a close without any PDU, after ARTIM (0.3 s)."""
    observation = connect(server).receive(REPLY)
    assert observation.kind is Observed.CLOSED
    assert observation.waited >= CONFIG.artim * 0.9
    assert last_cell(server) == (State.STA2, Event.EVT18)


def test_wire_abort_from_us_closes_without_a_pdu(server: ReferenceServer) -> None:
    peer = associate(server)
    peer.send(PDUS["A-ABORT"])
    assert peer.receive(REPLY).kind is Observed.CLOSED
    assert last_cell(server) == (State.STA6, Event.EVT16)


def test_wire_release_then_server_waits_for_our_close(server: ReferenceServer) -> None:
    """AR-4: RP, then Sta13 with ARTIM; the release requestor closes (AR-5 here)."""
    peer = associate(server)
    peer.send(ECHO_RQ)
    echo = peer.receive(REPLY)
    assert decode_command(next(iter_pdvs(echo.raw[6:])).fragment).Status == 0
    peer.send(PDUS["A-RELEASE-RQ"])
    assert peer.receive(REPLY).raw == PDUS["A-RELEASE-RP"]
    assert peer.receive(CONFIG.artim / 3).kind is Observed.TIMEOUT
    peer.close()
    assert last_cell(server) == (State.STA13, Event.EVT17)


def test_wire_release_then_server_closes_after_artim(server: ReferenceServer) -> None:
    peer = associate(server)
    peer.send(PDUS["A-RELEASE-RQ"])
    assert peer.receive(REPLY).raw == PDUS["A-RELEASE-RP"]
    observation = peer.receive(REPLY)
    assert observation.kind is Observed.CLOSED
    assert last_cell(server) == (State.STA13, Event.EVT18)


def test_wire_pdu_split_over_writes_is_reassembled(server: ReferenceServer) -> None:
    peer = connect(server)
    peer.send(RQ_BYTES, writes=[1, 5, 20])
    assert peer.receive(REPLY).pdu_type == 0x02


def test_wire_pdu_longer_than_we_read_is_invalid(server: ReferenceServer) -> None:
    """A declared PDU-length beyond the read cap: Evt19 (AA-8, reason 6); the rest of
    that PDU is discarded until the connection ends."""
    peer = associate(server)
    peer.send(struct.pack(">BxI", 0x04, 0xFFFFFFFF) + bytes(100))
    assert abort_on_wire(peer.receive(REPLY)) == (2, 6)
    peer.send(bytes(100))
    peer.close()
    assert last_cell(server) == (State.STA13, Event.EVT17)


def test_wire_association_limit_rejects_transiently() -> None:
    with ReferenceServer(replace(CONFIG, max_associations=1)) as limited:
        first = associate(limited)
        second = connect(limited)
        second.send(RQ_BYTES)
        rejection = Rejection.from_packet(dissect_one(second.receive(REPLY).raw))
        assert rejection == Rejection(2, 3, 2)
        first.close()


def test_stop_ends_live_connections_as_closed_by_their_peer() -> None:
    with ReferenceServer(CONFIG) as running:
        peer = associate(running)
    assert peer.receive(REPLY).kind is Observed.CLOSED
    (record,) = running.records
    assert record.protocol.machine.cells[-1] == (State.STA6, Event.EVT17)


def test_reference_scp_fixture_serves_our_scu(reference_scp: tuple[str, int]) -> None:
    run = run_requestor(*reference_scp, called_ae_title="HARNESS-SCP")
    assert run.statuses == [0]
    assert run.protocol.state is State.STA1
    assert run.protocol.machine.cells[-1] == (State.STA7, Event.EVT13)


# -- deliberately broken peers: one overridden method each --------------------------------


class IgnoresArtimInSta13(AcceptorProtocol):
    def on_artim_expired(self) -> None:
        if self.state is not State.STA13:
            super().on_artim_expired()


class WrongRejectSource(AcceptorProtocol):
    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        answer = super().negotiate(rq)
        return replace(answer, source=2) if isinstance(answer, Rejection) else answer


class NoAbortOnInvalidPdu(AcceptorProtocol):
    def on_pdu(self, inbound: Inbound) -> None:
        if inbound.event is not Event.EVT19:
            super().on_pdu(inbound)


class AsyncWindowTooLarge(AcceptorProtocol):
    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        answer = super().negotiate(rq)
        return (
            replace(answer, async_ops_window=(9, 9)) if isinstance(answer, AssociateAC) else answer
        )


def test_broken_peer_ignoring_artim_in_sta13_keeps_the_connection() -> None:
    with ReferenceServer(replace(CONFIG, idle_timeout=REPLY), IgnoresArtimInSta13) as broken:
        peer = associate(broken)
        peer.send(PDUS["A-RELEASE-RQ"])
        assert peer.receive(REPLY).raw == PDUS["A-RELEASE-RP"]
        assert peer.receive(CONFIG.artim * 2).kind is Observed.TIMEOUT
        peer.close()


def test_broken_peer_with_wrong_reject_source() -> None:
    with ReferenceServer(CONFIG, WrongRejectSource) as broken:
        peer = connect(broken)
        peer.send(bytes(replace(RQ, called_ae_title="NOBODY").build()))
        rejection = Rejection.from_packet(dissect_one(peer.receive(REPLY).raw))
        assert rejection == Rejection(1, 2, 7)


def test_broken_peer_without_abort_on_unknown_pdu_still_echoes() -> None:
    with ReferenceServer(CONFIG, NoAbortOnInvalidPdu) as broken:
        peer = associate(broken)
        peer.send(UNKNOWN_PDU + ECHO_RQ)
        assert peer.receive(REPLY).pdu_type == 0x04


def test_broken_peer_answering_a_larger_async_window() -> None:
    with ReferenceServer(CONFIG, AsyncWindowTooLarge) as broken:
        peer = connect(broken)
        peer.send(bytes(replace(RQ, async_ops_window=(2, 2)).build()))
        ac = AssociateAC.from_packet(dissect_one(peer.receive(REPLY).raw))
        assert ac.async_ops_window == (9, 9)


# -- against pynetdicom 3.0.4 --------------------------------------------------------------


def ct_data_set() -> Dataset:
    """A small CT Image Storage instance."""
    ds = Dataset()
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "Harness^Test"
    ds.PatientID = "HARNESS-1"
    ds.Modality = "CT"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 2
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(8)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


def pynetdicom_scu() -> AE:
    ae = AE(ae_title="PYNETDICOM")
    ae.add_requested_context(VERIFICATION_SOP_CLASS)
    ae.add_requested_context(CT_IMAGE_STORAGE)
    return ae


@pytest.mark.peer("pynetdicom")
def test_pynetdicom_scu_echo_store_release(server: ReferenceServer) -> None:
    ds = ct_data_set()
    assoc = pynetdicom_scu().associate(*server.address, ae_title=CONFIG.ae_title)
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0
    assert assoc.send_c_store(ds).Status == 0
    assoc.release()
    assert assoc.is_released
    (record,) = server.wait_for_records(1, REPLY)
    assert record.error is None
    (stored,) = record.protocol.stored
    assert stored.sop_instance_uid == ds.SOPInstanceUID
    received = decode_data_set(stored.data, stored.transfer_syntax)
    assert received.PatientName == ds.PatientName
    assert received.PixelData == ds.PixelData


@pytest.mark.peer("pynetdicom")
def test_pynetdicom_sees_called_ae_rejection(server: ReferenceServer) -> None:
    assoc = pynetdicom_scu().associate(*server.address, ae_title="NOT-HARNESS")
    assert assoc.is_rejected
    primitive = assoc.acceptor.primitive
    assert (primitive.result, primitive.result_source, primitive.diagnostic) == (1, 1, 7)


@pytest.mark.peer("pynetdicom")
def test_our_scu_against_pynetdicom_scp() -> None:
    received: list[Dataset] = []

    def on_store(event: evt.Event) -> int:
        received.append(event.dataset)
        return 0x0000

    ae = AE(ae_title="PYNET-SCP")
    ae.add_supported_context(VERIFICATION_SOP_CLASS)
    ae.add_supported_context(CT_IMAGE_STORAGE)
    scp = ae.start_server((LOOPBACK, 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    ds = ct_data_set()
    try:
        port = scp.server_address[1]
        run = run_requestor(
            LOOPBACK, port, called_ae_title="PYNET-SCP", actions=(Echo(), Store(ds))
        )
    finally:
        scp.shutdown()
    assert run.ac is not None
    assert run.statuses == [0, 0]
    assert run.protocol.state is State.STA1
    assert [r.SOPInstanceUID for r in received] == [ds.SOPInstanceUID]


def test_a_server_keeps_its_last_records_and_counts_every_association() -> None:
    with ReferenceServer(max_records=2) as server:
        host, port = server.address
        for _ in range(3):
            run_requestor(host, port, called_ae_title=server.config.ae_title)
        records = server.wait_for_records(3, REPLY)
        finished, fresh = server.records_after(2, 0.0)
    assert len(records) == 2
    assert (finished, fresh) == (3, records[-1:])
