"""Codec and framing speed: ours against pynetdicom and against plain-Python baselines.

Run ``.venv/bin/python benchmarks/codec.py``. Every figure is the median of several
repetitions (``time.perf_counter``) taken in the same run; the table gives each median,
the ratio ours / baseline, the target where there is one, and PASS or MISS. The exit
status is always 0: this is a measurement, not a test.

Measured:
- A-ASSOCIATE-RQ (PS3.8 9.3.2) built and dissected by ``harness.pdu`` and by pynetdicom;
- a 16 MiB P-DATA-TF (PS3.8 9.3.5) built by ``harness.framing.encode_p_data_tf`` against
  plain bytes concatenation (target 2x) and pynetdicom (its P-DATA primitive, which wants
  the control header byte prepended to the fragment, is prepared outside the timing),
  and read by ``iter_pdvs`` against pynetdicom;
- the same payload split by ``harness.framing.fragment`` into PDUs of PDU-length <= 16384
  against a loop of bytes slicing and concatenation (target 2x);
- a 16 MiB PDU read off a socket by ``harness.framing.read_pdu`` against a bare
  ``recv_into`` loop that allocates its buffer too (target 1.5x), over a socketpair and
  over TCP on 127.0.0.1, a thread writing the PDU in one ``sendall``.
"""

from __future__ import annotations

import socket
import statistics
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import pdu
from harness.framing import encode_p_data_tf, fragment, iter_pdvs, read_pdu

CALLED, CALLING = "ANY-SCP", "HARNESS"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION, IMPLICIT_VR_LE = "1.2.840.10008.1.1", "1.2.840.10008.1.2"
IMPLEMENTATION_UID, MAX_LENGTH = "1.2.826.0.1.3680043.9.1", 16382
PAYLOAD_SIZE = 16 << 20
REPEAT = 9


@dataclass(frozen=True)
class Row:
    """One comparison: our median, a baseline median, and an optional target ratio."""

    what: str
    ours: float
    baseline_name: str
    baseline: float
    target: float | None = None

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "PASS" if self.ratio <= self.target else "MISS"


def median_seconds(action: Callable[[], object], number: int = 1) -> float:
    """Median over ``REPEAT`` repetitions of the time of one call (``number`` per timing)."""
    action()
    timings = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        for _ in range(number):
            action()
        timings.append((time.perf_counter() - start) / number)
    return statistics.median(timings)


def build_rq_ours() -> bytes:
    """A-ASSOCIATE-RQ: Verification, Implicit VR LE, max length and implementation UID."""
    return bytes(
        pdu.A_ASSOCIATE_RQ(
            called_ae_title=CALLED.encode(),
            calling_ae_title=CALLING.encode(),
            variable_items=[
                pdu.ApplicationContextItem(application_context_name=APPLICATION_CONTEXT.encode()),
                pdu.PresentationContextRQItem(
                    pc_id=1,
                    sub_items=[
                        pdu.AbstractSyntaxSubItem(abstract_syntax_name=VERIFICATION.encode()),
                        pdu.TransferSyntaxSubItem(transfer_syntax_name=IMPLICIT_VR_LE.encode()),
                    ],
                ),
                pdu.UserInformationItem(
                    user_data=[
                        pdu.MaximumLengthSubItem(max_length=MAX_LENGTH),
                        pdu.ImplementationClassUIDSubItem(
                            implementation_class_uid=IMPLEMENTATION_UID.encode()
                        ),
                    ]
                ),
            ],
        )
    )


def build_rq_pynetdicom() -> bytes:
    """The same A-ASSOCIATE-RQ through pynetdicom's primitive and PDU encoder."""
    from pynetdicom.pdu import A_ASSOCIATE_RQ
    from pynetdicom.pdu_primitives import (
        A_ASSOCIATE,
        ImplementationClassUIDNotification,
        MaximumLengthNotification,
    )
    from pynetdicom.presentation import PresentationContext

    context = PresentationContext()
    context.context_id = 1
    context.abstract_syntax = VERIFICATION
    context.transfer_syntax = [IMPLICIT_VR_LE]
    maximum = MaximumLengthNotification()
    maximum.maximum_length_received = MAX_LENGTH
    implementation = ImplementationClassUIDNotification()
    implementation.implementation_class_uid = IMPLEMENTATION_UID
    primitive = A_ASSOCIATE()
    primitive.application_context_name = APPLICATION_CONTEXT
    primitive.called_ae_title = CALLED
    primitive.calling_ae_title = CALLING
    primitive.presentation_context_definition_list = [context]
    primitive.user_information = [maximum, implementation]
    request = A_ASSOCIATE_RQ()
    request.from_primitive(primitive)
    encoded: bytes = request.encode()
    return encoded


def dissect_pynetdicom(data: bytes, pdu_class: Any) -> Any:
    decoded = pdu_class()
    decoded.decode(data)
    return decoded


def association_rows() -> list[Row]:
    from pynetdicom.pdu import A_ASSOCIATE_RQ

    ours = build_rq_ours()
    if ours != build_rq_pynetdicom():
        raise SystemExit("the two A-ASSOCIATE-RQ encoders disagree; nothing to compare")
    number = 300
    return [
        Row(
            "A-ASSOCIATE-RQ build",
            median_seconds(build_rq_ours, number),
            "pynetdicom",
            median_seconds(build_rq_pynetdicom, number),
        ),
        Row(
            "A-ASSOCIATE-RQ dissect",
            median_seconds(lambda: pdu.dissect(ours), number),
            "pynetdicom",
            median_seconds(lambda: dissect_pynetdicom(ours, A_ASSOCIATE_RQ), number),
        ),
    ]


