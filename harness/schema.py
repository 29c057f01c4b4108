"""A small JSON Schema subset, validated with file/line/field errors.

The scenario format and the peer profile format are each described once, as a JSON
Schema dictionary. The same dictionary is shipped for editors
(``harness/schema/*.schema.json``) and checked here against documents loaded by
:mod:`harness.yamlsrc`, so an error names the file, the line and the field path.

Supported keywords: ``type``, ``properties``, ``required``, ``additionalProperties``,
``enum``, ``const``, ``items``, ``minItems``, ``minimum``, ``maximum``, ``pattern``,
``minLength``, ``maxLength``, ``$ref`` (to ``#/$defs/NAME``), ``description``, and
``oneOf`` where every alternative names its ``required`` keys: the alternative is
chosen by which of those keys the object has (a discriminator), so an error can say
what is wrong inside the step the author meant rather than "matches no alternative".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.yamlsrc import Source

Schema = Mapping[str, Any]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type_ok(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _describe(value: Any) -> str:
    for name, types in _TYPES.items():
        if isinstance(value, types) and not (isinstance(value, bool) and name != "boolean"):
            return name
    return type(value).__name__


class Validator:
    """Validate one document against ``root`` (a schema with optional ``$defs``)."""

    def __init__(self, root: Schema, source: Source) -> None:
        self.root = root
        self.source = source

    def validate(self, value: Any) -> None:
        """Raise SourceError at the first problem found."""
        self._check(value, self.root, parent=None, key=None, path="")

    def _resolve(self, schema: Schema) -> Schema:
        ref = schema.get("$ref")
        if ref is None:
            return schema
        name = ref.removeprefix("#/$defs/")
        resolved: Schema = self.root["$defs"][name]
        return resolved

    def _fail(self, parent: Any, key: str | int | None, path: str, message: str) -> None:
        raise self.source.error(parent, key, path or "(document)", message)

    def _check(
        self, value: Any, schema: Schema, parent: Any, key: str | int | None, path: str
    ) -> None:
        schema = self._resolve(schema)
        if "oneOf" in schema:
            self._check(value, self._choose(value, schema, parent, key, path), parent, key, path)
            return
        expected = schema.get("type")
        if expected is not None:
            names = [expected] if isinstance(expected, str) else list(expected)
            if not any(_type_ok(value, name) for name in names):
                self._fail(
                    parent, key, path, f"expected {' or '.join(names)}, got {_describe(value)}"
                )
        if "const" in schema and value != schema["const"]:
            self._fail(parent, key, path, f"must be {schema['const']!r}")
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(str(c) for c in schema["enum"])
            self._fail(parent, key, path, f"{value!r} is not one of: {choices}")
        if isinstance(value, dict):
            self._check_object(value, schema, path)
        elif isinstance(value, list):
            self._check_array(value, schema, parent, key, path)
        elif isinstance(value, str):
            self._check_string(value, schema, parent, key, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                self._fail(parent, key, path, f"{value} is below the minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                self._fail(parent, key, path, f"{value} is above the maximum {schema['maximum']}")

    def _choose(
        self, value: Any, schema: Schema, parent: Any, key: str | int | None, path: str
    ) -> Schema:
        alternatives = [self._resolve(alt) for alt in schema["oneOf"]]
        if not isinstance(value, dict):
            return alternatives[0]
        matching = [alt for alt in alternatives if all(k in value for k in alt.get("required", ()))]
        if len(matching) == 1:
            return matching[0]
        names = sorted({k for alt in alternatives for k in alt.get("required", ())})
        if not matching:
            self._fail(parent, key, path, f"needs one of the keys: {', '.join(names)}")
        present = sorted(k for k in names if k in value)
        self._fail(parent, key, path, f"has more than one of the keys: {', '.join(present)}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_object(self, value: dict[str, Any], schema: Schema, path: str) -> None:
        properties: Mapping[str, Schema] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                missing = f"{path}.{name}" if path else name
                self._fail(value, None, missing, f"missing required field {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            child = f"{path}.{name}" if path else name
            if name in properties:
                self._check(item, properties[name], value, name, child)
            elif extra is False:
                allowed = ", ".join(sorted(properties))
                self._fail(value, name, child, f"unknown field (allowed: {allowed})")
            elif isinstance(extra, Mapping):
                self._check(item, extra, value, name, child)

    def _check_array(
        self, value: list[Any], schema: Schema, parent: Any, key: str | int | None, path: str
    ) -> None:
        if len(value) < schema.get("minItems", 0):
            self._fail(parent, key, path, f"needs at least {schema['minItems']} item(s)")
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(value):
                self._check(item, items, value, index, f"{path}[{index}]")

    def _check_string(
        self, value: str, schema: Schema, parent: Any, key: str | int | None, path: str
    ) -> None:
        if len(value) < schema.get("minLength", 0):
            self._fail(parent, key, path, f"needs at least {schema['minLength']} character(s)")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self._fail(parent, key, path, f"longer than {schema['maxLength']} characters")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            self._fail(parent, key, path, f"{value!r} does not match {schema['pattern']}")
