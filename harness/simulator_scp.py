"""``dicom-harness simulate scp``: a standing fake acceptor for manual testing of a device.

Built on the built-in reference peer (:mod:`harness.reference`): a
:class:`ReferenceServer` whose connections run a :class:`SimulatorProtocol`, an
:class:`AcceptorProtocol` whose decisions come from a simulator profile. Everything the
state table prescribes stays in the reference peer; the profile only picks the user's
answers (PS3.8 7.1, 7.2, 7.3) and a few deliberate departures, each a named behaviour:

- ``accept`` (the default): every acceptable A-ASSOCIATE-RQ gets an AC (PS3.7 D.3).
- ``reject: {result, source, reason}``: an A-ASSOCIATE-RJ with these codes (PS3.8
  Table 9-21; symbols as in scenarios, see :mod:`harness.codes`, or numbers). Source 1
  goes through Sta3 (AE-6, Evt8, AE-8); sources 2 and 3 take AE-6's reject branch.
- ``release-collision``: the requestor's A-RELEASE-RQ is met by ours, as if our user
  had asked for release at the same moment (PS3.8 7.2.2.7): Evt11 in Sta6 (AR-1, our RQ,
  Sta7), then its RQ (Evt12, AR-8, Sta10); its RP (Evt13, AR-10, Sta12) makes ours
  (Evt14, AR-4, Sta13).
- ``abort-after: N``: after reacting to the Nth PDU received, a local A-ABORT (Evt15,
  AA-1, PS3.8 7.3) wherever the table allows one (Sta3..Sta12).
- ``delay-ac: SECONDS``: the A-ASSOCIATE-RQ is held that long before it is processed
  (AE-6, then the AC or RJ). The protocol is sans-I/O, so the delay is an output: the
  one timer the reference link has (``StartArtim``, a deadline in the connection's own
  read loop) is set to the delay; its expiry hands the held RQ on. No thread sleeps, so
  other associations go on meanwhile; the transcript shows the timer as ``timed-out``.
  A PDU arriving during the delay is taken in Sta2 and the held RQ is dropped (an
  A-ABORT then gives AA-2, PS3.8 Table 9-10).
- ``max-length: N``: our Maximum Length in the AC (PS3.8 D.1; 0 = unlimited).
- ``async-window: [invoked, performed]``: the window we grant (PS3.7 D.3.3.3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any, Final, TextIO

from harness.association import AssociateAC, AssociateRQ, Rejection
from harness.codes import resolve
from harness.fsm import Event, Machine, State, cell
from harness.process import LOOPBACK
from harness.reference import (
    AcceptorProtocol,
    AssociationRecord,
    Inbound,
    Output,
    ReferenceConfig,
    ReferenceServer,
    StartArtim,
)
from harness.schema import Validator
from harness.yamlsrc import Source, load_file

DEFAULT_PORT: Final = 11112
"""The port when neither ``--port`` nor the profile gives one (PS3.8 Annex G: 11112)."""

_CODE = {"type": ["string", "integer"]}
SIMULATOR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "DICOM UL harness simulator profile",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "ae_title": {"type": "string", "minLength": 1, "maxLength": 16},
        "check_called_ae": {"type": "boolean"},
        "port": {"type": "integer", "minimum": 0, "maximum": 65535},
        "timers": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "artim": {"type": "number", "minimum": 0},
                "idle": {"type": "number", "minimum": 0},
            },
        },
        "behaviour": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "accept": {"const": True},
                "reject": {
                    "type": "object",
                    "required": ["result", "source", "reason"],
                    "additionalProperties": False,
                    "properties": {"result": _CODE, "source": _CODE, "reason": _CODE},
                },
                "release-collision": {"type": "boolean"},
                "abort-after": {"type": "integer", "minimum": 1},
                "delay-ac": {"type": "number", "minimum": 0},
                "max-length": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFFFF},
                "async-window": {
                    "type": "array",
                    "minItems": 2,
                    "items": {"type": "integer", "minimum": 0, "maximum": 65535},
                },
            },
        },
    },
}
"""The simulator profile format (JSON Schema; errors name file, line and field)."""

_ONLY_WITH_ACCEPT: Final = ("release-collision", "abort-after", "max-length", "async-window")
"""Behaviours that need an established association, so they exclude ``reject``."""


@dataclass(frozen=True)
class Behaviour:
    """What the simulated SCP's user decides (see the module docstring)."""

    reject: Rejection | None = None
    release_collision: bool = False
    abort_after: int | None = None
    delay_ac: float = 0.0


