"""One scenario's steps over one fake peer, and the judgement of what the SUT did.

The exchange sends what the steps say, reads what the SUT answers, and compares it with
the expectations; a mismatch stops the scenario with the verdict its requirement level
gives (MUST: failed, SHOULD: non-strict, MAY: informational) unless the step names
another. ``any_of`` alternatives map what the SUT did to a verdict. ``per-state-table``
asks :mod:`harness.fsm` what Table 9-10 allows for the event we caused in the SUT's
presumed state (:mod:`harness.tracker`). The teardown (who closed, how, after which
A-ABORT) is recorded apart from the exchange's verdict.

A requestor SUT connects to us: the runner hands the exchange a :class:`Sut`, which
starts its trigger command and accepts the connection (before the steps, or at each
``trigger`` step) and tells when the command ended (``expect: sut-exited``). Processes
and the listening socket stay in the runner.
"""

from __future__ import annotations

import dataclasses
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Protocol

from harness import association as assoc
from harness import dimse, framing, pdu
from harness.errors import HarnessError
from harness.fsm import (
    DATA_INDICATIONS,
    PDU_TYPES,
    Event,
    Pdu,
    Reaction,
    Role,
    State,
    cell,
    received_event,
)
from harness.pdu import validity
from harness.peer import (
    UNLIMITED_P_DATA_CAP,
    FakePeer,
    Observation,
    Observed,
    SendStalledError,
    pdu_label,
)
from harness.results import Verdict
from harness.scenario import (
    Accept,
    AnyOf,
    Associate,
    Coalesce,
    Duration,
    Expect,
    Raw,
    Release,
    Repeat,
    Scenario,
    Send,
    Step,
    Transport,
    Trigger,
    Wait,
)
from harness.scenario_format import DIMSE_NAMES, SUT_EXITED
from harness.stimuli import (
    EXIT_CODE,
    Context,
    build_pdus,
    dimse_values,
    mismatches,
    mutate,
    pdu_values,
    resolve_where,
    write_sizes,
)
from harness.tracker import CLOSED, NOTHING, Cell, Seen, Tracker, reaction_matches

_HEADER = struct.Struct(">BxL")
_RELEASE_RQ = bytes(pdu.A_RELEASE_RQ())
DIMSE_MESSAGE_CAP = 16 * 1024 * 1024
"""Most memory held for one DIMSE message being reassembled before the SUT is judged to
flood us (PS3.8 Annex E sets no bound; the suite's largest message is a 1 KiB C-STORE data
set): its P-DATA-TF bytes plus :data:`HELD_PER_PDU` for each of its PDUs."""
HELD_PER_PDU = 512
"""Bytes of Python objects held per P-DATA-TF PDU of a message being reassembled (the
PDU's bytes object, its views and its PDV tuple: about 370 by tracemalloc)."""
_COMMAND_NAMES = {spec.command_field: name for name, spec in dimse.COMMANDS.items()}
#: Verdicts an ``any_of`` alternative may pick without ending the scenario.
_CONTINUING = (Verdict.PASSED, Verdict.NON_STRICT)


@dataclass(frozen=True)
class Timers:
    """The SUT profile's timers in seconds, and the run's ``--timeout-scale``.

    ``reply`` bounds a wait for an answer that should come, ``silence`` is how long
    nothing must happen to count as "no reaction", ``artim`` is the SUT's own ARTIM
    timeout (a wait on it allows ``reply`` more for the SUT to act on it).
    """

    reply: float = 5.0
    artim: float = 30.0
    silence: float = 1.0
    scale: float = 1.0

    def seconds(self, duration: Duration) -> float:
        """A step's duration (seconds or a timer name) in scaled seconds."""
        named = {"reply": self.reply, "silence": self.silence, "artim": self.artim + self.reply}
        base = named[duration] if isinstance(duration, str) else float(duration)
        return base * self.scale


class NotConnectedError(HarnessError):
    """The requestor SUT did not connect after its trigger command was started."""


class Sut(Protocol):
    """A requestor SUT as the runner starts it (PS3.8 9.2: the SUT issues the A-ASSOCIATE
    request, Evt1, and opens the transport)."""

    def trigger(self) -> FakePeer:
        """Start the trigger command afresh and accept its connection (raises
        :class:`NotConnectedError` when none comes in time)."""
        ...

    def exited(self, timeout: float) -> int | None:
        """The latest command's exit code within ``timeout`` seconds; None when it still
        runs (it is then stopped)."""
        ...


