"""In-process hostile SUTs: an acceptor that lies on the wire, one lie per function.

:class:`HostileSut` listens on a loopback port. Its first ``honest`` connections are
served by the built-in reference acceptor (so the run's sanity association passes, PS3.8
7.1 and 7.2); every later connection is handed to a *lie*: a function of a
:class:`Conversation` that may run the reference protocol as far as it wants (an honest
association, PS3.8 Table 9-10 up to Sta6 or Sta13) and then writes whatever bytes it
likes: a PDU-length of 4 GiB (PS3.8 9.3.1), a PDU dripped one byte per second, a reset in
the middle of a PDU, thousands of PDVs (PS3.8 9.3.5), items whose lengths overrun their
container (PS3.8 9.3.2-9.3.3), garbage after a valid PDU.

Every wait of a lie ends when the harness closes the connection or the SUT is stopped,
so a lie that goes on "forever" never outlives its test.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType

from harness import dimse, framing
from harness.fsm import State
from harness.peer import DEFAULT_READ_CAP
from harness.process import LOOPBACK
from harness.reference import AcceptorProtocol, ReferenceConfig, Send
from harness.reference.link import Link

CONFIG = ReferenceConfig(artim=2.0, idle_timeout=10.0)
"""The reference acceptor the honest parts run (its AE title: ``HARNESS-SCP``)."""

DRIP_INTERVAL = 1.0
"""Seconds between two dripped bytes: "endless slow bytes", 1 byte per second."""

_READ_WAIT = 10.0
"""Seconds a lie waits for the harness's next PDU before it gives up."""
_HOLD_POLL = 0.2
_LINGER_RESET = struct.pack("ii", 1, 0)
_ECHO_RSP_COMMAND = dimse.encode_command(dimse.c_echo_rsp(1))

Lie = Callable[["Conversation"], None]


