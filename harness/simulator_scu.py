"""``dicom-harness simulate scu``: a standing fake requestor for manual testing of a device.

The mirror of :mod:`harness.simulator_scp`: the built-in reference SCU
(:func:`harness.reference.run_requestor`) connects to ``--target`` on demand and runs the
behaviour the profile names, one association each time:

- ``echo: N`` (the default, N = 1): associate, N C-ECHO requests (PS3.7 9.1.5), release.
- ``abort-after-associate: true``: associate, then a local A-ABORT (Evt15, AA-1, PS3.8 7.3).
- ``store: FILE``: associate, C-STORE the DICOM file (PS3.7 9.1.1; a path relative to
  the profile), release. Its SOP class is proposed with the usual transfer syntaxes.
- ``max-length: N``: our Maximum Length in the RQ (PS3.8 D.1; 0 = unlimited).
- ``async-window: [invoked, performed]``: the window we propose (PS3.7 D.3.3.3).
- ``release-collision: true``: with any of the requests above, expect the SCP to answer
  our A-RELEASE-RQ (AR-1, Sta7) with its own A-RELEASE-RQ (PS3.8 7.2.2.7): Evt12 in Sta7
  (AR-8, Sta9), our RP (Evt14, AR-9, Sta11), its RP (Evt13, AR-3: we close, Sta1). A
  plain A-RELEASE-RP (Evt13 in Sta7, AR-3) fails the association: no collision happened.

An association succeeds when it did what the behaviour says: accepted, every response
received with Status 0000H, released (the release confirmation, AR-3, PS3.8 Table 9-7;
after a release collision when asked) or aborted by us, as asked. A collision is resolved
and reported, asked for or not: the outcome of a release that collided or failed names the
states it went through (PS3.8 Table 9-10). The target must be loopback: the harness talks
to 127.0.0.1, ::1 or localhost only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from harness.fsm import ACTIONS, Machine, State, cell
from harness.reference import (
    AssociationRecord,
    Echo,
    ReferenceConfig,
    RequestorProtocol,
    RequestorRun,
    Store,
    run_requestor,
)
from harness.schema import Validator
from harness.simulator_scp import SIMULATOR_SCHEMA, states_traversed
from harness.transcript import TransportEvent
from harness.yamlsrc import Source, load_file

"""The only targets allowed: the harness talks to loopback by policy."""

_SCP: Mapping[str, Any] = SIMULATOR_SCHEMA["properties"]
_SCP_BEHAVIOUR: Mapping[str, Any] = _SCP["behaviour"]["properties"]
SCU_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "DICOM UL harness simulator profile (requestor)",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _SCP["name"],
        "description": _SCP["description"],
        "ae_title": _SCP["ae_title"],
        "called_ae": _SCP["ae_title"],
        "timers": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"idle": _SCP["timers"]["properties"]["idle"]},
        },
        "behaviour": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "echo": {"type": "integer", "minimum": 1},
                "abort-after-associate": {"const": True},
                "store": {"type": "string", "minLength": 1},
                "max-length": _SCP_BEHAVIOUR["max-length"],
                "async-window": _SCP_BEHAVIOUR["async-window"],
                "release-collision": _SCP_BEHAVIOUR["release-collision"],
            },
        },
    },
}
"""The requestor simulator profile: the SCP's format where the two share a field."""


@dataclass(frozen=True)
class ScuProfile:
    """A parsed requestor profile: the reference SCU's configuration and the behaviour."""

    config: ReferenceConfig
    called_ae: str = "ANY-SCP"
    echoes: int = 1
    abort_after_associate: bool = False
    store: Dataset | None = field(default=None, compare=False)
    async_window: tuple[int, int] | None = None
    release_collision: bool = False
    name: str = ""


def parse_scu_profile(document: Any, file: str) -> ScuProfile:
    """Validate a loaded profile and build it; a problem is a SourceError (file:line:field)."""
    source = Source(file)
    Validator(SCU_SCHEMA, source).validate(document)
    chosen: Mapping[str, Any] = document.get("behaviour", {})
    exclusive = [name for name in chosen if name in ("echo", "abort-after-associate", "store")]
    if len(exclusive) > 1:
        name = exclusive[-1]
        message = f"cannot be combined with {exclusive[0]}"
        raise source.error(chosen, name, f"behaviour.{name}", message)
    release_collision = bool(chosen.get("release-collision", False))
    if release_collision and "abort-after-associate" in chosen:
        message = "cannot be combined with abort-after-associate (there is no release)"
        raise source.error(chosen, "release-collision", "behaviour.release-collision", message)
    data_set = _data_set(chosen, file, source) if "store" in chosen else None
    config = ReferenceConfig(ae_title=document.get("ae_title", "SIMULATOR-SCU"), idle_timeout=10.0)
    if "idle" in document.get("timers", {}):
        config = replace(config, idle_timeout=float(document["timers"]["idle"]))
    if "max-length" in chosen:
        config = replace(config, max_length=int(chosen["max-length"]))
    if data_set is not None:
        sop_class = str(data_set.SOPClassUID)
        config = replace(config, abstract_syntaxes=(*config.abstract_syntaxes, sop_class))
    window = chosen.get("async-window")
    return ScuProfile(
        config=config,
        called_ae=str(document.get("called_ae", "ANY-SCP")),
        echoes=int(chosen.get("echo", 1)) if exclusive in ([], ["echo"]) else 0,
        store=data_set,
        abort_after_associate="abort-after-associate" in chosen,
        async_window=None if window is None else (int(window[0]), int(window[1])),
        release_collision=release_collision,
        name=str(document.get("name", Path(file).stem)),
    )


