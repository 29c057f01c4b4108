"""pytest fixtures for hand-written DICOM Upper Layer tests (PS3.8), beside the scenario files.

Registered by :mod:`harness.pytest_plugin`; each fixture needs ``--dicom-peer`` or
``--dicom-target`` (or their ini options) and errors with a usage message without them.

- ``dicom_sut`` (session): the started SUT of the first configured profile.
- ``dicom_peer``: a fake association-requestor connected to the configured acceptor SUT.
- ``dicom_listener``: a listening association-acceptor for SCU tests; ``trigger()`` makes
  the configured requestor SUT connect to it.
- ``dicom_scenario``: runs a scenario file or an inline mapping and returns its result.

A helper of :class:`DicomPeer` is one step of the scenario format with the same names
and fields (``send``/``set``, ``expect``/``where``, ``associate``, ``accept``,
``release``...), parsed and validated by :mod:`harness.scenario` and run by
:class:`harness.exchange.Exchange`, so it behaves exactly as that step in a YAML file.
The engine is imported inside the functions: loading the plugin stays cheap.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import socket

    from harness.exchange import Exchange, Timers
    from harness.fsm import Role
    from harness.peer import FakePeer
    from harness.profile import Profile
    from harness.pytest_session import DicomSession
    from harness.results import ScenarioResult
    from harness.runner import TriggeredSut
    from harness.stimuli import Context
    from harness.transcript import Transcript

#: What a failed test's report shows: (section title, text) of each peer or run it used.
_TRANSCRIPTS = pytest.StashKey[list[Callable[[], tuple[str, str]]]]()


@dataclass(frozen=True)
class DicomSut:
    """The started SUT: its profile, where it listens (port 0 for a requestor SUT, which
    connects to us instead), and its log (None when it runs in-process or elsewhere)."""

    profile: Profile
    host: str
    port: int
    log_path: Path | None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the SUT's log ("" without a log)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(deque(text.splitlines(), maxlen=lines))


class DicomPeer:
    """One association of a hand-written test, as requestor (the SUT is the acceptor) or
    as acceptor (the SUT is the requestor): each helper is one scenario step.

    A step whose expectation is not met raises AssertionError naming what was expected,
    what came instead, and the transcript so far.
    """

    def __init__(self, exchange: Exchange, transcript: Transcript, source: str) -> None:
        self.exchange = exchange
        self._transcript = transcript
        self.source = source

    @property
    def transcript(self) -> str:
        """Everything that went over the wire so far, one readable line per PDU or event."""
        return self._transcript.render()

    def step(self, node: Mapping[str, Any]) -> dict[str, Any]:
        """Any one step of the scenario format, as its mapping (``{"send": ..., "split":
        3}``); returns the fields of the PDU or DIMSE message it matched ({} for none)."""
        __tracebackhide__ = True
        from harness.exchange import MismatchError
        from harness.scenario import parse_steps

        sut_role = self.exchange.scenario.sut_role
        steps = parse_steps([dict(node)], sut_role, f"{self.source}: {node}")
        try:
            self.exchange.perform(steps)
        except MismatchError as mismatch:
            raise AssertionError(
                f"{mismatch.message}\n\ntranscript so far:\n{self.transcript}"
            ) from None
        return dict(self.exchange.observed)

    def associate(self, **set_fields: Any) -> dict[str, Any]:
        """The ``associate`` step: the profile's A-ASSOCIATE-RQ changed by ``set_fields``,
        then an A-ASSOCIATE-AC (PS3.8 7.1); returns the AC's fields as observed."""
        __tracebackhide__ = True
        return self.step({"associate": {"set": set_fields}})

    def accept_association(self, **set_fields: Any) -> dict[str, Any]:
        """The ``accept`` step (requestor SUT): expect its A-ASSOCIATE-RQ, answer with an
        A-ASSOCIATE-AC built from it (PS3.8 9.3.3); returns the RQ's fields."""
        __tracebackhide__ = True
        return self.step({"accept": {"set": set_fields}})

    def send(self, pdu: str, **fields: Any) -> None:
        """The ``send`` step: a PDU or DIMSE message by name, ``fields`` as its ``set``."""
        __tracebackhide__ = True
        self.step({"send": pdu, "set": fields})

    def expect(self, pdu: str, timeout: float | None = None, **where: Any) -> dict[str, Any]:
        """The ``expect`` step: a PDU, DIMSE message or transport event by name, matched
        by ``where``; ``timeout`` seconds (scaled) instead of the profile's ``reply``
        (for ``silence``: how long). Returns the matched PDU's or message's fields."""
        __tracebackhide__ = True
        node: dict[str, Any] = {"expect": pdu}
        if where:
            node["where"] = where
        if timeout is not None:
            node["for" if pdu == "silence" else "within"] = timeout
        return self.step(node)

    def echo(self) -> int:
        """C-ECHO-RQ on the accepted Verification context, then its C-ECHO-RSP (PS3.7
        9.1.5); returns the response's status."""
        __tracebackhide__ = True
        self.send("C-ECHO-RQ")
        return int(self.expect("C-ECHO-RSP")["status"])

    def release(self) -> None:
        """The ``release`` step: A-RELEASE-RQ, the A-RELEASE-RP, then close (PS3.8 7.2)."""
        __tracebackhide__ = True
        self.step({"release": {}})

    def abort(self, source: int = 0, reason: int = 0) -> None:
        """Send an A-ABORT with ``source`` and ``reason`` (PS3.8 7.3, Table 9-26)."""
        __tracebackhide__ = True
        self.send("A-ABORT", source=source, reason=reason)

    def close(self) -> None:
        """End the connection: an A-ABORT first when an association is established or
        being established (PS3.8 7.3; Table 9-10 states other than Sta1, Sta2, Sta13),
        then close. It only sends: it never waits on the SUT."""
        from harness.fsm import State

        exchange = self.exchange
        free = {State.STA1, State.STA2, State.STA13}
        if exchange.ended is None and (exchange.tracker.lost or exchange.tracker.state not in free):
            with suppress(AssertionError):  # the SUT reset the transport meanwhile
                self.abort()
        exchange.abandon()


