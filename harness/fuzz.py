"""Stateful fuzzing of a SUT through PS3.8 Table 9-10 with hypothesis.

A :class:`hypothesis.stateful.RuleBasedStateMachine` per SUT role walks the SUT through the
state table (PS3.8 9.2.3) with random valid and invalid PDUs in random order. Its moves are
steps of the scenario format (:mod:`harness.fuzz_strategies`), run on a live
:class:`harness.exchange.Exchange` exactly as a scenario runs them, so a failing sequence,
shrunk by hypothesis, is written out as a scenario file that ``dicom-harness run`` replays.

One example is one connection (an acceptor SUT: we connect; a requestor SUT: its trigger
command makes it connect to us), and more when the moves reconnect. The oracles:

- after every move that causes an event in the SUT, ``expect: per-state-table``: its
  reaction is one Table 9-10 allows, within its timers (the profile's ``reply`` for a
  reaction that must come: a hang is a finding);
- the moves of the association's normal course expect what the SUT's user answers (an
  A-ASSOCIATE-AC to the profile's RQ, the C-ECHO-RSP, the requestor's release);
- after every example, liveness: a fresh association (associate, C-ECHO, release; for a
  requestor SUT a triggered one) must still succeed.

A failure that does not happen again when hypothesis replays it is flaky (a late reaction
under load, not a finding): it is reported as such and fuzzing goes on with the next seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import yaml
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    rule,
    run_state_machine_as_test,
)

from harness import __version__
from harness import fuzz_strategies as moves
from harness.exchange import Exchange, MismatchError, Timers
from harness.fsm import Role, State
from harness.memo import Memo
from harness.peer import FakePeer
from harness.process import LOOPBACK, PeerStartError
from harness.profile import Address, Profile, running
from harness.reports import write_atomically
from harness.reports.run import sut_record
from harness.runner import (
    SANITY_STEPS,
    RunOptions,
    SanityError,
    TriggeredSut,
    cell_coverage,
    context_of,
    sanity,
    timers_of,
)
from harness.scenario import Scenario, Step, parse_scenario, parse_steps, stepwise_frame
from harness.transcript import Direction, Transcript

#: What a finding's scenario cites (PS3.8 9.2.3: the state transition table).
REFERENCES = ("PS3.8 9.2.3", "PS3.8 Table 9-10")
#: States where the SUT's ARTIM runs, so that staying silent makes it close (Evt18).
_ARTIM_STATES = frozenset({State.STA2, State.STA13})
#: A fresh association after an example with an acceptor SUT: the sanity association of
#: :data:`harness.runner.SANITY` on a new connection (liveness).
_ACCEPTOR_LIVENESS: tuple[moves.Step, ...] = ({"transport": "reconnect"}, *SANITY_STEPS)
_PER_STATE_TABLE: moves.Step = {"expect": "per-state-table"}
#: Seconds between the liveness association's attempts after a transient reject.
RETRY_PAUSE = 0.1


@dataclass(frozen=True)
class FuzzOptions:
    """The fuzz run's knobs (``dicom-harness fuzz``)."""

    max_examples: int = 200
    seed: int | None = None
    deadline: float | None = None
    """Wall-clock budget of the whole run in seconds; the run stops cleanly when spent."""
    timeout_scale: float = 1.0
    silence: float = 0.02
    """Seconds (scaled) a "no reaction" window lasts: short, fuzzing lives on many moves."""
    steps: int = 8
    """Moves per example at most (hypothesis's ``stateful_step_count``)."""
    artim: bool = False
    """Also let the SUT's ARTIM expire in Sta2 and Sta13 (an ARTIM period per such move)."""
    out: Path = Path("reports") / "fuzz"
    replay: str = ""
    """The SUT options of ``dicom-harness run`` that replay a finding (``--peer P``)."""


@dataclass
class Finding:
    """A minimal move sequence after which the SUT broke an oracle."""

    kind: str
    """``state-table`` (a reaction Table 9-10 does not allow, or none in time) or
    ``liveness`` (no fresh association after the example)."""
    message: str
    steps: list[moves.Step]
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        """The finding as the JSON report carries it."""
        return {"kind": self.kind, "message": self.message, "scenario": self.path}