def _data_set(chosen: Mapping[str, Any], file: str, source: Source) -> Dataset:
    """The ``store`` file, relative to the profile; it needs SOPClassUID and
    SOPInstanceUID."""
    path = Path(file).parent / str(chosen["store"])
    try:
        data_set = dcmread(path)
        data_set.SOPClassUID, data_set.SOPInstanceUID  # noqa: B018 - both are required
    except (OSError, InvalidDicomError, AttributeError) as exc:
        raise source.error(chosen, "store", "behaviour.store", f"{path}: {exc}") from exc
    return data_set


def load_scu_profile(path: str | Path) -> ScuProfile:
    """Read, validate and build a requestor simulator profile file."""
    return parse_scu_profile(load_file(path), str(path))


@dataclass
class Outcome:
    """One association of the simulated SCU: what happened and whether it was asked for."""

    run: RequestorRun
    ok: bool
    reached: bool
    summary: str


@dataclass
class ScuSimulator:
    """Runs the profile's behaviour against ``host:port``, one association per call.

    Only counts of the outcomes are kept, so a long run does not grow: ``associations``
    run, how many ``failed`` (not as the behaviour says) and how many were ``unreachable``.
    """

    profile: ScuProfile
    host: str
    port: int
    called_ae: str | None = None
    associations: int = 0
    failed: int = 0
    unreachable: int = 0

    def run_once(self) -> Outcome:
        profile = self.profile
        called = self.called_ae or profile.called_ae
        rq = replace(profile.config.associate_rq(called), async_ops_window=profile.async_window)
        protocol = RequestorProtocol(profile.config, rq)
        run = run_requestor(
            self.host,
            self.port,
            profile.config,
            called_ae_title=called,
            actions=[Store(profile.store)] if profile.store else [Echo()] * profile.echoes,
            protocol=protocol,
            abort=profile.abort_after_associate,
        )
        return self._counted(_judge(run, profile))

    def _counted(self, outcome: Outcome) -> Outcome:
        self.associations += 1
        self.failed += not outcome.ok
        self.unreachable += not outcome.reached
        return outcome

    def record(self, outcome: Outcome) -> AssociationRecord:
        """The association as :func:`harness.simulator_scp.render_record` and its
        ``RecordLogger`` take it (they only read the protocol's state, which the requestor
        has too)."""
        return AssociationRecord(
            peer=(self.host, self.port),
            protocol=cast(Any, outcome.run.protocol),
            transcript=outcome.run.transcript,
        )


def _judge(run: RequestorRun, profile: ScuProfile) -> Outcome:
    labels = [entry.label for entry in run.transcript.entries]
    reached = TransportEvent.CONNECTED.value in labels
    protocol = run.protocol
    if not reached:
        return Outcome(run, False, False, "failed: target not reachable")
    if run.rejection is not None:
        return Outcome(run, False, True, f"failed: rejected {run.rejection}")
    if run.ac is None:
        return Outcome(run, False, True, "failed: no A-ASSOCIATE-AC")
    if protocol.peer_abort is not None:
        source, reason = protocol.peer_abort
        return Outcome(run, False, True, f"failed: aborted by the peer ({source}/{reason})")
    if TransportEvent.TIMED_OUT.value in labels:
        return Outcome(run, False, True, "failed: timed out")
    if run.unsent:
        return Outcome(run, False, True, f"failed: {'; '.join(run.unsent)}")
    statuses = run.statuses
    asked = 1 if profile.store is not None else profile.echoes
    if len(statuses) != asked or any(statuses):
        return Outcome(run, False, True, f"failed: responses {statuses}, {asked} asked")
    if profile.abort_after_associate:
        return Outcome(run, True, True, "ok: accepted, aborted by us")
    return _judge_release(run, profile)


def _judge_release(run: RequestorRun, profile: ScuProfile) -> Outcome:
    """Released means the release confirmation, AR-3 (PS3.8 Table 9-7): from Sta7 after
    the SCP's RP, or from Sta11 after a release collision (AR-8, AR-9; PS3.8 7.2.2.7)."""
    machine = run.protocol.machine
    state, event = machine.cells[-1]
    path = _release_path(machine)
    if cell(state, event) is not ACTIONS["AR-3"]:
        ended = f"{path}; ended in {state} by {event}: {event.meaning}"
        return Outcome(run, False, True, f"failed: not released ({ended})")
    collided = state is State.STA11
    if profile.release_collision and not collided:
        message = (
            "failed: no release collision happened: the SCP answered our A-RELEASE-RQ"
            f" with an A-RELEASE-RP ({path})"
        )
        return Outcome(run, False, True, message)
    request = "C-STORE" if profile.store is not None else "C-ECHO"
    released = f"released after a release collision ({path})" if collided else "released"
    return Outcome(run, True, True, f"ok: accepted, {len(run.statuses)} {request}, {released}")


def _release_path(machine: Machine) -> str:
    """The states after the association's last stay in Sta6 (PS3.8 Table 9-10): how it
    ended, e.g. ``Sta7 -> Sta1`` for a plain release, ``Sta7 -> Sta9 -> Sta11 -> Sta1``
    for a release collision."""
    states = states_traversed(machine)
    last_sta6 = len(states) - 1 - states[::-1].index(State.STA6)
    return " -> ".join(states[last_sta6 + 1 :])