class MismatchError(Exception):
    """The SUT did something else than a step expected."""

    def __init__(self, message: str, verdict: Verdict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.verdict = verdict


@dataclass
class Outcome:
    """What an exchange concluded, before the profile's baseline is applied."""

    verdict: Verdict
    message: str
    teardown: dict[str, Any]
    cells: list[tuple[str, str, str]] = field(default_factory=list)
    """(state, event, action seen) per Table 9-10 cell taken (:class:`harness.tracker.Cell`)."""
    tracking: str = ""


def describe(observation: Observation) -> str:
    """What the SUT did, in a phrase for messages."""
    if observation.kind is Observed.PDU:
        raw = observation.raw
        if raw[:1] == b"\x07" and len(raw) >= 10:
            return f"A-ABORT (source {raw[8]}, reason {raw[9]})"
        if raw[:1] == b"\x03" and len(raw) >= 10:
            return f"A-ASSOCIATE-RJ (result {raw[7]}, source {raw[8]}, reason {raw[9]})"
        return pdu_label(raw)
    if observation.kind is Observed.TOO_LONG:
        return _too_long(observation)
    part = f"{len(observation.raw)} byte(s) of a {pdu_label(observation.raw)}"
    if observation.kind is Observed.TIMEOUT and observation.raw:
        return f"only {part} within {observation.waited:.2f} s"
    if observation.kind is Observed.RESET and observation.raw:
        return f"the SUT reset the transport after {part}"
    return {
        Observed.CLOSED: "the SUT closed the transport",
        Observed.RESET: "the SUT reset the transport",
        Observed.TIMEOUT: f"nothing within {observation.waited:.2f} s",
        Observed.TRUNCATED: f"the SUT closed after {part}",
    }[observation.kind]


def _too_long(observation: Observation) -> str:
    """A PDU refused from its header: a P-DATA-TF over the maximum length we announced
    (PS3.8 D.1), or another PDU over what the harness reads."""
    _, declared = _HEADER.unpack_from(observation.raw)
    if observation.pdu_type == framing.P_DATA_TF and observation.cap != UNLIMITED_P_DATA_CAP:
        limit = f"our maximum {observation.cap} (PS3.8 D.1)"
    else:
        limit = f"the {observation.cap} bytes the harness reads"
    return f"a {pdu_label(observation.raw)} of PDU-length {declared} over {limit}"


def _broke_silence(taken: Reaction, observation: Observation) -> bool:
    """The reaction taken is to do nothing (e.g. AA-6 in Sta13), yet the SUT closed
    within the silence window that judges it: that is its reaction to our event, not its
    ARTIM expiring (PS3.8 Table 9-10, Evt18). A PDU there is judged by the tracker (a
    primitive of its user, or the late reaction to an earlier event of the same write); a
    close that is the reaction to an earlier event ends in Sta1, where our event's cell is
    blank, so the tracker has judged it already."""
    return reaction_matches(taken, NOTHING) and seen(observation).closed


def seen(observation: Observation) -> Seen:
    """An observation as the state table sees it."""
    kind = PDU_TYPES.get(observation.pdu_type or 0)
    if observation.kind is Observed.PDU and kind is not None:
        if kind is Pdu.A_ABORT and len(observation.raw) >= 10:
            return Seen(kind, abort_source=observation.raw[8], abort_reason=observation.raw[9])
        return Seen(kind)
    if observation.is_transport_end:
        return CLOSED
    return NOTHING


def _pdus_in(stream: bytearray) -> Iterable[bytes]:
    """Pop every complete PDU off ``stream`` (what the SUT has received)."""
    while len(stream) >= 6:
        _, length = _HEADER.unpack_from(stream)
        if len(stream) < 6 + length:
            return
        data = bytes(stream[: 6 + length])
        del stream[: 6 + length]
        yield data


def readings(data: bytes, context: Context, state: State) -> tuple[Event, ...]:
    """The events the PDU ``data`` may cause in the SUT in ``state`` (PS3.8 Table 9-10),
    by the rules the built-in peer classifies what it receives with
    (:mod:`harness.pdu.validity`).

    One event: its own, or Evt19 for an unrecognized or invalid PDU (PS3.8 9.3.1: one that
    does not dissect; an A-ASSOCIATE-RQ/AC without a mandatory item). Two, its own then
    Evt19, where PS3.8 leaves the receiver free to take it or refuse it: a 10-byte PDU
    whose PDU-length is not 4; a P-DATA-TF over the SUT's maximum length or with a PDV on
    a presentation context not accepted (``context``), where its content is read
    (:data:`harness.fsm.DATA_INDICATIONS`).
    """
    try:
        pdu.check_one(data)
    except pdu.PDUDecodeError:
        return (received_event(data[0], valid=False),)
    own = received_event(data[0])
    if own is Event.EVT19 or validity.missing_items(data):
        return (Event.EVT19,)
    if own is Event.EVT10:
        body = memoryview(data)[framing.PDU_HEADER_LENGTH :]
        try:
            free = validity.p_data_defect(body, context.accepted, context.sut_max_length)
        except framing.PDVError:  # no PDV item at all (PS3.8 Table 9-22: one or more)
            return (Event.EVT19,)
        action = cell(state, own)
        if action is None or action.name not in DATA_INDICATIONS:
            free = None
    else:
        free = validity.fixed_length_defect(data)
    return (own,) if free is None else (own, Event.EVT19)


class Exchange:
    """Runs a scenario's steps for the SUT in ``role``: on ``peer`` (already connected to
    an acceptor SUT), or on the connections a requestor ``sut`` makes when triggered."""

    def __init__(
        self,
        scenario: Scenario,
        peer: FakePeer | None,
        context: Context,
        timers: Timers,
        role: Role,
        *,
        sut: Sut | None = None,
    ) -> None:
        self.scenario = scenario
        self.sut = sut
        self.timers = timers
        self.tracker = Tracker(role)
        self.verdict = Verdict.PASSED
        self.notes: list[str] = []
        self.ended: Observation | None = None
        self.closed: tuple[str, str] | None = None
        self.last_abort: dict[str, int] | None = None
        self.observed: dict[str, Any] = {}
        """The fields of the last PDU or DIMSE message a step judged (``where`` names)."""
        self._received_by_sut = bytearray()
        self._initial_context = context
        self.context = context
        self._peer: FakePeer | None = None
        if peer is not None:
            self._connected(peer)

    @property
    def peer(self) -> FakePeer:
        """The current connection (a scenario that triggers itself has none before)."""
        if self._peer is None:
            raise HarnessError("no connection: the requestor SUT was not triggered")
        return self._peer

    def _connected(self, peer: FakePeer) -> None:
        """A new connection: the association starts afresh (the SUT in Sta2 after Evt5,
        or in Sta4 after Evt2 when it is the requestor, PS3.8 Table 9-10); the transcript
        and the cells taken go on."""
        self._peer = peer
        self.ended = self.closed = self.last_abort = None
        self._received_by_sut.clear()
        initial = self._initial_context
        self.context = dataclasses.replace(initial, accepted=dict(initial.accepted))
        self.tracker = Tracker(self.tracker.role, cells=self.tracker.cells)
        if self.tracker.role is Role.REQUESTOR:  # it has connected (Evt1, AE-1)
            self.tracker.requested()
        else:
            self.tracker.caused(Event.EVT5)

    def abandon(self) -> None:
        """Close the current connection, if any (after a harness error)."""
        if self._peer is not None:
            self._peer.close()

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Every step in order; the first mismatch ends the exchange."""
        message = ""
        try:
            if self.sut is not None and not self.scenario.triggers:
                self._trigger()  # the implicit trigger before the steps
            self._steps(self.scenario.steps)
        except MismatchError as mismatch:
            self.verdict = mismatch.verdict or self.scenario.requirement.verdict_when_unmet
            message = mismatch.message
        return self.finish(message)

    def finish(self, message: str = "") -> Outcome:
        """Tear down and give the outcome: the end of :meth:`run`, and of an exchange
        driven step by step with :meth:`perform` (the fuzzer's examples)."""
        teardown = self._teardown()
        return Outcome(
            verdict=self.verdict,
            message="; ".join(filter(None, [message, *self.notes])),
            teardown=teardown,
            cells=_collapsed_cells(self.tracker.cells),
            tracking=self.tracker.lost,
        )

    def perform(self, steps: Iterable[Step]) -> None:
        """Run ``steps`` on the live exchange exactly as a scenario runs them, for a
        hand-written test (:mod:`harness.pytest_fixtures`): a mismatch raises
        :class:`MismatchError`; :attr:`observed` then holds what the last one matched."""
        self.observed = {}
        for step in steps:
            self._step(step)

    def _steps(self, steps: Iterable[Step]) -> None:
        for step in steps:
            try:
                self._step(step)
            except MismatchError as mismatch:
                mismatch.message = f"line {step.line}: {mismatch.message}"
                raise

    def _step(self, step: Step) -> None:
        if isinstance(step, Send):
            for data in build_pdus(step, self.context):
                self._send(mutate(data, step), step.split, step.pause)
        elif isinstance(step, Raw):
            self._send(step.data, step.split, step.pause)
        elif isinstance(step, Coalesce):
            self._send(b"".join(self._part_bytes(part) for part in step.parts), 1, 0.0)
        elif isinstance(step, Expect):
            self._expect(step)
        elif isinstance(step, AnyOf):
            self._any_of(step)
        elif isinstance(step, Wait):
            time.sleep(self.timers.seconds(step.duration))
        elif isinstance(step, Transport):
            self._transport(step.action)
        elif isinstance(step, Associate):
            self._associate(step)
        elif isinstance(step, Accept):
            self._accept(step)
        elif isinstance(step, Trigger):
            self._trigger()
        elif isinstance(step, Release):
            self._release()
        elif isinstance(step, Repeat):
            for _ in range(step.times):
                self._steps(step.steps)

    # -- sending ---------------------------------------------------------------------------

    def _part_bytes(self, part: Send | Raw) -> bytes:
        if isinstance(part, Raw):
            return part.data
        return b"".join(mutate(data, part) for data in build_pdus(part, self.context))

    def _send(self, data: bytes, split: int | tuple[int, ...], pause: float) -> None:
        if self.ended is not None:
            raise MismatchError(f"cannot send: {describe(self.ended)} before")
        try:
            sent = self.peer.send(data, writes=write_sizes(len(data), split), pause=pause)
        except SendStalledError as stalled:
            raise MismatchError(str(stalled)) from None
        if not sent:
            self._end(Observation(Observed.RESET))
            raise MismatchError("the SUT reset the transport while the harness was sending")
        self._received_by_sut += data
        for received in _pdus_in(self._received_by_sut):
            self.tracker.settle()
            self.tracker.caused(*readings(received, self.context, self.tracker.state))

    def _transport(self, action: str) -> None:
        if action == "reconnect":
            self._reconnect()
            return
        if action == "close":
            self.peer.close()
        else:
            self.peer.reset()
        if self.ended is None:
            self.tracker.caused(Event.EVT17)
            self.ended = Observation(Observed.CLOSED)
            self.closed = ("harness", "closed" if action == "close" else "reset")

    def _reconnect(self) -> None:
        """Close our connection, then open a new one (Evt17, then Evt5 in Sta1): the SUT
        must still accept it (PS3.8 9.1.4, Table 9-10); the transcript goes on."""
        self._transport("close")
        try:
            peer = FakePeer.connect(
                self.context.sut_host,
                self.context.sut_port,
                timeout=self.timers.seconds("reply"),
                transcript=self.peer.transcript,
            )
        except OSError as exc:
            raise MismatchError(f"the SUT no longer accepts a connection: {exc}") from None
        self._connected(peer)

    def _trigger(self) -> None:
        """Close our connection if open (Evt17), then start the requestor SUT's trigger
        command afresh and accept its new connection (PS3.8 9.2, Table 9-10)."""
        if self._peer is not None:
            self._transport("close")
        try:
            peer = self._requestor().trigger()
        except NotConnectedError as exc:
            raise MismatchError(str(exc)) from None
        self._connected(peer)

    def _requestor(self) -> Sut:
        if self.sut is None:
            raise HarnessError("a trigger or sut-exited step with an acceptor SUT")
        return self.sut

    # -- observing -------------------------------------------------------------------------

    def _observe(self, timeout: float) -> Observation:
        """The SUT's next PDU or transport event within ``timeout`` (after an end: the end).

        A P-DATA-TF over the maximum length we announced is refused from its header (PS3.8
        D.1). When the stream is left off a PDU boundary (that refusal, or a PDU cut by
        the deadline), nothing more can be read: the harness closes the connection.
        """
        if self.ended is not None:
            return self.ended
        limit = self.context.harness_max_length or UNLIMITED_P_DATA_CAP
        observation = self.peer.receive(timeout, max_p_data_length=limit)
        self.tracker.observed(seen(observation))
        if observation.is_transport_end:
            self._end(observation)
        elif observation.is_off_boundary:
            self._transport("close")
            self.ended = observation
        if observation.kind is Observed.PDU and observation.pdu_type == 0x07:
            raw = observation.raw
            self.last_abort = {"source": raw[8], "reason": raw[9]} if len(raw) >= 10 else None
        return observation

    def _end(self, observation: Observation) -> None:
        self.ended = observation
        self.closed = ("sut", str(observation.kind))
        self.peer.open = False

    def _judge(self, expect: Expect, observation: Observation, deadline: float) -> list[str]:
        """Why ``observation`` is not what ``expect`` wants (empty: it is)."""
        what = expect.what
        if what == "silence":
            silent = observation.kind is Observed.TIMEOUT and not observation.raw
            return [] if silent else [describe(observation)]
        if what in ("transport-closed", "transport-reset"):
            wanted = Observed.CLOSED if what == "transport-closed" else Observed.RESET
            return [] if observation.kind is wanted else [describe(observation)]
        if observation.kind is not Observed.PDU:
            return [describe(observation)]
        where = resolve_where(what, expect.where, self.context)
        if what in DIMSE_NAMES:
            return self._judge_dimse(what, where, observation, deadline)
        if pdu_label(observation.raw) != what:
            return [describe(observation)]
        try:
            packet = pdu.dissect_shared(observation.raw)
        except pdu.PDUDecodeError as exc:
            return [f"{what} that does not decode: {exc}"]
        if isinstance(packet, pdu.A_ASSOCIATE_RQ):
            self.context.received_rq = packet  # our AC answers it (PS3.8 Table 9-17)
        self.observed = pdu_values(packet)
        problems = mismatches(where, self.observed)
        if not problems and isinstance(packet, pdu.A_ASSOCIATE_AC):
            self._negotiated(packet)
        return [f"{what} with {'; '.join(problems)}"] if problems else []

    def _judge_dimse(
        self, what: str, where: dict[str, Any], observation: Observation, deadline: float
    ) -> list[str]:
        """Read P-DATA-TF PDUs until one DIMSE message is complete, then match it.

        Every P-DATA-TF must respect the maximum length we proposed (PS3.8 D.1: refused
        from its header, :meth:`_observe`) and every PDV the encapsulation rules (Annex E).
        A message still incomplete at the deadline (however many PDUs are still queued),
        or once it holds :data:`DIMSE_MESSAGE_CAP`, is judged by how many P-DATA-TF PDUs
        and bytes the SUT sent for it.
        """
        reassembler = dimse.Reassembler()
        pdus = size = 0
        while True:
            if observation.kind is not Observed.PDU or observation.pdu_type != framing.P_DATA_TF:
                return [_unfinished(pdus, size, describe(observation))]
            pdus, size = pdus + 1, size + len(observation.raw)
            try:
                message = reassembler.feed_p_data(memoryview(observation.raw)[6:])
            except (framing.PDVError, dimse.EncapsulationError, dimse.CommandDecodeError) as exc:
                return [f"a P-DATA-TF that breaks PS3.8 Annex E: {exc}"]
            if message is not None:
                break
            if size + pdus * HELD_PER_PDU > DIMSE_MESSAGE_CAP:
                self._transport("close")
                return [
                    _unfinished(
                        pdus, size, f"the harness closed at its cap of {DIMSE_MESSAGE_CAP} bytes"
                    )
                ]
            if time.monotonic() >= deadline:
                return [_unfinished(pdus, size, "the deadline passed")]
            observation = self._observe(max(deadline - time.monotonic(), 0.0))
        if what.endswith("-RQ") and "MessageID" in message.command:
            self.context.answering(message.command)
        name = _COMMAND_NAMES.get(int(message.command.CommandField), "an unknown command")
        if name != what:
            return [name]
        self.observed = dimse_values(message)
        problems = mismatches(where, self.observed)
        return [f"{what} with {'; '.join(problems)}"] if problems else []

    def _negotiated(self, packet: Any) -> None:
        """Remember what the AC settled: the SUT's max length and the accepted contexts."""
        ac = assoc.AssociateAC.from_packet(packet)
        self.context.sut_max_length = ac.max_length
        proposed = {pc.id: pc.abstract_syntax for pc in self.context.proposed}
        self.context.accepted = {
            r.id: (proposed.get(r.id, ""), r.transfer_syntax) for r in ac.results if r.result == 0
        }

    # -- expectations ----------------------------------------------------------------------

    def _expect(self, step: Expect) -> None:
        if step.what == "per-state-table":
            self._per_state_table(step)
            return
        if step.what == SUT_EXITED:
            self._sut_exited(step)
            return
        timeout = self.timers.seconds(step.hold if step.hold is not None else step.within)
        deadline = time.monotonic() + timeout
        observation = self._observe(timeout)
        problems = self._judge(step, observation, deadline)
        if problems:
            raise MismatchError(
                f"expected {_wanted(step)}, got {problems[0]}", _verdict(step.verdict)
            )

    def _any_of(self, step: AnyOf) -> None:
        timeout = self.timers.seconds(step.within)
        deadline = time.monotonic() + timeout
        observation = self._observe(timeout)
        for alternative in step.alternatives:
            if self._judge(alternative, observation, deadline):
                continue
            verdict = _verdict(alternative.verdict) or Verdict.PASSED
            note = alternative.message or f"the SUT answered {describe(observation)}"
            if verdict not in _CONTINUING:
                raise MismatchError(note, verdict)
            if verdict is Verdict.NON_STRICT:
                self._degrade(note)
            self._steps(alternative.then)
            return
        wanted = " or ".join(_wanted(alternative) for alternative in step.alternatives)
        raise MismatchError(f"expected {wanted}, got {describe(observation)}")

    def _sut_exited(self, step: Expect) -> None:
        """The requestor SUT's command ends within the step's time, whatever happened on
        the wire (it must not hang, e.g. after an A-ASSOCIATE-RJ: AE-4, Sta1), with the
        exit code ``where`` asks for."""
        timeout = self.timers.seconds(step.within)
        code = self._requestor().exited(timeout)
        if code is None:
            raise MismatchError(
                f"the SUT's requestor command was still running after {timeout:g} s",
                _verdict(step.verdict),
            )
        where = resolve_where(step.what, step.where, self.context)
        if mismatches(where, {EXIT_CODE: code}):
            raise MismatchError(
                f"expected {_wanted(step)}, got exit code {code}", _verdict(step.verdict)
            )

    def _per_state_table(self, step: Expect) -> None:
        """The SUT's reaction to the event we caused must be one PS3.8 Table 9-10 allows
        (PS3.8 9.2.3), as the tracker judges it: the reaction, which may end in its user's
        first primitive (:func:`harness.fsm.acceptable_reactions`), then nothing the table
        does not allow. A P-DATA-TF its user sent before (DT-1, its own cell) is let pass
        and the reaction awaited after it, within the step's time."""
        last = self.tracker.last
        if last is None or self.tracker.lost:
            raise MismatchError(
                f"the SUT's state is not known ({self.tracker.lost or 'no event caused yet'})",
                Verdict.ERROR,
            )
        must_act_by = time.monotonic() + self.timers.seconds(step.within)
        silent = any(reaction_matches(r, NOTHING) for r in last.reactions)
        first: list[str] = []
        while True:
            wait = self.timers.seconds("silence") if silent else must_act_by - time.monotonic()
            observation = self._observe(max(wait, 0.0))
            waiting = last.taken is None and self.tracker.pending is last
            if not waiting or observation.kind is not Observed.PDU:
                break
            if time.monotonic() >= must_act_by:
                break
            first.append(describe(observation))  # its user's own, or an earlier event's
        if last.taken is None or self.tracker.lost or _broke_silence(last.taken, observation):
            allowed = " or ".join(_reaction_text(r) for r in last.reactions)
            more = f" and {len(first) - 1} more PDU(s)" if len(first) > 1 else ""
            before = f" after {first[0]}{more}" if first else ""
            lost = f" ({self.tracker.lost})" if self.tracker.lost else ""
            raise MismatchError(
                f"PS3.8 Table 9-10 ({last.state}, {last.event}) allows {allowed}; "
                f"got {describe(observation)}{before}{lost}"
            )
        if not last.taken.strict:
            self._degrade(str(last.taken.tolerance))

    def _degrade(self, note: str) -> None:
        self.verdict = Verdict.NON_STRICT
        self.notes.append(note)

    # -- association macros ----------------------------------------------------------------

    def _associate(self, step: Associate) -> None:
        send = Send(line=step.line, what="A-ASSOCIATE-RQ", fields=step.fields)
        self._step(send)
        accept = Expect(line=step.line, what="A-ASSOCIATE-AC")
        timeout = self.timers.seconds("reply")
        observation = self._observe(timeout)
        problems = self._judge(accept, observation, time.monotonic() + timeout)
        if problems:
            raise MismatchError(f"association not accepted: got {problems[0]}")

    def _accept(self, step: Accept) -> None:
        """The SUT's A-ASSOCIATE-RQ (AE-2, any valid one), then our AC built from it (AE-3
        in the SUT: Sta6)."""
        self._expect(Expect(line=step.line, what="A-ASSOCIATE-RQ"))
        self._step(Send(line=step.line, what="A-ASSOCIATE-AC", fields=step.fields))

    def _release(self) -> None:
        """A-RELEASE-RQ, the RP (P-DATA-TF may come first: AR-7), then close (AR-3)."""
        self._send(_RELEASE_RQ, 1, 0.0)
        deadline = time.monotonic() + self.timers.seconds("reply")
        while True:
            observation = self._observe(max(deadline - time.monotonic(), 0.0))
            is_pdu = observation.kind is Observed.PDU
            if is_pdu and observation.pdu_type == 0x06:
                break
            if not is_pdu or observation.pdu_type != framing.P_DATA_TF:
                raise MismatchError(f"expected A-RELEASE-RP, got {describe(observation)}")
            if time.monotonic() >= deadline:  # a flood of them cannot stretch the wait
                raise MismatchError("expected A-RELEASE-RP, got P-DATA-TF PDUs until the deadline")
        self._transport("close")

    # -- teardown --------------------------------------------------------------------------

    def _teardown(self) -> dict[str, Any]:
        """Who ended the connection and how, judged apart from the exchange (DESIGN.md);
        nothing when the requestor SUT never connected."""
        if self._peer is None:
            return {}
        if self.closed is None:
            self._transport("close")
        closed_by, how = self.closed or ("harness", "closed")
        verdict, note = Verdict.PASSED, f"{closed_by} {how} the transport"
        if closed_by == "sut" and how != "closed":
            verdict = Verdict.NON_STRICT
            note += "; PS3.8 9.1.4 asks for a graceful close that loses no PDU"
        return {
            "closed_by": closed_by,
            "how": how,
            "last_abort": self.last_abort,
            "verdict": str(verdict),
            "note": note,
        }


def _unfinished(pdus: int, size: int, then: str) -> str:
    """What the SUT sent instead of a DIMSE message: ``then``, after the P-DATA-TF PDUs
    (if any) of a message it never completed."""
    if not pdus:
        return then
    return f"{pdus} P-DATA-TF PDU(s) ({size} bytes) without a complete DIMSE message, then {then}"


def _collapsed_cells(cells: Iterable[Cell]) -> list[tuple[str, str, str]]:
    """The (state, event, action) path taken, a run of one cell kept once: a flood of
    P-DATA-TF is one step of the path, not one per PDU."""
    path = ((str(state), str(event), action) for state, event, action in cells)
    return [cell for cell, _ in groupby(path)]


def _verdict(name: str | None) -> Verdict | None:
    return Verdict(name) if name else None


def _wanted(step: Expect) -> str:
    where = ", ".join(f"{k}={v}" for k, v in step.where.items())
    return f"{step.what} ({where})" if where else step.what


def _reaction_text(reaction: Reaction) -> str:
    actions = "+".join(reaction.actions)
    if reaction.sends is None:
        return f"{'a close' if reaction.closes_transport else 'no reaction'} [{actions}]"
    if reaction.abort_source is not None:
        return f"A-ABORT source {int(reaction.abort_source)} [{actions}]"
    return f"{reaction.sends} [{actions}]"