class DicomListener:
    """A listening association-acceptor on 127.0.0.1 for SCU tests (PS3.8 9.1.1: the
    requestor opens the transport). ``trigger()`` starts the configured requestor
    profile's trigger command against it; ``accept()`` hands over a connection."""

    def __init__(
        self, session: DicomSession, profile: Profile, source: str, log_path: Path
    ) -> None:
        import socket

        from harness.process import LOOPBACK
        from harness.runner import timers_of
        from harness.transcript import Transcript

        self.profile = profile
        self.source = source
        self.timers = timers_of(profile, session.options())
        self.transcript = Transcript()
        self._log_path = log_path
        self._resources = ExitStack()
        self._listener: socket.socket = self._resources.enter_context(
            socket.create_server((LOOPBACK, 0))
        )
        self.host: str = LOOPBACK
        self.port: int = self._listener.getsockname()[1]
        self._sut: TriggeredSut | None = None
        self._triggered: DicomPeer | None = None
        self._peers: list[DicomPeer] = []

    def trigger(self) -> None:
        """Start the requestor profile's trigger command and accept its connection within
        the profile's ``connect_timeout`` (the ``trigger`` step; PS3.8 9.2: the SUT
        issues the A-ASSOCIATE request); :meth:`accept` then returns that peer."""
        __tracebackhide__ = True
        if not self.profile.trigger:
            raise pytest.UsageError(
                "dicom_listener.trigger() needs a requestor profile with a trigger command "
                "(--dicom-peer builtin-scu, or a profile of your SCU)"
            )
        if self._sut is None:
            from harness.runner import TriggeredSut

            self._sut = self._resources.enter_context(
                TriggeredSut(
                    self.profile, self._listener, self._log_path, self.timers, self.transcript
                )
            )
        peer = self._peer(None)
        peer.step({"trigger": {}})
        self._triggered = peer

    def accept(self, timeout: float | None = None) -> DicomPeer:
        """The triggered SUT's connection, else the next one within ``timeout`` seconds
        (default: the profile's ``reply``, scaled); AssertionError when none comes."""
        __tracebackhide__ = True
        if self._triggered is not None:
            peer, self._triggered = self._triggered, None
            return peer
        from harness.peer import FakePeer

        wait = self.timers.seconds(timeout if timeout is not None else "reply")
        try:
            connection = FakePeer.accept(self._listener, timeout=wait, transcript=self.transcript)
        except OSError as exc:
            raise AssertionError(
                f"no connection to {self.host}:{self.port} within {wait:g} s ({exc})"
            ) from None
        return self._peer(connection)

    def exit_code(self, timeout: float | None = None) -> int | None:
        """The trigger command's exit code within ``timeout`` seconds (default: the
        profile's ``reply``, scaled); None when it still ran (it is then stopped)."""
        if self._sut is None:
            raise pytest.UsageError("dicom_listener.exit_code() before dicom_listener.trigger()")
        return self._sut.exited(self.timers.seconds(timeout if timeout is not None else "reply"))

    def close(self) -> None:
        """Abort and close every connection, stop the trigger commands, stop listening."""
        for peer in self._peers:
            peer.close()
        self._resources.close()

    def _peer(self, connection: FakePeer | None) -> DicomPeer:
        from harness.fsm import Role
        from harness.profile import Address
        from harness.runner import context_of

        exchange = _exchange(
            connection,
            context_of(self.profile, Address(self.host, self.port)),
            self.timers,
            Role.REQUESTOR,
            self._sut,
        )
        peer = DicomPeer(exchange, self.transcript, self.source)
        self._peers.append(peer)
        return peer


