"""The reference SCP on a listening socket: one thread per connection (PS3.8 9.1.1, TCP)."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from harness.process import LOOPBACK
from harness.reference.acceptor import AcceptorProtocol
from harness.reference.config import ReferenceConfig
from harness.reference.link import Link
from harness.transcript import Transcript, TransportEvent

_log = logging.getLogger(__name__)


class AcceptorFactory(Protocol):
    """Makes the protocol of one connection; ``AcceptorProtocol`` or a subclass of it."""

    def __call__(self, config: ReferenceConfig, *, busy: bool) -> AcceptorProtocol: ...


@dataclass
class AssociationRecord:
    """One finished connection: the peer, its protocol (state, cells, messages, stored
    data sets), its transcript if kept, and an unexpected error, if one ended it."""

    peer: tuple[str, int]
    protocol: AcceptorProtocol
    transcript: Transcript | None
    error: Exception | None = None


class ReferenceServer:
    """The built-in reference SCP, listening on ``host`` (loopback) and ``port`` (0: any).

    A context manager: ``start()`` on entry, ``stop()`` on exit, which wakes and joins
    every thread and closes every socket. ``records`` holds the last ``max_records``
    finished connections (all of them when None); ``finished`` counts every one.
    """

    def __init__(
        self,
        config: ReferenceConfig | None = None,
        protocol_factory: AcceptorFactory = AcceptorProtocol,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        keep_transcripts: bool = True,
        max_records: int | None = None,
    ) -> None:
        self.config = config if config is not None else ReferenceConfig()
        self.protocol_factory = protocol_factory
        self.keep_transcripts = keep_transcripts
        self.records: deque[AssociationRecord] = deque(maxlen=max_records)
        self.finished = 0
        self.association_count = 0
        self._host = host
        self._port = port
        self._listener: socket.socket | None = None
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._acceptor_thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._live: set[socket.socket] = set()
        self._changed = threading.Condition()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) it listens on; only once started."""
        if self._listener is None:
            raise RuntimeError("the reference server is not started")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> ReferenceServer:
        """Listen and accept connections in a background thread."""
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, self._port))
        listener.listen()
        self._listener = listener
        self._wakeup = socket.socketpair()
        self._acceptor_thread = threading.Thread(
            target=self._accept_loop,
            args=(listener, self._wakeup[1]),
            name=f"reference-scp:{self.address[1]}",
            daemon=True,
        )
        self._acceptor_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end live connections (as if their peers closed), join all."""
        if self._listener is None or self._wakeup is None or self._acceptor_thread is None:
            return
        self._wakeup[0].send(b"\0")
        self._acceptor_thread.join(timeout)
        with self._changed:
            for conn in self._live:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        for sock in (self._listener, *self._wakeup):
            sock.close()
        self._listener = None

    def wait_for_records(self, count: int, timeout: float) -> list[AssociationRecord]:
        """Block until ``count`` connections have finished (or ``timeout``); the records
        kept."""
        with self._changed:
            self._changed.wait_for(lambda: self.finished >= count, timeout)
            return list(self.records)

    def records_after(self, seen: int, timeout: float) -> tuple[int, list[AssociationRecord]]:
        """Block until more than ``seen`` connections have finished (or ``timeout``); how
        many have, and the kept records of those after the first ``seen``."""
        with self._changed:
            self._changed.wait_for(lambda: self.finished > seen, timeout)
            fresh = max(self.finished - seen, 0)
            return self.finished, list(self.records)[-fresh:] if fresh else []

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept_loop(self, listener: socket.socket, wakeup: socket.socket) -> None:
        """Accept until ``wakeup`` becomes readable (PS3.8 Evt5 for each connection)."""
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wakeup, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is wakeup:
                        return
                    conn, peer = listener.accept()
                    self._spawn(conn, (str(peer[0]), int(peer[1])))

    def _spawn(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        with self._changed:
            busy = len(self._live) >= self.config.max_associations
            self._live.add(conn)
            self.association_count += 1
            thread = threading.Thread(
                target=self._serve, args=(conn, peer, busy), name=f"reference-scp {peer}"
            )
            thread.daemon = True
            self._threads = [t for t in self._threads if t.is_alive()]  # bounded
            self._threads.append(thread)
        thread.start()

    def _serve(self, conn: socket.socket, peer: tuple[str, int], busy: bool) -> None:
        """Run one connection to its end (AE-5 first: ARTIM starts)."""
        protocol = self.protocol_factory(self.config, busy=busy)
        transcript = Transcript() if self.keep_transcripts else None
        record = AssociationRecord(peer, protocol, transcript)
        link = Link(conn, protocol, transcript)
        if transcript is not None:
            transcript.event(TransportEvent.ACCEPTED, f"{peer[0]}:{peer[1]}")
        try:
            link.carry_out(protocol.connection_made())
            link.run()
        except Exception as exc:
            record.error = exc
            _log.exception("reference SCP: connection from %s failed", peer)
        finally:
            link.close()
            _log.debug(
                "reference SCP: %s ended in %s after %d cells",
                peer,
                protocol.state,
                len(protocol.machine.cells),
            )
            with self._changed:
                self._live.discard(conn)
                self.records.append(record)
                self.finished += 1
                self._changed.notify_all()