@dataclass
class FuzzReport:
    """What a fuzz run did: examples, findings, flaky failures, and the cells covered."""

    sut: dict[str, Any]
    seed: int
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    examples: int = 0
    hostile_cases: int = 0
    findings: list[Finding] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    cells: list[tuple[str, str, str]] = field(default_factory=list)
    stopped: str = ""
    """Why the run ended early: ``deadline`` or ``interrupted``; empty when it did not."""

    @property
    def coverage(self) -> dict[str, Any]:
        """The PS3.8 Table 9-10 cells the run exercised (:func:`harness.runner.cell_coverage`)."""
        return cell_coverage(self.cells)

    def to_json(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "harness_version": __version__,
            "sut": self.sut,
            "seed": self.seed,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_s": round(self.duration_s, 3),
            "examples": self.examples,
            "hostile_cases": self.hostile_cases,
            "findings": [finding.to_json() for finding in self.findings],
            "flaky": self.flaky,
            "stopped": self.stopped,
            "interrupted": self.stopped == "interrupted",
            "coverage": self.coverage,
        }


def write_report(report: FuzzReport, path: str) -> None:
    """Write the JSON report (UTF-8, indented, atomically)."""
    write_atomically(path, json.dumps(report.to_json(), indent=2) + "\n")


class OracleError(AssertionError):
    """An oracle failed; ``steps`` reproduce it as a scenario."""

    def __init__(self, kind: str, message: str, steps: list[moves.Step]) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.steps = steps


class _BudgetSpent(BaseException):
    """The run's ``--deadline`` is spent (a BaseException: hypothesis must not shrink it)."""


_PARSED: Memo[tuple[Step, ...]] = Memo(entries=1024)
#: Longest JSON text of a move kept parsed: the moves that repeat (the association, C-ECHO,
#: release, the table's judgement) are short; a 64 KiB payload is parsed every time.
_PARSED_TEXT_MAX = 2048


def _parsed(steps: list[moves.Step], role: str) -> tuple[Step, ...]:
    """``steps`` as the scenario loader builds them, checked once per distinct short move."""
    text = json.dumps(steps, sort_keys=True)

    def parse() -> tuple[Step, ...]:
        return parse_steps(json.loads(text), role, "<fuzz move>")

    return parse() if len(text) > _PARSED_TEXT_MAX else _PARSED.get((text, role), parse)


