"""Scenario files: load, validate and model them (DESIGN.md, "Scenario files").

A scenario is one YAML document: metadata (``id``, ``title``, ``references``,
``requirement``, ``sut_role``, ``requires``, ``hostile``) and ``steps``. The format is
described once in :mod:`harness.scenario_format` (the shipped JSON Schema); this module
checks a document against it, then checks what a schema cannot say (field names per
PDU, symbolic values, templates, durations) by building every PDU once with a stand-in
SUT, so a scenario that loads is one that can run. Every error names the file, the line
and the field.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import scenario_format as fmt
from harness.results import Requirement
from harness.schema import Validator
from harness.yamlsrc import LocatedDict, Source, SourceError, line_of, load_file

Duration = float | str
"""Seconds, or the name of a timer of the SUT profile (``reply``, ``artim``)."""

#: Names a template may use, e.g. ``"NOT-{sut.ae_title}"``.
TEMPLATE_NAMES = frozenset(
    {
        "sut.ae_title",
        "sut.host",
        "sut.port",
        "sut.max_length",
        "harness.ae_title",
        "harness.max_length",
    }
)


@dataclass(frozen=True)
class Step:
    """Base of every step; ``line`` is where it starts in its file."""

    line: int


@dataclass(frozen=True)
class Send(Step):
    """Send a PDU (or a DIMSE message, or an unknown PDU type) built from ``fields``."""

    what: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    length: int | None = None
    truncate: int | None = None
    append: bytes = b""
    split: int | tuple[int, ...] = 1
    pause: float = 0.0
    max_length: int | None = None


@dataclass(frozen=True)
class Raw(Step):
    """Send exactly these bytes."""

    data: bytes
    split: int | tuple[int, ...] = 1
    pause: float = 0.0


@dataclass(frozen=True)
class Coalesce(Step):
    """Several PDUs in one TCP write."""

    parts: tuple[Send | Raw, ...]


@dataclass(frozen=True)
class Expect(Step):
    """Expect a PDU, a DIMSE message, a transport event, silence or the table's reaction."""

    what: str
    where: Mapping[str, Any] = field(default_factory=dict)
    within: Duration = "reply"
    hold: Duration | None = None
    verdict: str | None = None
    message: str = ""
    then: tuple[Step, ...] = ()
    """For an ``any_of`` alternative: the steps that follow only when it matched."""


@dataclass(frozen=True)
class AnyOf(Step):
    """The next thing the SUT does must match one alternative; each maps to a verdict."""

    alternatives: tuple[Expect, ...]
    within: Duration = "reply"


@dataclass(frozen=True)
class Wait(Step):
    """Stay silent for a while (the SUT's timers run)."""

    duration: Duration


@dataclass(frozen=True)
class Transport(Step):
    """Our side of the transport: ``close`` (FIN), ``reset`` (RST), or ``reconnect``
    (close, then a new connection: the SUT sees Evt17, then Evt5 in Sta1)."""

    action: str


@dataclass(frozen=True)
class Associate(Step):
    """Send the profile's A-ASSOCIATE-RQ (changed by ``fields``) and expect an AC."""

    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Accept(Step):
    """For a requestor SUT: expect its A-ASSOCIATE-RQ, answer with an A-ASSOCIATE-AC built
    from it (every context accepted, changed by ``fields``)."""

    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trigger(Step):
    """For a requestor SUT: run its trigger command afresh and accept the new connection
    (its A-ASSOCIATE request, Evt1 in its Sta1, reaches us as Evt2 in its Sta4, PS3.8
    Table 9-10); our previous connection, if still open, is closed first."""


@dataclass(frozen=True)
class Release(Step):
    """Send A-RELEASE-RQ, expect A-RELEASE-RP (P-DATA-TF may come first), then close."""


@dataclass(frozen=True)
class Repeat(Step):
    """Run ``steps`` ``times`` times."""

    times: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Scenario:
    """One scenario file, validated."""

    id: str
    title: str
    references: tuple[str, ...]
    requirement: Requirement
    sut_role: str
    steps: tuple[Step, ...]
    requires: tuple[str, ...] = ()
    hostile: bool = False
    description: str = ""
    path: str = ""

    @property
    def folder(self) -> str:
        """The id without its last component: the scenario's group (JUnit classname)."""
        return self.id.rsplit("/", 1)[0]

    @property
    def triggers(self) -> bool:
        """Whether it has ``trigger`` steps: then it is not triggered before its steps."""
        return any(isinstance(step, Trigger) for step in walk(self.steps))