def p_data_rows(payload: bytes) -> list[Row]:
    """Build and read one P-DATA-TF carrying ``payload`` as a single last data fragment."""
    from pynetdicom.pdu import P_DATA_TF
    from pynetdicom.pdu_primitives import P_DATA

    def concatenate() -> bytes:
        return struct.pack(">BxLLBB", 4, len(payload) + 6, len(payload) + 2, 1, 2) + payload

    primitive = P_DATA()
    primitive.presentation_data_value_list = [[1, b"\x02" + payload]]

    def build_pynetdicom() -> bytes:
        request = P_DATA_TF()
        request.from_primitive(primitive)
        encoded: bytes = request.encode()
        return encoded

    def build_ours() -> bytes:
        return encode_p_data_tf([(1, 0x02, payload)])

    encoded = build_ours()
    if encoded != concatenate() or encoded != build_pynetdicom():
        raise SystemExit("the P-DATA-TF encoders disagree; nothing to compare")
    build = median_seconds(build_ours)
    name = "P-DATA-TF 16 MiB build"
    return [
        Row(name, build, "bytes concatenation", median_seconds(concatenate), 2.0),
        Row(name, build, "pynetdicom", median_seconds(build_pynetdicom)),
        fragment_row(payload),
        Row(
            "P-DATA-TF 16 MiB dissect",
            median_seconds(lambda: list(iter_pdvs(memoryview(encoded)[6:]))),
            "pynetdicom",
            median_seconds(lambda: dissect_pynetdicom(encoded, P_DATA_TF)),
        ),
    ]


def fragment_row(payload: bytes) -> Row:
    """Split ``payload`` into P-DATA-TF PDUs of PDU-length <= 16384 (PS3.8 D.1)."""
    size = 16384 - 6

    def concatenate() -> list[bytes]:
        pdus = []
        for start in range(0, len(payload), size):
            chunk = payload[start : start + size]
            last = 2 if start + size >= len(payload) else 0
            header = struct.pack(">BxLLBB", 4, len(chunk) + 6, len(chunk) + 2, 1, last)
            pdus.append(header + chunk)
        return pdus

    def ours() -> list[bytes]:
        return list(fragment(1, payload, command=False, max_length=16384))

    if ours() != concatenate():
        raise SystemExit("the fragmenters disagree; nothing to compare")
    return Row(
        "fragment 16 MiB, max 16384",
        median_seconds(ours),
        "bytes concatenation",
        median_seconds(concatenate),
        2.0,
    )


@contextmanager
def connected(family: str) -> Iterator[tuple[socket.socket, socket.socket]]:
    """(reader, writer): a socketpair, or a TCP connection on 127.0.0.1."""
    if family == "socketpair":
        reader, writer = socket.socketpair()
    else:
        with socket.create_server(("127.0.0.1", 0)) as server:
            writer = socket.create_connection(server.getsockname())
            reader, _ = server.accept()
    with reader, writer:
        yield reader, writer


def read_bare(reader: socket.socket, size: int) -> bytearray:
    """The baseline: ``recv_into`` a buffer of the known size until it is full."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        received += reader.recv_into(view[received:])
    return buffer


def timed_read(family: str, data: bytes, read: Callable[[socket.socket], object]) -> float:
    """Median time of ``read`` taking ``data`` while a thread writes it."""

    def once() -> float:
        with connected(family) as (reader, writer):
            sender = threading.Thread(target=writer.sendall, args=(data,))
            start = time.perf_counter()
            sender.start()
            read(reader)
            elapsed = time.perf_counter() - start
            sender.join()
        return elapsed

    once()
    return statistics.median(once() for _ in range(REPEAT))


def read_rows(payload: bytes) -> list[Row]:
    data = encode_p_data_tf([(1, 0x02, payload)])

    def ours(reader: socket.socket) -> object:
        return read_pdu(reader, deadline=time.monotonic() + 60, max_pdu_length=len(data))

    return [
        Row(
            f"read 16 MiB PDU ({family})",
            timed_read(family, data, ours),
            "bare recv_into loop",
            timed_read(family, data, lambda reader: read_bare(reader, len(data))),
            1.5,
        )
        for family in ("socketpair", "TCP 127.0.0.1")
    ]


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1e6:10.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:10.2f} ms"


def print_table(rows: list[Row]) -> None:
    header = ("measure", "ours", "baseline", "median", "ratio")
    print("{:32} {:>13}  {:20} {:>13}  {:>8}  target  verdict".format(*header))
    for row in rows:
        target = f"<={row.target:.1f}x" if row.target is not None else "   -"
        print(
            f"{row.what:32} {format_seconds(row.ours)}  {row.baseline_name:20} "
            f"{format_seconds(row.baseline)}  {row.ratio:8.3g}  {target:6}  {row.verdict}"
        )


def main() -> int:
    payload = bytes(range(256)) * (PAYLOAD_SIZE // 256)
    print(f"median of {REPEAT} repetitions each; ratio = ours / baseline (lower is better)\n")
    print_table(association_rows() + p_data_rows(payload) + read_rows(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