@dataclass(frozen=True)
class SimulatorProfile:
    """A parsed simulator profile: the reference peer's configuration and the behaviour."""

    config: ReferenceConfig
    behaviour: Behaviour = field(default_factory=Behaviour)
    port: int | None = None
    name: str = ""


# -- the profile -----------------------------------------------------------------------


def parse_simulator_profile(document: Any, file: str) -> SimulatorProfile:
    """Validate a loaded profile and build it; a problem is a SourceError (file:line:field)."""
    source = Source(file)
    Validator(SIMULATOR_SCHEMA, source).validate(document)
    chosen: Mapping[str, Any] = document.get("behaviour", {})
    _check_combination(chosen, source)
    return SimulatorProfile(
        config=_config(document, chosen),
        behaviour=Behaviour(
            reject=_rejection(chosen["reject"], source) if "reject" in chosen else None,
            release_collision=bool(chosen.get("release-collision", False)),
            abort_after=chosen.get("abort-after"),
            delay_ac=float(chosen.get("delay-ac", 0.0)),
        ),
        port=document.get("port"),
        name=str(document.get("name", Path(file).stem)),
    )


def load_simulator_profile(path: str | Path) -> SimulatorProfile:
    """Read, validate and build a simulator profile file."""
    return parse_simulator_profile(load_file(path), str(path))


def _check_combination(chosen: Mapping[str, Any], source: Source) -> None:
    if "reject" not in chosen:
        return
    for name in ("accept", *_ONLY_WITH_ACCEPT):
        if name in chosen:
            raise source.error(chosen, name, f"behaviour.{name}", "cannot be combined with reject")


def _rejection(codes: Mapping[str, Any], source: Source) -> Rejection:
    """The A-ASSOCIATE-RJ codes (PS3.8 Table 9-21), symbols resolved to numbers."""
    values: dict[str, int] = {}
    for name in ("result", "source", "reason"):
        try:
            value = resolve("A-ASSOCIATE-RJ", name, codes[name])
        except ValueError as exc:
            raise source.error(codes, name, f"behaviour.reject.{name}", str(exc)) from exc
        if not isinstance(value, int) or not 0 <= value <= 255:
            raise source.error(codes, name, f"behaviour.reject.{name}", "must fit one byte")
        values[name] = value
    return Rejection(values["result"], values["source"], values["reason"])


def _config(document: Mapping[str, Any], chosen: Mapping[str, Any]) -> ReferenceConfig:
    """The reference peer's configuration: by default it accepts any called AE title."""
    config = ReferenceConfig(
        ae_title=document.get("ae_title", "SIMULATOR"),
        check_called_ae=document.get("check_called_ae", False),
    )
    timers = document.get("timers", {})
    if "artim" in timers:
        config = replace(config, artim=float(timers["artim"]))
    if "idle" in timers:
        config = replace(config, idle_timeout=float(timers["idle"]))
    if "max-length" in chosen:
        config = replace(config, max_length=int(chosen["max-length"]))
    if "async-window" in chosen:
        window = chosen["async-window"]
        config = replace(config, async_ops_window=(int(window[0]), int(window[1])))
    return config


# -- the protocol: decisions only, sans I/O -----------------------------------------------


