"""The fake peer on a real 127.0.0.1 connection: what it sends, what it observes, what it records.

The far end of every connection is a plain socket playing the SUT. The peer must tell
"timed out", "closed by peer", "reset by peer", "closed in the middle of a PDU" and
"declared too long" apart, and keep every byte both ways in its transcript.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from harness.framing import encode_p_data_tf
from harness.peer import DEFAULT_READ_CAP, FakePeer, Observed, SendStalledError, pdu_label
from harness.transcript import RAW_KEEP, Direction, Entry, Transcript, TransportEvent

LOOPBACK = "127.0.0.1"
SAFETY_NET = 5.0
"""Upper bound of a wait that the test expects to end sooner; it is never waited out."""

RELEASE_RQ = bytes.fromhex("05000000000400000000")
RELEASE_RP = bytes.fromhex("06000000000400000000")
ABORT = bytes.fromhex("07000000000400000201")
P_DATA = encode_p_data_tf([(1, 0x03, bytes(range(16)))])


@dataclass
class Link:
    """A connected fake peer and the far end of its connection (the SUT's socket)."""

    peer: FakePeer
    far: socket.socket

    def far_reads(self, size: int) -> bytes:
        """Exactly ``size`` bytes from the far end, however the writes were cut."""
        data = b""
        while len(data) < size:
            chunk = self.far.recv(size - len(data))
            assert chunk, f"the far end saw EOF after {len(data)} of {size} bytes"
            data += chunk
        return data

    def far_resets(self) -> None:
        """The far end aborts the connection: close with SO_LINGER (1, 0) sends an RST."""
        self.far.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.far.close()

    def entries(self) -> list[Entry]:
        return self.peer.transcript.entries

    def labels(self) -> list[str]:
        return [entry.label for entry in self.entries()]


@pytest.fixture
def link() -> Iterator[Link]:
    """A fake peer connected as requestor to a listener that accepted it."""
    with socket.create_server((LOOPBACK, 0)) as listener:
        host, port = listener.getsockname()
        peer = FakePeer.connect(host, port, timeout=SAFETY_NET)
        far, _ = listener.accept()
    far.settimeout(SAFETY_NET)
    with far:
        yield Link(peer, far)
    peer.close()


# -- connecting --------------------------------------------------------------------------


def test_connecting_records_where_to(link: Link) -> None:
    host, port = link.far.getsockname()

    assert link.peer.open
    assert [(e.direction, e.label, e.note) for e in link.entries()] == [
        (Direction.EVENT, "connected", f"{host}:{port}")
    ]


def test_accepting_records_who_connected() -> None:
    with socket.create_server((LOOPBACK, 0)) as listener, socket.socket() as sut:
        sut.connect(listener.getsockname())
        peer = FakePeer.accept(listener, timeout=SAFETY_NET)
        try:
            host, port = sut.getsockname()
            assert [(e.label, e.note) for e in peer.transcript.entries] == [
                ("accepted", f"{host}:{port}")
            ]
            sut.sendall(ABORT)
            assert peer.receive(SAFETY_NET).raw == ABORT
        finally:
            peer.close()


def test_accepting_waits_no_longer_than_its_timeout() -> None:
    with socket.create_server((LOOPBACK, 0)) as listener, pytest.raises(TimeoutError):
        FakePeer.accept(listener, timeout=0.05)


# -- receiving: a PDU, or how the wait ended instead -----------------------------------------


def test_a_pdu_is_received_whole_and_recorded(link: Link) -> None:
    link.far.sendall(P_DATA)

    observation = link.peer.receive(SAFETY_NET)

    assert (observation.kind, observation.pdu_type, observation.raw) == (Observed.PDU, 4, P_DATA)
    assert not observation.is_transport_end
    received = link.entries()[-1]
    assert (received.direction, received.label, received.raw) == (
        Direction.RECEIVED,
        "P-DATA-TF",
        P_DATA,
    )


def test_a_timeout_is_reported_as_a_timeout_and_the_connection_stays_open(link: Link) -> None:
    observation = link.peer.receive(0.05)

    assert observation.kind is Observed.TIMEOUT
    assert not observation.is_transport_end
    assert observation.waited >= 0.04
    assert link.peer.open
    assert link.labels()[-1] == str(TransportEvent.TIMED_OUT)
    assert "closed-by-peer" not in link.labels()
    # The connection still carries PDUs after the timeout.
    link.far.sendall(RELEASE_RP)
    assert link.peer.receive(SAFETY_NET).raw == RELEASE_RP


def test_a_timeout_in_the_middle_of_a_pdu_keeps_the_bytes_so_far(link: Link) -> None:
    link.far.sendall(P_DATA[:3])

    observation = link.peer.receive(0.05)

    assert (observation.kind, observation.raw) == (Observed.TIMEOUT, P_DATA[:3])
    assert link.peer.open
    timed_out = link.entries()[-1]
    assert (timed_out.label, timed_out.raw) == ("timed-out", P_DATA[:3])
    assert timed_out.note == "after 0.050 s, 3 bytes of a PDU"


def test_a_clean_close_by_the_other_side_is_closed(link: Link) -> None:
    link.far.close()

    observation = link.peer.receive(SAFETY_NET)

    assert (observation.kind, observation.raw) == (Observed.CLOSED, b"")
    assert observation.is_transport_end
    assert not link.peer.open
    assert link.labels()[-1] == "closed-by-peer"


def test_a_reset_by_the_other_side_is_a_reset_not_a_close(link: Link) -> None:
    link.far_resets()

    observation = link.peer.receive(SAFETY_NET)

    assert observation.kind is Observed.RESET
    assert observation.is_transport_end
    assert not link.peer.open
    assert link.labels()[-1] == "reset-by-peer"
    assert "closed-by-peer" not in link.labels()


def test_a_close_in_the_middle_of_a_pdu_is_truncation_with_the_partial_bytes(
    link: Link,
) -> None:
    link.far.sendall(P_DATA[:9])
    link.far.close()

    observation = link.peer.receive(SAFETY_NET)

    assert (observation.kind, observation.pdu_type, observation.raw) == (
        Observed.TRUNCATED,
        4,
        P_DATA[:9],
    )
    assert observation.is_transport_end
    assert not link.peer.open
    truncated = link.entries()[-1]
    assert (truncated.label, truncated.raw) == ("truncated-pdu", P_DATA[:9])
    assert truncated.note == f"closed after 9 of {len(P_DATA)} bytes"


def test_a_declared_length_over_the_cap_is_too_long_without_allocating_it(link: Link) -> None:
    header = struct.pack(">BxL", 0x04, 0xFFFFFFFF)
    link.far.sendall(header + b"body")

    tracemalloc.start()
    try:
        observation = link.peer.receive(SAFETY_NET)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (observation.kind, observation.pdu_type, observation.raw) == (
        Observed.TOO_LONG,
        4,
        header,
    )
    assert peak < 256 * 1024
    assert not observation.is_transport_end
    too_long = link.entries()[-1]
    assert (too_long.label, too_long.raw) == ("pdu-too-long", header)
    assert too_long.note == f"declared PDU-length {0xFFFFFFFF} > cap {DEFAULT_READ_CAP}"


def test_a_pdu_of_an_unknown_type_is_still_a_pdu(link: Link) -> None:
    unknown = struct.pack(">BxL", 0x08, 2) + b"\x00\x00"
    link.far.sendall(unknown)

    observation = link.peer.receive(SAFETY_NET)

    assert (observation.kind, observation.pdu_type) == (Observed.PDU, 0x08)
    assert link.labels()[-1] == pdu_label(unknown) == "unknown PDU type 0x08"


def test_coalesced_pdus_are_received_one_at_a_time(link: Link) -> None:
    sut = FakePeer(link.far)
    sut.send(RELEASE_RP + ABORT)

    first = link.peer.receive(SAFETY_NET)
    second = link.peer.receive(SAFETY_NET)

    assert [(first.pdu_type, first.raw), (second.pdu_type, second.raw)] == [
        (6, RELEASE_RP),
        (7, ABORT),
    ]
    assert link.labels()[-2:] == ["A-RELEASE-RP", "A-ABORT"]


# -- sending -----------------------------------------------------------------------------


def test_a_pdu_split_over_one_byte_writes_arrives_as_the_same_bytes(link: Link) -> None:
    assert link.peer.send(P_DATA, writes=(1,) * len(P_DATA))

    assert link.far_reads(len(P_DATA)) == P_DATA
    sent = [e for e in link.entries() if e.direction is Direction.SENT]
    assert [(e.label, e.raw, e.note) for e in sent] == [
        ("P-DATA-TF", P_DATA, f"in {len(P_DATA)} TCP writes")
    ]


def test_write_sizes_short_of_the_pdu_send_the_rest_as_a_last_write(link: Link) -> None:
    assert link.peer.send(P_DATA, writes=(1, 2), note="split header")

    assert link.far_reads(len(P_DATA)) == P_DATA
    assert link.entries()[-1].note == "split header, in 3 TCP writes"


def test_a_pdu_sent_whole_notes_no_writes(link: Link) -> None:
    assert link.peer.send(RELEASE_RQ)

    assert link.far_reads(len(RELEASE_RQ)) == RELEASE_RQ
    assert (link.entries()[-1].label, link.entries()[-1].note) == ("A-RELEASE-RQ", "")


def test_two_pdus_coalesced_in_one_send_arrive_together(link: Link) -> None:
    both = RELEASE_RQ + ABORT

    assert link.peer.send(both, label="A-RELEASE-RQ + A-ABORT")

    # One write of 20 bytes on loopback is one segment: a single read sees both PDUs.
    assert link.far.recv(64, socket.MSG_PEEK) == both
    sent = link.entries()[-1]
    assert (sent.direction, sent.label, sent.raw) == (
        Direction.SENT,
        "A-RELEASE-RQ + A-ABORT",
        both,
    )
    assert [pdu["pdu_type"] for pdu in sent.to_json()["pdu"]] == [5, 7]


def test_sending_into_a_reset_connection_reports_the_reset(link: Link) -> None:
    link.far_resets()
    readable, _, _ = select.select([link.peer.sock], [], [], SAFETY_NET)
    assert readable, "the RST never arrived"

    assert not link.peer.send(RELEASE_RQ)

    assert not link.peer.open
    reset = link.entries()[-1]
    assert reset.label == "reset-by-peer"
    assert reset.note.startswith("while sending: ")


def test_a_sut_that_stops_reading_stalls_the_send_within_its_deadline(link: Link) -> None:
    link.peer.sock.settimeout(0.2)
    flood = bytes(6) + bytes(32 * 1024 * 1024)  # more than loopback buffers hold

    started = time.monotonic()
    with pytest.raises(SendStalledError, match="the SUT stopped reading: our 33554438-byte"):
        link.peer.send(flood, label="P-DATA-TF")

    assert time.monotonic() - started < SAFETY_NET
    stalled = link.entries()[-1]
    assert (stalled.label, stalled.note[:30]) == ("timed-out", "while sending: the SUT stopped")


# -- ending ------------------------------------------------------------------------------


def test_close_sends_a_fin_and_is_recorded_once(link: Link) -> None:
    link.peer.close()
    link.peer.close()

    assert link.far.recv(1) == b""
    assert not link.peer.open
    assert link.labels() == ["connected", "closed-by-harness"]


@pytest.mark.parametrize("end", [FakePeer.close, FakePeer.reset], ids=["close", "reset"])
def test_nothing_is_sent_after_the_harness_ended_the_connection(
    link: Link, end: Callable[[FakePeer], None]
) -> None:
    end(link.peer)
    entries_before = list(link.entries())

    assert not link.peer.send(RELEASE_RQ)

    assert link.entries() == entries_before


def test_reset_sends_an_rst_and_is_recorded(link: Link) -> None:
    link.peer.reset()

    with pytest.raises(ConnectionResetError):
        link.far.recv(1)
    assert not link.peer.open
    assert link.labels() == ["connected", "reset-by-harness"]


# -- the transcript ----------------------------------------------------------------------


@pytest.fixture
def exchange(link: Link) -> Link:
    """A release exchange, then a timeout and the other side's close."""
    link.peer.send(RELEASE_RQ)
    link.far_reads(len(RELEASE_RQ))
    link.far.sendall(RELEASE_RP)
    assert link.peer.receive(SAFETY_NET).kind is Observed.PDU
    assert link.peer.receive(0.01).kind is Observed.TIMEOUT
    link.far.close()
    assert link.peer.receive(SAFETY_NET).kind is Observed.CLOSED
    return link


def test_transcript_json_has_bytes_and_dissection_for_pdus(exchange: Link) -> None:
    entries = json.loads(json.dumps(exchange.peer.transcript.to_json()))

    assert [(e["direction"], e["label"]) for e in entries] == [
        ("event", "connected"),
        ("sent", "A-RELEASE-RQ"),
        ("received", "A-RELEASE-RP"),
        ("event", "timed-out"),
        ("event", "closed-by-peer"),
    ]
    sent, received = entries[1], entries[2]
    assert set(sent) == set(received) == {"t", "direction", "label", "size", "hex", "pdu"}
    assert (sent["size"], sent["hex"]) == (10, RELEASE_RQ.hex())
    assert (received["size"], received["hex"]) == (10, RELEASE_RP.hex())
    assert sent["pdu"] == [{"pdu_type": 5, "reserved1": 0, "length": 4, "reserved2": 0}]
    assert received["pdu"] == [{"pdu_type": 6, "reserved1": 0, "length": 4, "reserved2": 0}]
    assert all("pdu" not in e and "hex" not in e for e in (entries[0], *entries[3:]))
    times = [e["t"] for e in entries]
    assert times == sorted(times)
    assert all(t >= 0 for t in times)


def test_transcript_render_has_one_line_per_entry_naming_the_pdus(exchange: Link) -> None:
    lines = exchange.peer.transcript.render().splitlines()

    assert len(lines) == len(exchange.entries())
    assert "-- connected" in lines[0]
    assert ">> A-RELEASE-RQ" in lines[1]
    assert "<< A-RELEASE-RP" in lines[2]
    assert "-- timed-out (after 0.010 s)" in lines[3]
    assert "-- closed-by-peer" in lines[4]


def test_transcript_keeps_a_bounded_prefix_of_a_large_pdu() -> None:
    transcript = Transcript()
    large = encode_p_data_tf([(1, 0x00, bytes(RAW_KEEP))])

    entry = transcript.add(Direction.SENT, "P-DATA-TF", large).to_json()

    assert entry["size"] == len(large) > RAW_KEEP
    assert entry["hex"] == large[:RAW_KEEP].hex()
    assert entry["hex_truncated"] is True


def test_transcript_json_of_undecodable_bytes_says_why() -> None:
    transcript = Transcript()

    entry = transcript.add(Direction.RECEIVED, "junk", b"\x09\x00\x00").to_json()

    assert entry["pdu"]["understood"] == []
    assert "at byte offset 0" in entry["pdu"]["error"]
