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

An association succeeds when it did what the behaviour says: accepted, every response
received with Status 0000H, released (or aborted by us, as asked). The target must be
loopback: the harness talks to 127.0.0.1, ::1 or localhost only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, cast

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from harness.reference import (
    AssociationRecord,
    Echo,
    NoContextError,
    ReferenceConfig,
    RequestorProtocol,
    RequestorRun,
    Store,
    run_requestor,
)
from harness.schema import Validator
from harness.simulator_scp import SIMULATOR_SCHEMA
from harness.transcript import Transcript, TransportEvent
from harness.yamlsrc import Source, load_file

LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
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


def parse_target(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) with a loopback host; ValueError otherwise."""
    host, sep, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--target {text}: expected HOST:PORT with a port 1-65535")
    if host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"--target {text}: the harness talks to loopback only "
            f"(127.0.0.1, ::1 or localhost), not {host!r}"
        )
    return host, int(port_text)


@dataclass
class Outcome:
    """One association of the simulated SCU: what happened and whether it was asked for."""

    run: RequestorRun
    ok: bool
    reached: bool
    summary: str


@dataclass
class ScuSimulator:
    """Runs the profile's behaviour against ``host:port``, one association per call."""

    profile: ScuProfile
    host: str
    port: int
    called_ae: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    def run_once(self) -> Outcome:
        profile = self.profile
        called = self.called_ae or profile.called_ae
        rq = replace(profile.config.associate_rq(called), async_ops_window=profile.async_window)
        protocol = RequestorProtocol(profile.config, rq)
        try:
            run = run_requestor(
                self.host,
                self.port,
                profile.config,
                called_ae_title=called,
                actions=[Store(profile.store)] if profile.store else [Echo()] * profile.echoes,
                protocol=protocol,
                abort=profile.abort_after_associate,
            )
        except NoContextError as exc:  # the link is closed; its transcript is lost
            run = RequestorRun(protocol, Transcript())
            run.transcript.event(TransportEvent.CONNECTED, f"{self.host}:{self.port}")
            outcome = Outcome(run, False, True, f"failed: {exc}")
            self.outcomes.append(outcome)
            return outcome
        outcome = _judge(run, profile)
        self.outcomes.append(outcome)
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
    statuses = run.statuses
    asked = 1 if profile.store is not None else profile.echoes
    if len(statuses) != asked or any(statuses):
        return Outcome(run, False, True, f"failed: responses {statuses}, {asked} asked")
    if profile.abort_after_associate:
        return Outcome(run, True, True, "ok: accepted, aborted by us")
    if "A-RELEASE-RP" not in labels:
        return Outcome(run, False, True, "failed: not released")
    request = "C-STORE" if profile.store is not None else "C-ECHO"
    return Outcome(run, True, True, f"ok: accepted, {len(statuses)} {request}, released")
