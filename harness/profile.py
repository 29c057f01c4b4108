"""Peer profiles (``peers/*.yaml``): one implementation under test, and how to run it.

A profile says how to start the SUT (a command line with ``{port}``-style templates, or
the built-in reference peer) or where it already listens, its AE title, the presentation
contexts to propose to it, its capabilities, its timers, and the baseline of verdicts
expected from it where they are not ``passed``, each with the reason. The format is a
JSON Schema (:data:`PROFILE_SCHEMA`, shipped as ``harness/schema/profile.schema.json``);
errors name the file, the line and the field.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import association as assoc
from harness.process import LOOPBACK, PeerProcess, PeerStartError, free_port
from harness.scenario_format import CAPABILITIES
from harness.schema import Validator
from harness.yamlsrc import Source, SourceError, load_file

PEERS_DIR = Path(__file__).resolve().parent.parent / "peers"
BASELINE_VERDICTS = ("non-strict", "informational", "unsupported", "failed", "error")

_UID = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$"}
PROFILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dicom-ul-harness.invalid/profile.schema.json",
    "title": "DICOM UL harness peer profile",
    "type": "object",
    "required": ["name", "sut_role", "ae_title"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9.-]*$"},
        "description": {"type": "string"},
        "sut_role": {"enum": ["acceptor", "requestor"]},
        "ae_title": {"type": "string", "minLength": 1, "maxLength": 16},
        "harness_ae_title": {"type": "string", "minLength": 1, "maxLength": 16},
        "host": {"type": "string", "enum": ["127.0.0.1", "::1", "localhost"]},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "max_length": {"type": "integer", "minimum": 0},
        "builtin": {
            "type": "object",
            "description": "run the built-in reference peer with these settings",
        },
        "start": {
            "type": "object",
            "required": ["command"],
            "additionalProperties": False,
            "properties": {
                "command": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "ready_timeout": {"type": "number", "minimum": 0},
                "files": {
                    "type": "object",
                    "description": "files written into the run folder first: name -> text",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "presentation_contexts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "abstract_syntax", "transfer_syntaxes"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "integer", "minimum": 1, "maximum": 255},
                    "abstract_syntax": _UID,
                    "transfer_syntaxes": {"type": "array", "minItems": 1, "items": _UID},
                },
            },
        },
        "capabilities": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"type": "boolean"} for name in CAPABILITIES},
        },
        "timers": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: {"type": "number", "minimum": 0} for name in ("reply", "artim", "silence")
            },
        },
        "baseline": {
            "type": "object",
            "description": "scenario id -> the verdict this peer really gets, and why",
            "additionalProperties": {
                "type": "object",
                "required": ["verdict", "reason"],
                "additionalProperties": False,
                "properties": {
                    "verdict": {"enum": list(BASELINE_VERDICTS)},
                    "reason": {"type": "string", "minLength": 10},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class BaselineEntry:
    """A verdict a peer is known to get for one scenario, with the reason."""

    verdict: str
    reason: str


@dataclass(frozen=True)
class Profile:
    """One implementation under test."""

    name: str
    sut_role: str
    ae_title: str
    harness_ae_title: str = "DICOM-HARNESS"
    host: str = LOOPBACK
    port: int | None = None
    max_length: int = assoc.DEFAULT_MAX_LENGTH
    builtin: Mapping[str, Any] | None = None
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    ready_timeout: float = 15.0
    presentation_contexts: tuple[assoc.PresentationContext, ...] = ()
    capabilities: Mapping[str, bool] = field(default_factory=dict)
    timers: Mapping[str, float] = field(default_factory=dict)
    baseline: Mapping[str, BaselineEntry] = field(default_factory=dict)
    description: str = ""
    path: str = ""

    def lacks(self, capability: str) -> bool:
        """The profile states the SUT does not have ``capability`` (unstated: probed)."""
        return self.capabilities.get(capability) is False

    @property
    def executable(self) -> str | None:
        """The program a started profile runs, if any."""
        return self.command[0] if self.command else None


_DEFAULT_CONTEXTS = (
    assoc.PresentationContext(1, assoc.VERIFICATION_SOP_CLASS, (assoc.IMPLICIT_VR_LITTLE_ENDIAN,)),
)


def parse_profile(document: Any, file: str) -> Profile:
    """Validate a loaded profile document and build its :class:`Profile`."""
    source = Source(file)
    Validator(PROFILE_SCHEMA, source).validate(document)
    timers = document.get("timers", {})
    if timers.get("silence", 1.0) * 2 >= timers.get("artim", 30.0):
        raise source.error(
            timers,
            "silence",
            "timers.silence",
            "must be under half of timers.artim, or a silence check would see ARTIM expire",
        )
    start = document.get("start", {})
    contexts = tuple(
        assoc.PresentationContext(pc["id"], pc["abstract_syntax"], tuple(pc["transfer_syntaxes"]))
        for pc in document.get("presentation_contexts", ())
    )
    return Profile(
        name=document["name"],
        sut_role=document["sut_role"],
        ae_title=document["ae_title"],
        harness_ae_title=document.get("harness_ae_title", "DICOM-HARNESS"),
        host=document.get("host", LOOPBACK),
        port=document.get("port"),
        max_length=document.get("max_length", assoc.DEFAULT_MAX_LENGTH),
        builtin=document.get("builtin"),
        command=tuple(start.get("command", ())),
        env=dict(start.get("env", {})),
        files=dict(start.get("files", {})),
        ready_timeout=float(start.get("ready_timeout", 15.0)),
        presentation_contexts=contexts or _DEFAULT_CONTEXTS,
        capabilities=dict(document.get("capabilities", {})),
        timers=dict(document.get("timers", {})),
        baseline={
            key: BaselineEntry(value["verdict"], value["reason"])
            for key, value in document.get("baseline", {}).items()
        },
        description=document.get("description", ""),
        path=file,
    )


def load_profile(name_or_path: str) -> Profile:
    """A profile by file path, or by name from ``peers/`` (``builtin`` -> builtin.yaml)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PEERS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PEERS_DIR.glob("*.yaml")))
        raise SourceError(str(name_or_path), 0, "", f"no such peer profile (known: {known})")
    return parse_profile(load_file(path), str(path))


