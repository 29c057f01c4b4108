"""harness.framing on real sockets: one PDU at a time, typed early ends, P-DATA-TF bytes."""

from __future__ import annotations

import socket
import struct
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.framing import (
    MIN_MAX_LENGTH,
    P_DATA_TF,
    FramingError,
    PDUTooLongError,
    PDVError,
    PeerClosedError,
    PeerResetError,
    ReadTimeoutError,
    TruncatedPDUError,
    encode_p_data_tf,
    fragment,
    iter_pdvs,
    max_fragment_length,
    read_pdu,
)

RELEASE_RQ = bytes.fromhex("05000000000400000000")
LOOPBACK = "127.0.0.1"
CAP = 1 << 20


def deadline(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def pdu(pdu_type: int, body: bytes) -> bytes:
    return struct.pack(">BxL", pdu_type, len(body)) + body


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(reader, writer) of a connected socketpair."""
    reader, writer = socket.socketpair()
    with reader, writer:
        yield reader, writer


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(reader, writer) of a TCP connection on 127.0.0.1."""
    with socket.create_server((LOOPBACK, 0)) as server:
        writer = socket.create_connection(server.getsockname())
        reader, _ = server.accept()
    with reader, writer:
        yield reader, writer


def test_reads_exactly_one_pdu_and_leaves_the_next(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    second = pdu(P_DATA_TF, encode_p_data_tf([(1, 3, b"ab")])[6:])
    writer.sendall(RELEASE_RQ + second)

    frame = read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)

    assert (frame.pdu_type, frame.length, bytes(frame.raw)) == (0x05, 4, RELEASE_RQ)
    assert bytes(frame.body) == b"\0" * 4
    assert frame.raw.readonly
    assert reader.recv(len(second), socket.MSG_PEEK) == second
    assert bytes(read_pdu(reader, deadline=deadline(), max_pdu_length=CAP).raw) == second


def test_restores_the_socket_timeout(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    reader.settimeout(7.0)
    writer.sendall(RELEASE_RQ)
    read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)
    assert reader.gettimeout() == 7.0


def test_pdu_split_over_many_tiny_writes(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    data = pdu(P_DATA_TF, encode_p_data_tf([(1, 2, bytes(range(200)))])[6:])

    def trickle() -> None:
        for index in range(len(data)):
            writer.sendall(data[index : index + 1])

    thread = threading.Thread(target=trickle)
    thread.start()
    frame = read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)
    thread.join()
    assert bytes(frame.raw) == data


def test_large_pdu_from_a_writer_thread(tcp_pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = tcp_pair
    data = pdu(P_DATA_TF, bytes(range(256)) * 8192)
    thread = threading.Thread(target=writer.sendall, args=(data,))
    thread.start()
    frame = read_pdu(reader, deadline=deadline(), max_pdu_length=len(data))
    thread.join()
    assert frame.length == len(data) - 6
    assert frame.raw == data


def test_clean_close_at_a_pdu_boundary(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    writer.sendall(RELEASE_RQ)
    writer.close()
    read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)
    with pytest.raises(PeerClosedError):
        read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param(RELEASE_RQ[:3], 6, id="mid-header"),
        pytest.param(pdu(0x04, b"0123456789")[:10], 16, id="mid-body"),
    ],
)
def test_close_mid_pdu_is_truncation(
    pair: tuple[socket.socket, socket.socket], sent: bytes, expected: int
) -> None:
    reader, writer = pair
    writer.sendall(sent)
    writer.close()
    with pytest.raises(TruncatedPDUError) as caught:
        read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)
    error = caught.value
    assert (error.data, error.received, error.expected, error.offset) == (
        sent,
        len(sent),
        expected,
        len(sent),
    )