def walk(steps: Iterable[Step]) -> Iterator[Step]:
    """Every step, with those nested in ``repeat`` and in ``any_of`` alternatives' ``then``."""
    for step in steps:
        yield step
        if isinstance(step, Repeat):
            yield from walk(step.steps)
        elif isinstance(step, AnyOf):
            for alternative in step.alternatives:
                yield from walk(alternative.then)


def _starts_with_trigger(steps: Sequence[Step]) -> bool:
    """The first step run is a ``trigger`` (also as the first of a ``repeat``)."""
    first = steps[0]
    return isinstance(first, Trigger) or (
        isinstance(first, Repeat) and _starts_with_trigger(first.steps)
    )


# -- templates and values ----------------------------------------------------------------


def template_names(text: str) -> list[str]:
    """The ``{name}`` fields used in ``text`` (raises ValueError on bad brace syntax)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _check_templates(
    source: Source, node: Any, key: str | int | None, value: Any, path: str = ""
) -> None:
    """Every string inside ``value`` (``node[key]``, at field ``path``) uses known names."""
    path = path or str(key)
    if isinstance(value, str):
        try:
            names = template_names(value)
        except ValueError as exc:
            raise source.error(node, key, path, f"bad template {value!r}: {exc}") from exc
        for name in names:
            if name not in TEMPLATE_NAMES:
                known = ", ".join(sorted(TEMPLATE_NAMES))
                raise source.error(node, key, path, f"unknown template {{{name}}} ({known})")
    elif isinstance(value, dict):
        for child_key, child in value.items():
            _check_templates(source, value, child_key, child, f"{path}.{child_key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _check_templates(source, value, index, child, f"{path}[{index}]")


def parse_hex(text: str) -> bytes:
    """Hex digits with optional whitespace."""
    return bytes.fromhex("".join(text.split()))


# -- building the model ------------------------------------------------------------------


class _Builder:
    """Turns one validated document into :class:`Scenario` steps."""

    def __init__(self, source: Source, sut_role: str) -> None:
        self.source = source
        self.sut_role = sut_role

    def requestor_only(self, node: LocatedDict, key: str, what: str) -> None:
        """``what`` needs the trigger command of a requestor SUT (PS3.8 9.2)."""
        if self.sut_role != "requestor":
            raise self.source.error(
                node, key, key, f"{what} needs a requestor SUT (sut_role: requestor)"
            )

    def duration(self, node: Mapping[str, Any], key: str, default: Duration) -> Duration:
        value = node.get(key, default)
        if isinstance(value, str) and value not in fmt.TIMER_NAMES:
            names = ", ".join(fmt.TIMER_NAMES)
            raise self.source.error(
                node, key, key, f"{value!r} is not a number or a timer ({names})"
            )
        return float(value) if isinstance(value, int | float) else value

    def split(self, node: Mapping[str, Any]) -> int | tuple[int, ...]:
        value = node.get("split", 1)
        return tuple(value) if isinstance(value, list) else int(value)

    def send(self, node: LocatedDict) -> Send:
        fields = node.get("set", {})
        _check_templates(self.source, node, "set", fields)
        return Send(
            line=line_of(node),
            what=node["send"],
            fields=fields,
            length=node.get("length"),
            truncate=node.get("truncate"),
            append=parse_hex(node.get("append", "")),
            split=self.split(node),
            pause=float(node.get("pause", 0.0)),
            max_length=node.get("max_length"),
        )

    def raw(self, node: LocatedDict) -> Raw:
        return Raw(
            line=line_of(node),
            data=parse_hex(node["raw"]),
            split=self.split(node),
            pause=float(node.get("pause", 0.0)),
        )

    def expect(self, node: LocatedDict) -> Expect:
        what = node["expect"]
        where = node.get("where", {})
        if where and what in fmt.TRANSPORT_EXPECTATIONS:
            raise self.source.error(node, "where", "where", f"{what} takes no `where` matchers")
        if "for" in node and what != "silence":
            raise self.source.error(node, "for", "for", "only `silence` lasts `for` a time")
        _check_templates(self.source, node, "where", where)
        if what == fmt.SUT_EXITED:
            self.requestor_only(node, "expect", f"expect: {what}")
        return Expect(
            line=line_of(node),
            what=what,
            where=where,
            within=self.duration(node, "within", "reply"),
            hold=self.duration(node, "for", "silence") if what == "silence" else None,
            verdict=node.get("verdict"),
            message=node.get("message", ""),
            then=self.steps(node.get("then", [])),
        )

    def step(self, node: LocatedDict) -> Step:
        if "send" in node:
            return self.send(node)
        if "raw" in node:
            return self.raw(node)
        if "coalesce" in node:
            parts = node["coalesce"]
            return Coalesce(
                line=line_of(node),
                parts=tuple(self.send(p) if "send" in p else self.raw(p) for p in parts),
            )
        if "expect" in node:
            return self.expect(node)
        if "any_of" in node:
            return AnyOf(
                line=line_of(node),
                alternatives=tuple(self.expect(alt) for alt in node["any_of"]),
                within=self.duration(node, "within", "reply"),
            )
        if "wait" in node:
            return Wait(line=line_of(node), duration=self.duration(node, "wait", 0.0))
        if "transport" in node:
            return Transport(line=line_of(node), action=node["transport"])
        if "associate" in node:
            fields = node["associate"].get("set", {})
            _check_templates(self.source, node["associate"], "set", fields)
            return Associate(line=line_of(node), fields=fields)
        if "accept" in node:
            fields = node["accept"].get("set", {})
            _check_templates(self.source, node["accept"], "set", fields)
            return Accept(line=line_of(node), fields=fields)
        if "trigger" in node:
            self.requestor_only(node, "trigger", "a trigger step")
            return Trigger(line=line_of(node))
        if "release" in node:
            return Release(line=line_of(node))
        repeat = node["repeat"]
        return Repeat(line=line_of(node), times=repeat["times"], steps=self.steps(repeat["steps"]))

    def steps(self, nodes: Sequence[LocatedDict]) -> tuple[Step, ...]:
        return tuple(self.step(node) for node in nodes)


_VALIDATOR_SCHEMA = fmt.SCENARIO_SCHEMA


def parse_scenario(document: Any, file: str) -> Scenario:
    """Validate a loaded YAML document and build its :class:`Scenario`."""
    source = Source(file)
    Validator(_VALIDATOR_SCHEMA, source).validate(document)
    builder = _Builder(source, document["sut_role"])
    scenario = Scenario(
        id=document["id"],
        title=document["title"],
        references=tuple(document["references"]),
        requirement=Requirement(document["requirement"]),
        sut_role=document["sut_role"],
        steps=builder.steps(document["steps"]),
        requires=tuple(document.get("requires", ())),
        hostile=bool(document.get("hostile", False)),
        description=document.get("description", ""),
        path=file,
    )
    if scenario.triggers and not _starts_with_trigger(scenario.steps):
        raise source.error(
            document["steps"],
            0,
            "steps[0]",
            "a scenario with trigger steps starts with one: there is no connection before it",
        )
    from harness.stimuli import check_scenario

    check_scenario(scenario, document, source)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load one scenario file; any problem is a SourceError naming file, line, field."""
    return parse_scenario(load_file(path), str(path))


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``*.yaml`` files named by ``paths`` (folders searched recursively), sorted."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.rglob("*.yaml")))
        elif path.exists():
            files.append(path)
        else:
            raise SourceError(str(path), 0, "", "no such file or folder")
    return files