def target_profile(host: str, port: int, called_ae: str, calling_ae: str | None) -> Profile:
    """A profile for ``--target HOST:PORT``: an SCP that already listens; all probed."""
    return Profile(
        name=f"target-{host}-{port}",
        sut_role="acceptor",
        ae_title=called_ae,
        harness_ae_title=calling_ae or "DICOM-HARNESS",
        host=host,
        port=port,
        presentation_contexts=_DEFAULT_CONTEXTS,
    )


@dataclass(frozen=True)
class Address:
    """Where a started SUT listens, and where its log is."""

    host: str
    port: int
    log_path: Path | None = None


@contextlib.contextmanager
def running(profile: Profile, workdir: Path) -> Iterator[Address]:
    """Start the profile's SUT on a free loopback port; stop what was started on exit."""
    if profile.builtin is not None:
        from harness.reference import ReferenceServer, config_from_mapping

        config = config_from_mapping(profile.ae_title, profile.builtin)
        with ReferenceServer(config, port=profile.port or 0, keep_transcripts=False) as server:
            host, port = server.address
            yield Address(host, port)
        return
    if not profile.command:
        if profile.port is None:
            raise PeerStartError(f"profile {profile.name}: no start command and no port")
        yield Address(profile.host, profile.port)
        return
    port = profile.port or free_port()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    values = {
        "port": str(port),
        "ae_title": profile.ae_title,
        "artim": f"{profile.timers.get('artim', 30):g}",
        "max_length": str(profile.max_length),
        "workdir": str(workdir),
        "python": sys.executable,
        "peers": str(PEERS_DIR),
    }
    executable = _fill(profile.command[0], values)
    if shutil.which(executable) is None:
        raise PeerStartError(f"profile {profile.name}: {executable!r} is not installed")
    for name, text in profile.files.items():
        (workdir / name).write_text(_fill(text, values))
    command = [_fill(part, values) for part in profile.command]
    log_path = workdir / f"{profile.name}.log"
    with PeerProcess(command, log_path=log_path, env=profile.env, cwd=workdir) as process:
        process.wait_listening(port, profile.ready_timeout)
        yield Address(LOOPBACK, port, log_path)


def _fill(text: str, values: Mapping[str, str]) -> str:
    """``{name}`` replaced for the known names only (a JSON file keeps its own braces)."""
    for name, value in values.items():
        text = text.replace(f"{{{name}}}", value)
    return text