def _exchange(
    connection: FakePeer | None,
    context: Context,
    timers: Timers,
    role: Role,
    sut: TriggeredSut | None = None,
) -> Exchange:
    """An exchange of a hand-written test: no steps of its own, they come one at a time."""
    from harness.exchange import Exchange
    from harness.scenario import stepwise_frame

    frame = stepwise_frame(str(role), "a hand-written test")
    return Exchange(frame, connection, context, timers, role, sut=sut)


# -- the fixtures ------------------------------------------------------------------------


def _session(request: pytest.FixtureRequest) -> DicomSession:
    from harness.pytest_session import session_of

    return session_of(request.config)


def _show_on_failure(
    request: pytest.FixtureRequest, section: Callable[[], tuple[str, str]]
) -> None:
    request.node.stash.setdefault(_TRANSCRIPTS, []).append(section)


def _first(session: DicomSession, role: str) -> Profile | None:
    """The first configured profile whose SUT plays ``role``."""
    return next((p for p in session.profiles() if p.sut_role == role), None)


@pytest.fixture(scope="session")
def dicom_sut(request: pytest.FixtureRequest) -> DicomSut:
    """The first configured profile's SUT, started (once per session and xdist worker)."""
    session = _session(request)
    profile = session.profiles()[0]
    address = session.address(profile)
    return DicomSut(profile, address.host, address.port, address.log_path)