def load_scenarios(paths: Iterable[str | Path]) -> list[Scenario]:
    """Load every scenario under ``paths``; ids must be unique across them."""
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for path in scenario_files(paths):
        scenario = load_scenario(path)
        if scenario.id in seen:
            document = load_file(path)
            raise SourceError(
                str(path),
                line_of(document, "id"),
                "id",
                f"{scenario.id!r} is also in {seen[scenario.id]}",
            )
        seen[scenario.id] = str(path)
        scenarios.append(scenario)
    return scenarios


#: What a stepwise exchange cites: PS3.8 section 9, the protocol its steps drive.
STEPWISE_REFERENCE = "PS3.8 9"


def parse_steps(steps: Sequence[Mapping[str, Any]], sut_role: str, source: str) -> tuple[Step, ...]:
    """Steps given one at a time (a hand-written test's helpers, the fuzzer's moves),
    checked and built exactly as in a scenario file; an error names ``source``."""
    document = {
        "id": f"{sut_role}/stepwise/step",
        "title": source,
        "references": [STEPWISE_REFERENCE],
        "requirement": "MUST",
        "sut_role": sut_role,
        "steps": list(steps),
    }
    return parse_scenario(document, source).steps


def stepwise_frame(sut_role: str, title: str) -> Scenario:
    """The scenario of an exchange whose steps come one at a time
    (:meth:`harness.exchange.Exchange.perform`, :func:`parse_steps`): none of its own."""
    return Scenario(
        id=f"{sut_role}/stepwise/{title.replace(' ', '-')}",
        title=title,
        references=(STEPWISE_REFERENCE,),
        requirement=Requirement.MUST,
        sut_role=sut_role,
        steps=(),
    )