class FuzzSession:
    """What every example of one run shares: the SUT, its address, the timers, counts."""

    def __init__(
        self,
        profile: Profile,
        address: Address,
        options: FuzzOptions,
        report: FuzzReport,
        *,
        on_example: Callable[[FuzzReport], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.profile = profile
        self.address = address
        self.options = options
        self.report = report
        self.on_example = on_example
        self.role = Role(profile.sut_role)
        self.run_options = RunOptions(
            timeout_scale=options.timeout_scale, workdir=options.out / "run"
        )
        self.timers: Timers = dataclasses.replace(
            timers_of(profile, self.run_options), silence=options.silence
        )
        self.ends = None if options.deadline is None else time.monotonic() + options.deadline
        self.stop = stop
        self.last_failure: OracleError | None = None

    def check_stop(self) -> None:
        """Raise KeyboardInterrupt once ``stop`` is set: a signal handler's own
        KeyboardInterrupt is lost when it lands in a callback (hypothesis's gc hook)."""
        if self.stop is not None and self.stop.is_set():
            raise KeyboardInterrupt

    def begin(self) -> None:
        """A new example, unless the budget is spent or the run is stopped."""
        self.check_stop()
        if self.ends is not None and time.monotonic() >= self.ends:
            raise _BudgetSpent
        self.report.examples += 1

    def finished(self, cells: list[tuple[str, str, str]], hostile: bool) -> None:
        """An example judged in full."""
        self.report.cells.extend(cells)
        self.report.hostile_cases += int(hostile)
        if self.on_example is not None:
            self.on_example(self.report)

    def scenario(self) -> Scenario:
        """The frame of an example's exchange: its steps are the moves, run one by one."""
        return stepwise_frame(str(self.role), "fuzz example")


class FuzzMachine(RuleBasedStateMachine):
    """One example: moves on a live exchange, each judged by its expectation."""

    session: ClassVar[FuzzSession]

    def __init__(self) -> None:
        super().__init__()
        self.session.begin()
        self.steps: list[moves.Step] = []
        self.hostile = False
        self.failed = False
        self.associated = False
        """Associated by a move of the normal course (the profile's contexts apply)."""
        self.request_pending = False
        """A requestor SUT's C-ECHO-RQ awaits our response."""
        self.framed = True
        """The SUT has received whole PDUs only (no partial PDU waits for more bytes)."""
        self._resources = contextlib.ExitStack()
        self.exchange = self._open()
        try:
            if self.session.role is Role.REQUESTOR:
                self._run([{"trigger": {}}, {"expect": "A-ASSOCIATE-RQ"}])
        except BaseException:  # hypothesis calls teardown() only once constructed
            self._close()
            raise

    # -- set-up and tear-down ------------------------------------------------------------

    def _open(self) -> Exchange:
        """The example's exchange: connected to an acceptor SUT, or ready to trigger a
        requestor SUT (its listener and command live until :meth:`_close`)."""
        session = self.session
        context = context_of(session.profile, session.address)
        if session.role is Role.ACCEPTOR:
            try:
                peer = FakePeer.connect(
                    session.address.host,
                    session.address.port,
                    timeout=session.timers.seconds("reply"),
                )
            except OSError as exc:
                self._fail("liveness", f"the SUT no longer accepts a connection: {exc}")
            return Exchange(session.scenario(), peer, context, session.timers, Role.ACCEPTOR)
        listener = self._resources.enter_context(socket.create_server((LOOPBACK, 0)))
        log = session.run_options.workdir.resolve() / session.profile.name / "fuzz.log"
        sut = self._resources.enter_context(
            TriggeredSut(session.profile, listener, log, session.timers, Transcript())
        )
        context = context_of(session.profile, Address(LOOPBACK, sut.port))
        return Exchange(session.scenario(), None, context, session.timers, Role.REQUESTOR, sut=sut)

    def teardown(self) -> None:
        """Liveness (unless a move failed), then close and collect the cells."""
        try:
            if not self.failed:
                self._live()
                outcome = self.exchange.finish()
                self.session.finished(outcome.cells, self.hostile)
        finally:
            self._close()

    def _close(self) -> None:
        self.exchange.abandon()
        self._resources.close()

    # -- running moves -------------------------------------------------------------------

    def _run(self, steps: list[moves.Step], kind: str = "state-table") -> None:
        """Record ``steps`` and run them; a mismatch is a failure of ``kind``."""
        self.steps.extend(steps)
        try:
            self._perform(steps)
        except MismatchError as mismatch:
            self._fail(kind, mismatch.message)

    def _perform(self, steps: list[moves.Step]) -> None:
        self.exchange.perform(_parsed(steps, str(self.session.role)))

    def _live(self) -> None:
        """Liveness: the fresh association of :func:`_liveness_steps` must succeed. A
        transient A-ASSOCIATE-RJ (result 2, PS3.8 9.3.4: the SUT is short of resources for
        now, as an SCP still winding down the example's connection may be) is asked again,
        every :data:`RETRY_PAUSE` seconds, until the profile's ``reply`` runs out."""
        steps = _liveness_steps(self.session.profile)
        self.steps.extend(steps)
        deadline = time.monotonic() + self.session.timers.seconds("reply")
        while True:
            try:
                self._perform(steps)
                return
            except MismatchError as mismatch:
                left = deadline - time.monotonic()
                if left <= 0 or not _rejected_transiently(self.exchange):
                    self._fail("liveness", mismatch.message)
                time.sleep(min(RETRY_PAUSE, left))

    def _fail(self, kind: str, message: str) -> NoReturn:
        self.failed = True
        failure = OracleError(kind, message, list(self.steps))
        self.session.last_failure = failure
        raise failure

    def _send(self, move: moves.Move) -> None:
        """A PDU move, then the table's judgement of the event it caused, if any."""
        tracker = self.exchange.tracker
        before = tracker.last
        self.hostile |= move.hostile
        self.framed = not move.unframed
        self._run([move.step])
        if self.exchange.tracker.last is not before or self.exchange.tracker.lost:
            self._run([_PER_STATE_TABLE])

    @property
    def connected(self) -> bool:
        return self.exchange.ended is None

    @property
    def state(self) -> State:
        return self.exchange.tracker.state

    # -- moves ---------------------------------------------------------------------------

    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        """One move among those open in the presumed state (a single rule, so that no
        draw is ever rejected by a precondition). A move listed several times is drawn
        more often: PDUs over hanging up, the way forward (associate, accept, respond)
        over staying, so that examples reach the association and stay on the wire."""
        self.session.check_stop()
        if not self.connected:
            self.reconnect()
            return
        available = ["hang_up"]
        if self.session.options.artim and self.state in _ARTIM_STATES:
            available.append("artim")
        if self.framed:
            available += self.sends()
        name, argument = data.draw(_moves(self.pdu_strategy, tuple(available)), label="move")
        if name == "hang_up":
            self.hang_up(argument)
        elif name == "pdu":
            self.pdu(argument)
        else:
            getattr(self, name)()

    pdu_strategy: ClassVar[st.SearchStrategy[moves.Move]] = moves.pdu_moves()

    def sends(self) -> list[str]:
        """The moves that send, open in the presumed state (by role, see subclasses)."""
        return ["pdu"] * 4

    def pdu(self, move: moves.Move) -> None:
        """Any PDU, valid or mutated."""
        self._send(move)

    def hang_up(self, action: str) -> None:
        """We close (FIN) or reset (RST) the transport (Evt17)."""
        self._run([{"transport": action}])

    def reconnect(self) -> None:
        """A new connection (Evt5; a requestor SUT is triggered afresh: Evt1, Evt2)."""
        self.associated = self.request_pending = False
        self.framed = True
        if self.session.role is Role.ACCEPTOR:
            self._run([{"transport": "reconnect"}])
        else:
            self._run([{"trigger": {}}, {"expect": "A-ASSOCIATE-RQ"}])

    def artim(self) -> None:
        """Silence until the SUT's ARTIM expires: it must close (Evt18, AA-2)."""
        self._run([{"expect": "transport-closed", "within": "artim"}])


class AcceptorMachine(FuzzMachine):
    """An acceptor SUT: we connect (Evt5) and send whatever we like."""

    def sends(self) -> list[str]:
        """Any PDU; the profile's association in Sta2; a C-ECHO once so associated."""
        available = super().sends()
        if self.state is State.STA2:
            available += ["associate"] * 2
        if self.associated and self.state is State.STA6:
            available.append("echo")
        return available

    def associate(self) -> None:
        """The profile's A-ASSOCIATE-RQ, answered with an AC (AE-6, AE-7)."""
        self._run([{"associate": {}}])
        self.associated = True

    def echo(self) -> None:
        """A C-ECHO-RQ (Evt10, DT-2), answered by the SUT's user (Evt9, DT-1)."""
        self._run([moves.echo_request().step, {"expect": "C-ECHO-RSP"}])


class RequestorMachine(FuzzMachine):
    """A requestor SUT: it connects to us and sends its RQ; we answer or disrupt."""

    pdu_strategy = moves.pdu_moves(include_ac=False)
    """Valid ACs excepted: the SUT's user answers one with more than the table's reaction
    (see :meth:`accept`)."""

    def sends(self) -> list[str]:
        """Any PDU; our AC in Sta5; our C-ECHO-RSP to its request in Sta6."""
        available = super().sends()
        if self.state is State.STA5:
            available += ["accept"] * 2
        if self.request_pending and self.state is State.STA6:
            available += ["respond"] * 2
        return available

    def accept(self) -> None:
        """Our AC (AE-3): the SUT's user then sends its request, or releases."""
        expect = _user_answer(self.session.profile, "sends_c_echo", "C-ECHO-RQ")
        self._run([{"send": "A-ASSOCIATE-AC"}, expect])
        self.request_pending = expect["expect"] == "C-ECHO-RQ"

    def respond(self) -> None:
        """Our C-ECHO-RSP: the SUT's user then releases (Evt11, AR-1)."""
        self.request_pending = False
        expect = _user_answer(self.session.profile, "initiates_release", "A-RELEASE-RQ")
        self._run([{"send": "C-ECHO-RSP"}, expect])


_HANG_UPS = st.sampled_from(("close", "reset"))


@functools.cache
def _moves(
    pdus: st.SearchStrategy[moves.Move], names: tuple[str, ...]
) -> st.SearchStrategy[tuple[str, Any]]:
    """One move among ``names`` (a name listed n times is drawn n times as often), with
    what it takes (the hang-up's action, the PDU move), in one draw; one strategy per
    set of open moves, built once (there are a few dozen sets)."""
    taking = {"hang_up": _HANG_UPS, "pdu": pdus}
    named = {
        name: taking.get(name, st.none()).map(functools.partial(_named, name))
        for name in set(names)
    }
    return st.sampled_from(names).flatmap(named.__getitem__)


def _named(name: str, argument: Any) -> tuple[str, Any]:
    """A drawn move: its name and what it takes."""
    return name, argument


def _user_answer(profile: Profile, capability: str, what: str) -> moves.Step:
    """``expect: what`` when the profile says the SUT's user does it, else the table's."""
    if profile.capabilities.get(capability):
        return {"expect": what}
    return dict(_PER_STATE_TABLE)


def _rejected_transiently(exchange: Exchange) -> bool:
    """The SUT's last PDU is an A-ASSOCIATE-RJ of result 2, rejected-transient (PS3.8
    9.3.4: the result is its byte 7); only an acceptor SUT answers an RQ."""
    if exchange.tracker.role is not Role.ACCEPTOR:
        return False
    received = [e for e in exchange.peer.transcript.entries if e.direction is Direction.RECEIVED]
    if not received:
        return False
    last = received[-1]
    return last.label == "A-ASSOCIATE-RJ" and last.raw[7:8] == b"\x02"


def _liveness_steps(profile: Profile) -> list[moves.Step]:
    """A fresh association after the example (PS3.8 9.1.4: hostile input ends one
    association at most): the sanity association with an acceptor SUT; with a requestor
    SUT, a new trigger answered with an AC, then its request and release as the profile
    says."""
    if profile.sut_role == "acceptor":
        return list(_ACCEPTOR_LIVENESS)
    steps: list[moves.Step] = [{"trigger": {}}, {"accept": {}}]
    if profile.capabilities.get("sends_c_echo"):
        steps += [{"expect": "C-ECHO-RQ"}, {"send": "C-ECHO-RSP"}]
    if profile.capabilities.get("initiates_release"):
        return [
            *steps,
            {"expect": "A-RELEASE-RQ"},
            {"send": "A-RELEASE-RP"},
            {"expect": "transport-closed"},
        ]
    return [*steps, {"release": {}}]


# -- the run -------------------------------------------------------------------------------


def new_seed() -> int:
    """A seed for a run that was given none (reported, so that it can be replayed)."""
    return random.SystemRandom().randrange(1 << 32)


def run_fuzz(
    profile: Profile,
    options: FuzzOptions,
    report: FuzzReport,
    on_example: Callable[[FuzzReport], None] | None = None,
    stop: threading.Event | None = None,
) -> FuzzReport:
    """Fuzz the SUT of ``profile`` (started and stopped here) with ``report.seed``.

    Raises :class:`harness.runner.SanityError` when the SUT cannot be started or fails its
    first sanity association; KeyboardInterrupt (Ctrl-C, SIGTERM; or ``stop`` set, checked
    before every move) leaves ``report`` marked ``interrupted`` with everything so far.
    """
    started = time.monotonic()
    try:
        with running(profile, options.out / "run" / profile.name) as address:
            report.sut = sut_record(profile, address)
            session = FuzzSession(
                profile, address, options, report, on_example=on_example, stop=stop
            )
            if session.role is Role.ACCEPTOR:
                sanity(profile, address, session.run_options, "before fuzzing")
            _fuzz(session)
    except PeerStartError as exc:
        raise SanityError(str(exc)) from exc
    except KeyboardInterrupt:
        report.stopped = "interrupted"
        raise
    finally:
        report.duration_s = time.monotonic() - started
    return report


def _fuzz(session: FuzzSession) -> None:
    """Batches of examples until ``max_examples`` ran, a finding, or the budget is spent;
    a flaky failure starts the next batch with the next seed."""
    report, options = session.report, session.options
    machine = AcceptorMachine if session.role is Role.ACCEPTOR else RequestorMachine
    batch = 0
    while report.examples < options.max_examples:
        bound = type(machine.__name__, (machine,), {"session": session})
        seed(report.seed + batch)(bound)
        try:
            run_state_machine_as_test(
                bound, settings=_settings(options, options.max_examples - report.examples)
            )
        except OracleError as failure:
            report.findings.append(write_finding(failure, session))
            return
        except Flaky as flaky:
            report.flaky.append(f"seed {report.seed + batch}: {str(flaky).splitlines()[0]}")
            batch += 1
            continue
        except _BudgetSpent:
            report.stopped = "deadline"
            if session.last_failure is not None:  # found, not shrunk to the end
                report.findings.append(write_finding(session.last_failure, session))
        return


def _settings(options: FuzzOptions, examples: int) -> settings:
    """Hypothesis settings: no per-example deadline (the oracles bound each wait), no
    database (``--seed`` replays), quiet, one bug per run."""
    return settings(
        max_examples=max(examples, 1),
        stateful_step_count=options.steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )


# -- findings as scenarios -----------------------------------------------------------------

_TITLES = {
    "state-table": "A fuzzed PDU sequence draws a reaction PS3.8 Table 9-10 does not allow",
    "liveness": "After a fuzzed PDU sequence the SUT fails a fresh association",
}


def finding_document(failure: OracleError, role: str) -> dict[str, Any]:
    """The scenario that replays ``failure``: its steps, judged as the fuzzer judged them."""
    digest = hashlib.sha256(json.dumps(failure.steps, sort_keys=True).encode()).hexdigest()
    return {
        "id": f"{role}/fuzz/{digest[:10]}",
        "title": _TITLES[failure.kind],
        "description": f"Found by dicom-harness fuzz: {failure.message}",
        "references": list(REFERENCES),
        "requirement": "MUST",
        "sut_role": role,
        "hostile": True,
        "steps": json.loads(json.dumps(failure.steps)),  # copies: no YAML anchors
    }


def write_finding(failure: OracleError, session: FuzzSession) -> Finding:
    """Write ``failure`` as a scenario file under ``--out`` (checked by the loader first),
    with the seed and the command that replays it in a comment."""
    document = finding_document(failure, str(session.role))
    name = document["id"].replace("/", "-")
    path = session.options.out / f"{name}.yaml"
    parse_scenario(document, str(path))
    replay = session.options.replay or f"--peer {session.profile.name}"
    header = (
        f"# Found by dicom-harness fuzz {replay} --seed {session.report.seed}\n"
        f"# (hypothesis seed {session.report.seed}; {failure.kind}: {_one_line(failure.message)})\n"
        f"# Replay: dicom-harness run {replay} {path}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=100)
    write_atomically(str(path), header + text)
    return Finding(failure.kind, failure.message, failure.steps, str(path))


def _one_line(text: str) -> str:
    return " ".join(text.split())