class SimulatorProtocol(AcceptorProtocol):
    """The reference acceptor with the user decisions of a :class:`Behaviour`."""

    def __init__(self, config: ReferenceConfig, behaviour: Behaviour, *, busy: bool) -> None:
        super().__init__(config, busy=busy)
        self.behaviour = behaviour
        self.received = 0
        self._held_rq: Inbound | None = None

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | Rejection:
        """The configured rejection, else the reference answer (PS3.7 D.3)."""
        if self.behaviour.reject is not None and not self.busy:
            return self.behaviour.reject
        return super().negotiate(rq)

    def on_pdu(self, inbound: Inbound) -> None:
        """Count the PDU, apply the behaviour that departs from the plain reaction."""
        self.received += 1
        if self._holds(inbound):
            self._held_rq = inbound
            self.emit(StartArtim(self.behaviour.delay_ac))
            return
        self._held_rq = None
        if self._collides(inbound):
            self._requeue(self.release())  # Evt11 in Sta6: AR-1, Sta7
        super().on_pdu(inbound)
        if self.received == self.behaviour.abort_after and cell(self.state, Event.EVT15):
            self._requeue(self.abort())  # Evt15: AA-1, Sta13

    def on_artim_expired(self) -> None:
        """The delay timer hands the held RQ on (AE-6); otherwise ARTIM itself (Evt18)."""
        held, self._held_rq = self._held_rq, None
        if held is not None:
            super().on_pdu(held)
        else:
            super().on_artim_expired()

    def _holds(self, inbound: Inbound) -> bool:
        """An A-ASSOCIATE-RQ in Sta2 to delay (``delay-ac``)."""
        return (
            self.behaviour.delay_ac > 0
            and inbound.event is Event.EVT6
            and self.state is State.STA2
            and self._held_rq is None
        )

    def _collides(self, inbound: Inbound) -> bool:
        """An A-RELEASE-RQ in Sta6 to answer with ours (``release-collision``)."""
        return (
            self.behaviour.release_collision
            and inbound.event is Event.EVT12
            and self.state is State.STA6
        )

    def _requeue(self, outputs: Iterable[Output]) -> None:
        """Outputs of a local request (``release()``, ``abort()``) made while reacting:
        they join, in order, the outputs of the PDU being handled."""
        for output in outputs:
            self.emit(output)


@dataclass(frozen=True)
class SimulatorFactory:
    """Makes each connection's :class:`SimulatorProtocol` (an ``AcceptorFactory``)."""

    behaviour: Behaviour

    def __call__(self, config: ReferenceConfig, *, busy: bool) -> AcceptorProtocol:
        return SimulatorProtocol(config, self.behaviour, busy=busy)


# -- the standing server ----------------------------------------------------------------


KEPT_RECORDS = 64
"""Finished associations a standing simulator keeps after logging them: a soak stays
bounded."""


def simulator_server(
    profile: SimulatorProfile, *, host: str = LOOPBACK, port: int | None = None
) -> ReferenceServer:
    """The (unstarted) reference server running ``profile`` on ``host`` and ``port``."""
    chosen = port if port is not None else profile.port
    return ReferenceServer(
        profile.config,
        SimulatorFactory(profile.behaviour),
        host=host,
        port=chosen if chosen is not None else DEFAULT_PORT,
        max_records=KEPT_RECORDS,
    )


def states_traversed(machine: Machine) -> list[State]:
    """The states of PS3.8 Table 9-10 that ``machine`` went through, in order, a stay in
    one state counted once: e.g. Sta1 Sta4 Sta5 Sta6 Sta7 Sta9 Sta11 Sta1 for a requestor
    that met a release collision (PS3.8 7.2.2.7: AR-8, AR-9, AR-3)."""
    states = [state for state, _ in machine.cells] + [machine.state]
    return [state for state, _ in groupby(states)]


def render_record(number: int, record: AssociationRecord) -> str:
    """One finished association: a header, the states it went through, then one line per
    PDU or transport event."""
    peer = f"{record.peer[0]}:{record.peer[1]}"
    header = f"== association {number} from {peer}, ended in {record.protocol.state}"
    if record.error is not None:
        header += f" (error: {record.error!r})"
    states = " -> ".join(states_traversed(record.protocol.machine))
    body = record.transcript.render() if record.transcript is not None else ""
    return f"{header}\n   states: {states}\n{body}\n"


@dataclass
class RecordLogger:
    """Writes each finished association to ``stream`` and/or ``log_dir``."""

    stream: TextIO | None
    log_dir: Path | None = None
    written: int = 0

    def __call__(self, record: AssociationRecord) -> None:
        self.written += 1
        if self.stream is None and self.log_dir is None:
            return  # --quiet without --log-dir: nothing to render
        text = render_record(self.written, record)
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            (self.log_dir / f"association-{self.written:05d}.log").write_text(text)


def serve(
    server: ReferenceServer,
    log: Callable[[AssociationRecord], None],
    *,
    max_associations: int | None = None,
    stop: threading.Event | None = None,
    poll: float = 0.5,
) -> int:
    """Log each finished association until ``max_associations`` have finished or ``stop``
    is set (a KeyboardInterrupt, from Ctrl-C or SIGTERM, also ends it); the count logged.

    ``server`` must be started; it is left running (the caller stops it).
    """
    logged = 0
    while max_associations is None or logged < max_associations:
        if stop is not None and stop.is_set():
            break
        finished, fresh = server.records_after(logged, poll)
        for record in fresh:
            log(record)
        logged = finished
    return logged
