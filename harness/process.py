"""Processes the harness starts itself: real peers under test, on loopback.

A peer process is started in its own session (so its children can be ended with it),
its output goes to a log file kept with the reports, readiness is a listening socket
on the chosen loopback port, and it is ended by the PID we started: terminate, then
kill after a grace period. Nothing here ever signals a process by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError

LOOPBACK = "127.0.0.1"
_POLL_S = 0.05
_TCP_LISTEN = "0A"


class PeerStartError(HarnessError):
    """A peer process exited or never listened; the message carries its output."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (bind to port 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _listening_ports() -> set[int] | None:
    """Ports in LISTEN state per /proc/net/tcp{,6}; None where /proc is unavailable."""
    ports: set[int] = set()
    found = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _TCP_LISTEN:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports if found else None


def is_listening(port: int, host: str = LOOPBACK) -> bool:
    """Whether something listens on ``port``, without opening an association.

    A bare TCP connect would put a DICOM acceptor into Sta2 (and some fragile peers exit
    on it), so the kernel's socket table is read instead where it exists.
    """
    ports = _listening_ports()
    if ports is not None:
        return port in ports
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


class PeerProcess:
    """One started peer process; a context manager that always ends what it started."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.command = list(command)
        self.log_path = log_path
        self._env = {**os.environ, **(env or {})}
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The PID we started, or None before start."""
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the command in a new session, output appended to ``log_path``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(self.command)}\n".encode())
            log.flush()
            try:
                self._process = subprocess.Popen(
                    self.command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self._env,
                    cwd=self._cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise PeerStartError(f"cannot start {self.command[0]!r}: {exc}") from exc

    def log_tail(self, limit: int = 4000) -> str:
        """The end of the process's output, for error messages."""
        try:
            return self.log_path.read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_listening(self, port: int, timeout: float) -> None:
        """Poll every 50 ms until ``port`` listens; raise with the log on exit or timeout."""
        deadline = time.monotonic() + timeout
        while not is_listening(port):
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise PeerStartError(
                    f"{self.command[0]} exited (code {code}) before listening on port {port}:\n"
                    f"{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise PeerStartError(
                    f"{self.command[0]} did not listen on port {port} within {timeout:g} s:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(_POLL_S)

    def wait(self, timeout: float) -> int | None:
        """Wait at most ``timeout`` seconds for the process to exit; its exit code, or None
        if it still runs (or was never started)."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 3.0) -> int | None:
        """Terminate the process group we started, kill it after ``grace``; its exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            self._signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=grace)
        else:
            # The leader is gone; children it forked (storescp --fork) may remain.
            self._signal_group(process.pid, signal.SIGKILL)
        return process.returncode

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        # The group was created by start_new_session for this PID: it holds only
        # what we started and its children.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def __enter__(self) -> PeerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