@pytest.mark.parametrize("sent", [b"", b"\x04\x00\x00\x00\x00\x10abcd"], ids=["boundary", "mid"])
def test_reset_is_not_a_close(tcp_pair: tuple[socket.socket, socket.socket], sent: bytes) -> None:
    reader, writer = tcp_pair
    writer.sendall(sent)
    writer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
    with pytest.raises(PeerResetError) as caught:
        read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)
    assert caught.value.data == sent
    assert isinstance(caught.value.__cause__, ConnectionResetError)


@pytest.mark.parametrize("sent", [b"", RELEASE_RQ[:3], RELEASE_RQ[:8]])
def test_timeout_is_not_a_close(pair: tuple[socket.socket, socket.socket], sent: bytes) -> None:
    reader, writer = pair
    writer.sendall(sent)
    start = time.monotonic()
    with pytest.raises(ReadTimeoutError) as caught:
        read_pdu(reader, deadline=start + 0.05, max_pdu_length=CAP)
    elapsed = time.monotonic() - start
    assert not isinstance(caught.value, PeerClosedError | TruncatedPDUError)
    assert (caught.value.data, caught.value.expected) == (sent, 6 if len(sent) < 6 else 10)
    assert 0.05 <= elapsed < 2.0
    writer.sendall(b"still open")
    assert reader.recv(64) == b"still open"