class Conversation:
    """One accepted connection of a hostile SUT, as a lie drives it."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self.stopping = stopping
        self.protocol = AcceptorProtocol(CONFIG)
        self._link: Link | None = None

    # -- honest parts ----------------------------------------------------------------------

    def serve_honestly(self, until: State | None = None) -> None:
        """Run the reference acceptor until it reaches ``until`` (or the connection ends)."""
        if self._link is None:
            self._link = Link(self.sock, self.protocol, None)
            self._link.carry_out(self.protocol.connection_made())
        self._link.run(until=lambda: until is not None and self.protocol.state is until)

    def next_pdu(self) -> bytes:
        """The harness's next PDU, raw."""
        frame = framing.read_pdu(self.sock, deadline=_deadline(), max_pdu_length=1 << 20)
        return bytes(frame.raw)

    def honest_ac(self) -> bytes:
        """Read the A-ASSOCIATE-RQ and return the reference acceptor's AC for it, unsent."""
        self.protocol.connection_made()
        outputs = self.protocol.receive(self.next_pdu())
        (ac,) = [output.data for output in outputs if isinstance(output, Send)]
        return ac

    # -- lying -----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """All of ``data`` at once."""
        self.sock.sendall(data)

    def drip(self, data: Iterator[int] | bytes) -> None:
        """One byte now, then one per :data:`DRIP_INTERVAL`, until ``data`` ends, the
        harness closes, or the SUT stops."""
        for byte in data:
            self.sock.sendall(bytes([byte]))
            if self.stopping.wait(DRIP_INTERVAL):
                return

    def reset(self) -> None:
        """Abort the connection with an RST (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.sock.close()

    def hold(self) -> None:
        """Say nothing more; read and drop what comes until the harness closes."""
        self.sock.settimeout(_HOLD_POLL)
        while not self.stopping.is_set():
            try:
                if not self.sock.recv(65536):
                    return
            except TimeoutError:
                continue


def _deadline() -> float:
    return time.monotonic() + _READ_WAIT


class HostileSut:
    """A loopback acceptor: ``honest`` connections first, then ``lie`` on every other.

    A context manager; :attr:`target` is ``host:port`` for ``--target``. ``errors`` holds
    what went wrong in a lie beyond the harness closing on it (a broken test SUT).
    """

    def __init__(self, lie: Lie, *, honest: int = 1) -> None:
        self.lie = lie
        self.honest = honest
        self.errors: list[BaseException] = []
        self._listener = socket.create_server((LOOPBACK, 0))
        self._stopping = threading.Event()
        self._accepted = threading.Condition()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = [
            threading.Thread(target=self._accept_loop, name="hostile-sut", daemon=True)
        ]

    @property
    def target(self) -> str:
        """Where it listens, as ``--target`` wants it."""
        return f"{LOOPBACK}:{self._listener.getsockname()[1]}"

    def wait_for_connection(self, number: int, timeout: float) -> bool:
        """Block until the ``number``-th connection was accepted (or ``timeout``)."""
        with self._accepted:
            return self._accepted.wait_for(lambda: len(self._connections) >= number, timeout)

    def __enter__(self) -> HostileSut:
        self._threads[0].start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._accepted:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(10.0)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._accepted:
                self._connections.append(conn)
                honest = len(self._connections) <= self.honest
                self._accepted.notify_all()
            thread = threading.Thread(target=self._serve, args=(conn, honest), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, honest: bool) -> None:
        conversation = Conversation(conn, self._stopping)
        try:
            if honest:
                conversation.serve_honestly()
            else:
                self.lie(conversation)
        except OSError:
            pass  # the harness closed or reset: the usual end of a lie
        except BaseException as exc:  # a broken lie: the test reports it
            self.errors.append(exc)
        finally:
            conn.close()


# -- the lies ------------------------------------------------------------------------------


def _header(pdu_type: int, length: int) -> bytes:
    return struct.pack(">BxL", pdu_type, length)


def _p_data(pdvs: list[tuple[int, int, bytes]]) -> bytes:
    return framing.encode_p_data_tf(pdvs)


def ac_claims_4_gib(conversation: Conversation) -> None:
    """Answers the RQ with an AC header claiming 0xFFFFFFFF bytes, then 4 bytes, then
    nothing."""
    conversation.honest_ac()
    conversation.send(_header(0x02, 0xFFFFFFFF) + b"\x00\x01\x00\x00")
    conversation.hold()


def ac_claims_63_mib(conversation: Conversation) -> None:
    """Answers the RQ with an AC header claiming 63 MiB, then 4 bytes, then nothing."""
    conversation.honest_ac()
    conversation.send(_header(0x02, 63 << 20) + b"\x00\x01\x00\x00")
    conversation.hold()


def ac_claims_the_read_cap(conversation: Conversation) -> None:
    """Answers the RQ with an AC header claiming exactly what the fake peer reads of an
    association PDU (1 MiB), then 4 bytes, then nothing: the wait still ends on time."""
    conversation.honest_ac()
    conversation.send(_header(0x02, DEFAULT_READ_CAP) + b"\x00\x01\x00\x00")
    conversation.hold()


def p_data_claims_4_gib(conversation: Conversation) -> None:
    """Associates honestly, then answers the C-ECHO-RQ with a P-DATA-TF header claiming
    0xFFFFFFFF bytes and one PDV header."""
    _answer_echo(conversation, [_header(0x04, 0xFFFFFFFF) + struct.pack(">LBB", 0xFFFFFFFB, 1, 3)])


def ac_dripped(conversation: Conversation) -> None:
    """Drips a valid AC, one byte per second."""
    conversation.drip(conversation.honest_ac())
    conversation.hold()


def garbage_dripped(conversation: Conversation) -> None:
    """Answers the RQ with random bytes, one per second, forever."""
    conversation.honest_ac()
    generator = random.Random(7)
    conversation.drip(iter(lambda: generator.randrange(256), -1))


def reset_after_ac_header(conversation: Conversation) -> None:
    """Sends the 6-byte header of its AC, then resets."""
    conversation.send(conversation.honest_ac()[: framing.PDU_HEADER_LENGTH])
    conversation.reset()


def reset_mid_ac(conversation: Conversation) -> None:
    """Sends half of its AC, then resets."""
    ac = conversation.honest_ac()
    conversation.send(ac[: len(ac) // 2])
    conversation.reset()


def reset_mid_echo_rsp(conversation: Conversation) -> None:
    """Associates honestly, then resets after half of the C-ECHO-RSP P-DATA-TF."""
    _echo_requested(conversation)
    response = _p_data([(1, 3, _ECHO_RSP_COMMAND)])
    conversation.send(response[: len(response) // 2])
    conversation.reset()


def ten_thousand_empty_pdvs(conversation: Conversation) -> None:
    """Answers the C-ECHO-RQ with one P-DATA-TF of 10,000 zero-length PDVs (60,006
    bytes), then nothing."""
    _answer_echo(conversation, [_p_data([(1, 3, b"")] * 10_000)])


def ten_thousand_empty_pdvs_in_four_pdus(conversation: Conversation) -> None:
    """Answers the C-ECHO-RQ with four P-DATA-TF of 2,500 zero-length PDVs each (each
    within the maximum length the harness announces), then nothing."""
    _answer_echo(conversation, [_p_data([(1, 3, b"")] * 2_500)] * 4)


def ten_thousand_one_byte_pdvs_in_five_pdus(conversation: Conversation) -> None:
    """Answers the C-ECHO-RQ with five P-DATA-TF of 2,000 one-byte command PDVs each."""
    _answer_echo(conversation, [_p_data([(1, 1, b"\x00")] * 2_000)] * 5)


def _echo_requested(conversation: Conversation) -> None:
    """An honest association (Sta6), then the harness's C-ECHO-RQ read."""
    conversation.serve_honestly(until=State.STA6)
    conversation.next_pdu()