@pytest.fixture
def dicom_peer(request: pytest.FixtureRequest) -> Iterator[DicomPeer]:
    """A fake association-requestor connected to the configured acceptor SUT (the target,
    else the first acceptor profile); aborted if left associated, always closed."""
    from harness.fsm import Role
    from harness.peer import FakePeer
    from harness.runner import context_of, timers_of

    session = _session(request)
    profile = _first(session, "acceptor")
    if profile is None:
        raise pytest.UsageError(
            "dicom_peer needs an acceptor SUT (an SCP): --dicom-target HOST:PORT or an "
            "acceptor --dicom-peer profile; only requestor profiles are configured"
        )
    address = session.address(profile)
    timers = timers_of(profile, session.options())
    try:
        connection = FakePeer.connect(address.host, address.port, timeout=timers.seconds("reply"))
    except OSError as exc:
        raise ConnectionError(
            f"cannot connect to {profile.name} at {address.host}:{address.port}: {exc}"
        ) from exc
    exchange = _exchange(connection, context_of(profile, address), timers, Role.ACCEPTOR)
    peer = DicomPeer(exchange, connection.transcript, request.node.nodeid)
    _show_on_failure(request, lambda: ("dicom transcript", peer.transcript))
    yield peer
    peer.close()


@pytest.fixture
def dicom_listener(request: pytest.FixtureRequest) -> Iterator[DicomListener]:
    """A listening acceptor on 127.0.0.1 (a free port) for SCU tests; ``trigger()`` runs
    the first requestor profile's trigger command against it. Everything is closed and
    every started command stopped afterwards."""
    from harness.profile import trigger_profile

    session = _session(request)
    settings = session.settings
    profile = _first(session, "requestor") or trigger_profile(
        "", settings.called_ae, settings.calling_ae
    )
    log_path = session.workdir / profile.name / f"{_file_name(request.node.nodeid)}.log"
    listener = DicomListener(session, profile, request.node.nodeid, log_path)
    _show_on_failure(request, lambda: ("dicom transcript", listener.transcript.render()))
    yield listener
    listener.close()


@pytest.fixture
def dicom_scenario(
    request: pytest.FixtureRequest,
) -> Callable[..., ScenarioResult]:
    """``run(scenario, *, peer=None)``: run a scenario file, or an inline mapping in the
    scenario format, against the named configured profile, else the first whose SUT role
    is the scenario's; returns the :class:`~harness.results.ScenarioResult` (verdict,
    message, transcript) with the profile's baseline and ``--dicom-strict`` applied."""
    session = _session(request)

    def run(
        scenario: str | os.PathLike[str] | Mapping[str, Any], *, peer: str | None = None
    ) -> ScenarioResult:
        from harness.runner import run_scenario
        from harness.scenario import load_scenario, parse_scenario
        from harness.yamlsrc import SourceError

        __tracebackhide__ = True
        try:
            if isinstance(scenario, Mapping):
                parsed = parse_scenario(scenario, request.node.nodeid)
            else:
                parsed = load_scenario(os.fspath(scenario))
        except SourceError as exc:  # file:line: field: message, not the loader's traceback
            pytest.fail(f"dicom_scenario: {exc}", pytrace=False)
        profile = _profile_for(session, parsed.sut_role, peer)
        result = run_scenario(parsed, profile, session.address(profile), session.options())
        _show_on_failure(request, lambda: (f"dicom scenario {result.id}", result.transcript_text))
        return result

    return run


def _profile_for(session: DicomSession, sut_role: str, name: str | None) -> Profile:
    """The configured profile named ``name``, else the first whose SUT plays ``sut_role``."""
    profiles = session.profiles()
    names = ", ".join(p.name for p in profiles)
    if name is not None:
        named = next((p for p in profiles if p.name == name), None)
        if named is None:
            raise pytest.UsageError(f"dicom_scenario: no configured profile {name!r} ({names})")
        return named
    profile = _first(session, sut_role)
    if profile is None:
        raise pytest.UsageError(
            f"dicom_scenario: the scenario needs a {sut_role} SUT; none of the configured "
            f"profiles is one ({names})"
        )
    return profile


def _file_name(nodeid: str) -> str:
    """A node id as a file name."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in nodeid)[:150]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used a DICOM fixture shows what went over the wire."""
    report = yield
    sections = item.stash.get(_TRANSCRIPTS, [])
    if report.failed and sections:
        for section in sections:
            title, text = section()
            report.sections.append((title, text or "(nothing went over the wire)"))
    return report
