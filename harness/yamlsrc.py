"""YAML documents that remember where every value came from.

Scenario files and peer profiles are written by people; an error in one must name
the file, the line and the field. This loader keeps a 1-based line for every
mapping key and list item, and refuses duplicate keys (which plain YAML loaders
silently merge).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

try:  # the libyaml parser when present; the pure-Python one otherwise
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class SourceError(HarnessError):
    """A problem in a human-written file, located as ``file:line: field: message``."""

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")
        self.file = file
        self.line = line
        self.field = field
        self.reason = message


class LocatedDict(dict[str, Any]):
    """A mapping from a YAML file; ``line`` is where it starts, ``key_lines`` per key."""

    line: int
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    """A sequence from a YAML file; ``line`` is where it starts, ``item_lines`` per item."""

    line: int
    item_lines: list[int]


@dataclass(frozen=True)
class Source:
    """Where a document came from, to build errors against it."""

    file: str

    def error(self, node: Any, key: str | int | None, field: str, message: str) -> SourceError:
        """A SourceError at ``node[key]`` (or at ``node`` itself when key is None)."""
        return SourceError(self.file, line_of(node, key), field, message)


def line_of(node: Any, key: str | int | None = None) -> int:
    """The 1-based line of ``node[key]``, or of ``node``; 0 when unknown."""
    if isinstance(node, LocatedDict) and isinstance(key, str) and key in node.key_lines:
        return node.key_lines[key]
    if isinstance(node, LocatedList) and isinstance(key, int) and 0 <= key < len(node):
        return node.item_lines[key]
    return getattr(node, "line", 0)


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one mapping; ``key`` is the field to name in the error."""

    def __init__(self, key: str, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"duplicate key {key!r}", mark)
        self.key = key


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader that records lines and rejects duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LocatedDict:
        result = LocatedDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise _DuplicateKeyError(key, key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LocatedList:
        result = LocatedList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def load_text(text: str, file: str) -> Any:
    """Parse one YAML document; syntax errors become SourceError with the line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        field = exc.key if isinstance(exc, _DuplicateKeyError) else ""
        message = f"YAML: {exc.problem or exc.context}"
        if exc.problem and exc.context and exc.context_mark is not None:
            message += f" (while {exc.context.removeprefix('while ')} that starts at line "
            message += f"{exc.context_mark.line + 1})"
        raise SourceError(file, line, field, message) from exc
    except yaml.YAMLError as exc:
        raise SourceError(file, 0, "", f"YAML: {exc}") from exc


def load_file(path: str | Path) -> Any:
    """Read and parse one YAML file; an unreadable file is a SourceError too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(str(path), 0, "", f"cannot read: {exc}") from exc
    return load_text(text, str(path))