def test_deadline_in_the_past_still_takes_what_is_there(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    writer.sendall(RELEASE_RQ)
    frame = read_pdu(reader, deadline=time.monotonic() - 1, max_pdu_length=CAP)
    assert bytes(frame.raw) == RELEASE_RQ


def test_huge_declared_length_is_refused_without_allocating(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    header = b"\x04\x00\xff\xff\xff\xff"
    writer.sendall(header + b"body")
    tracemalloc.start()
    try:
        with pytest.raises(PDUTooLongError) as caught:
            read_pdu(reader, deadline=deadline(), max_pdu_length=CAP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = caught.value
    assert (error.pdu_type, error.declared, error.cap, error.header) == (4, 0xFFFFFFFF, CAP, header)
    assert isinstance(error, FramingError)
    assert peak < 64 * 1024
    assert reader.recv(16) == b"body"


def test_cap_is_inclusive(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    writer.sendall(RELEASE_RQ + RELEASE_RQ)
    assert read_pdu(reader, deadline=deadline(), max_pdu_length=4).length == 4
    with pytest.raises(PDUTooLongError):
        read_pdu(reader, deadline=deadline(), max_pdu_length=3)


def test_p_data_tf_encoding_layout() -> None:
    data = encode_p_data_tf([(1, 0x03, b"ab"), (3, 0x00, b"")])
    assert data == bytes.fromhex("04 00 0000000e 00000004 01 03 6162 00000002 03 00")


fragments = st.lists(
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=64).map(bytearray)),
    min_size=1,
    max_size=8,
)


@given(fragments)
def test_p_data_tf_round_trip(pdvs: list[tuple[int, int, bytearray]]) -> None:
    data = encode_p_data_tf(pdvs)
    assert struct.unpack_from(">BxL", data) == (P_DATA_TF, len(data) - 6)
    decoded = list(iter_pdvs(data[6:]))
    assert [(p.pc_id, p.message_control_header, bytes(p.fragment)) for p in decoded] == [
        (pc_id, control, bytes(fragment_)) for pc_id, control, fragment_ in pdvs
    ]
    offsets = [0]
    for _, _, fragment_ in pdvs[:-1]:
        offsets.append(offsets[-1] + 6 + len(fragment_))
    assert [p.offset for p in decoded] == offsets


def test_p_data_tf_field_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        encode_p_data_tf([(256, 0, b"ab")])


def test_pdv_bits() -> None:
    (pdv,) = iter_pdvs(encode_p_data_tf([(1, 0xFD, b"ab")])[6:])
    assert (pdv.is_command, pdv.is_last) == (True, False)


GOOD = bytes.fromhex("00000004 01 03 6162")


@pytest.mark.parametrize(
    ("body", "offset", "message"),
    [
        pytest.param(b"", 0, "no PDV item", id="empty"),
        pytest.param(bytes.fromhex("00000001 01"), 0, "item-length 1 < 2", id="length-1"),
        pytest.param(GOOD + bytes.fromhex("00000000 0101"), 8, "< 2", id="length-0"),
        pytest.param(GOOD + bytes.fromhex("00000005 0103 6162"), 8, "overruns", id="overrun"),
        pytest.param(GOOD + bytes.fromhex("000000"), 8, "3 bytes left, too few", id="short-tail"),
    ],
)
def test_iter_pdvs_errors_carry_offsets(body: bytes, offset: int, message: str) -> None:
    with pytest.raises(PDVError, match=message) as caught:
        list(iter_pdvs(body))
    assert caught.value.offset == offset


def parse_single_pdv_pdu(data: bytes) -> tuple[int, int, int, bytes]:
    """(PDU-length, pc_id, control header, fragment) of a one-PDV P-DATA-TF, checked."""
    pdu_type, length = struct.unpack_from(">BxL", data)
    assert (pdu_type, len(data)) == (P_DATA_TF, 6 + length)
    (pdv,) = iter_pdvs(data[6:])
    return length, pdv.pc_id, pdv.message_control_header, bytes(pdv.fragment)


@pytest.mark.parametrize("max_length", [0, 8, 9, 10, 11, 12, 13, 14, 16, 17, 256, 16384])
@pytest.mark.parametrize("size", [2, 4, 6, 8, 10, 12, 250, 1000, 16378, 16380])
@pytest.mark.parametrize("command", [True, False])
def test_fragmentation_bounds_and_bits(max_length: int, size: int, command: bool) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    pdus = [
        parse_single_pdv_pdu(p)
        for p in fragment(5, payload, command=command, max_length=max_length)
    ]

    largest = max_fragment_length(max_length)
    assert b"".join(frag for *_, frag in pdus) == payload
    assert len(pdus) == -(-size // largest)
    for index, (length, pc_id, control, frag) in enumerate(pdus):
        last = index == len(pdus) - 1
        assert max_length == 0 or length <= max_length
        assert pc_id == 5
        assert len(frag) % 2 == 0
        assert frag
        assert len(frag) == largest or last
        assert control == (1 if command else 0) | (2 if last else 0)


@pytest.mark.parametrize(
    ("max_length", "largest"),
    [
        (0, 0xFFFFFFF8),
        (8, 2),
        (9, 2),
        (10, 4),
        (16384, 16378),
        (16383, 16376),
        (0xFFFFFFFF, 0xFFFFFFF8),
    ],
)
def test_max_fragment_length(max_length: int, largest: int) -> None:
    assert max_fragment_length(max_length) == largest


@pytest.mark.parametrize("max_length", [-1, 1, 6, MIN_MAX_LENGTH - 1, 1 << 32])
def test_max_length_that_cannot_carry_a_fragment(max_length: int) -> None:
    with pytest.raises(ValueError, match="cannot carry a 2-byte fragment"):
        list(fragment(1, b"ab", command=True, max_length=max_length))


@pytest.mark.parametrize("payload", [b"", b"abc"])
def test_fragment_refuses_empty_or_odd_payload(payload: bytes) -> None:
    with pytest.raises(ValueError, match=r"Annex E\.1"):
        list(fragment(1, payload, command=False, max_length=0))


def test_fragment_refuses_a_pc_id_over_one_byte() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        list(fragment(256, b"ab", command=False, max_length=0))


def test_fragments_read_back_through_a_socket(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    payload = bytes(range(100))
    writer.sendall(b"".join(fragment(7, payload, command=False, max_length=40)))
    writer.close()
    received: list[bytes] = []
    while True:
        try:
            frame = read_pdu(reader, deadline=deadline(), max_pdu_length=40)
        except PeerClosedError:
            break
        received.extend(bytes(p.fragment) for p in iter_pdvs(frame.body))
    assert b"".join(received) == payload
    assert len(received) == 3
