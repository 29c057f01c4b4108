"""Symbolic names for the PS3.8 result, source and reason codes used in scenario files.

``rejected-permanent``, ``service-user``, ``called-ae-title-not-recognized``,
``unrecognized-pdu``... are slugs of the names the codec displays (PS3.8 Tables 9-18,
9-21 and 9-26, kept in :mod:`harness.pdu`): lower case, the parenthesised part dropped
unless two codes of one table would then share a name (``service-provider-acse``,
``service-provider-presentation``). A number is always accepted as well.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.pdu.items import PC_RESULT_NAMES
from harness.pdu.pdus import (
    ABORT_REASON_NAMES,
    ABORT_SOURCE_NAMES,
    RJ_REASON_NAMES,
    RJ_RESULT_NAMES,
    RJ_SOURCE_NAMES,
)


def _slugs(names: Mapping[int, str]) -> dict[str, int]:
    """``{slug: code}``; a parenthesised qualifier is kept only to tell codes apart."""
    plain = {code: name.split(" (")[0].lower() for code, name in names.items()}
    slugs: dict[str, int] = {}
    for code, name in names.items():
        slug = plain[code]
        if list(plain.values()).count(slug) > 1:
            qualifier = name.split(" (")[1].split()[0].lower()
            slug = f"{slug}-{qualifier}"
        slugs[slug] = code
    return slugs


def _merged(tables: Mapping[int, Mapping[int, str]]) -> dict[str, int]:
    """Reason names of every source; one name means one value across them."""
    merged: dict[str, int] = {}
    for table in tables.values():
        for slug, code in _slugs(table).items():
            if merged.setdefault(slug, code) != code:
                raise AssertionError(f"reason {slug!r} has two values")  # pragma: no cover
    return merged


#: Symbols by (PDU name, field name); fields of other PDUs take numbers only.
SYMBOLS: Mapping[tuple[str, str], Mapping[str, int]] = {
    ("A-ASSOCIATE-RJ", "result"): _slugs(RJ_RESULT_NAMES),
    ("A-ASSOCIATE-RJ", "source"): _slugs(RJ_SOURCE_NAMES),
    ("A-ASSOCIATE-RJ", "reason"): _merged(RJ_REASON_NAMES),
    ("A-ABORT", "source"): _slugs(ABORT_SOURCE_NAMES),
    ("A-ABORT", "reason"): _merged(ABORT_REASON_NAMES),
    ("A-ASSOCIATE-AC", "result_reason"): _slugs(PC_RESULT_NAMES),
}


def resolve(pdu: str, field: str, value: object) -> object:
    """The code a symbolic ``value`` stands for in ``pdu``'s ``field``; other values as given.

    Raises ValueError for a string that is a symbol of no code of that field.
    """
    table = SYMBOLS.get((pdu, field))
    if table is None or not isinstance(value, str):
        return value
    if value in table:
        return table[value]
    raise ValueError(f"{value!r} is not a {field} of {pdu} ({', '.join(table)})")