def _answer_echo(conversation: Conversation, pdus: list[bytes]) -> None:
    """``pdus`` in answer to the C-ECHO-RQ, in one write, then nothing."""
    _echo_requested(conversation)
    conversation.send(b"".join(pdus))
    conversation.hold()


def endless_p_data(conversation: Conversation) -> None:
    """Answers the C-ECHO-RQ with P-DATA-TF PDUs as fast as TCP takes them, each one
    16 KiB command fragment that is never the last, until the harness closes."""
    _echo_requested(conversation)
    fragment = _p_data([(1, 1, bytes(16_372))])
    while not conversation.stopping.is_set():
        conversation.send(fragment * 8)


def thousands_of_tiny_p_data(conversation: Conversation) -> None:
    """Answers the C-ECHO-RQ with P-DATA-TF PDUs of one 2-byte command fragment each,
    never the last, until the harness closes."""
    _echo_requested(conversation)
    burst = _p_data([(1, 1, b"\x00\x00")]) * 1000
    while not conversation.stopping.is_set():
        conversation.send(burst)


def _ac_with_items(conversation: Conversation, items: bytes) -> bytes:
    """The honest AC's 68 fixed bytes with ``items`` as its variable items."""
    ac = conversation.honest_ac()
    fixed = ac[framing.PDU_HEADER_LENGTH : framing.PDU_HEADER_LENGTH + 68]
    return _header(0x02, len(fixed) + len(items)) + fixed + items


def ac_item_overruns_pdu(conversation: Conversation) -> None:
    """An AC whose presentation context item claims 0xFFFF bytes in a 20-byte tail."""
    items = struct.pack(">BxH", 0x21, 0xFFFF) + bytes(16)
    conversation.send(_ac_with_items(conversation, items))
    conversation.hold()


def ac_with_100_000_empty_items(conversation: Conversation) -> None:
    """An AC with 100,000 zero-length unknown items (more than any item list holds)."""
    items = struct.pack(">BxH", 0x7F, 0) * 100_000
    conversation.send(_ac_with_items(conversation, items))
    conversation.hold()


def user_information_with_16_000_sub_items(conversation: Conversation) -> None:
    """An AC whose user information item holds 16,000 zero-length sub-items, the last
    of which claims more bytes than the item has left."""
    sub_items = struct.pack(">BxH", 0x70, 0) * 15_999 + struct.pack(">BxH", 0x51, 8)
    user_information = struct.pack(">BxH", 0x50, len(sub_items)) + sub_items
    conversation.send(_ac_with_items(conversation, user_information))
    conversation.hold()


def ac_then_garbage(conversation: Conversation) -> None:
    """A valid AC and 4 KiB of random bytes in one write."""
    garbage = random.Random(11).randbytes(4096)
    conversation.send(conversation.honest_ac() + garbage)
    conversation.hold()


def release_rp_then_unknown_pdu(conversation: Conversation) -> None:
    """An honest association up to its A-RELEASE-RP (Sta13), then an unknown PDU."""
    conversation.serve_honestly(until=State.STA13)
    conversation.send(_header(0x99, 4) + b"\xde\xad\xbe\xef")
    conversation.hold()


def never_answers(conversation: Conversation) -> None:
    """Takes the connection and every byte, and says nothing."""
    conversation.hold()
