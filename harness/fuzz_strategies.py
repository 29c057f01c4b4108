"""Hypothesis strategies for the fuzzer's moves: steps of the scenario format.

Every move is one step mapping that :func:`harness.scenario.parse_scenario` accepts, so a
failing sequence of moves is a scenario file as it stands (DESIGN.md, "Scenario files").
The strategies compose like the codec: PDUs (PS3.8 9.3) from field strategies (AE titles,
UIDs, presentation contexts, reasons), items from item strategies (PS3.8 9.3.2, PS3.7
Annex D), and mutations on top through the format's own knobs (``set`` of any field,
``length``, ``truncate``, ``append``, ``split``, ``pause``, ``raw``).

A :class:`Move` says whether it is hostile (its bytes break a PS3.8 rule: an unknown type,
a wrong length, a truncation, garbage, a bad value, reserved bits set, items out of order).
Two rules keep the presumed SUT state (:mod:`harness.tracker`) and the SUT in step, so
that a finding is about the SUT and not about the fuzzer:

- Each move is at most one PDU, framed as its header says, or a partial one the SUT must
  wait on (:attr:`Move.unframed`; only the transport may follow it). No length ever
  claims more than a few bytes beyond what is sent, so the SUT never has to refuse one,
  an event the table does not name.
- P-DATA-TF carry whole DIMSE messages (a C-ECHO-RQ, on the Verification context from
  the fuzz machine once associated, or on any PC-ID; a C-STORE-RQ in one PDU), so that
  the SUT reads them as valid or as PS3.8 lets it refuse them (:mod:`harness.pdu.validity`);
  what the SUT's user answers is its own cell (DIMSE content is not the UL oracle's
  business).
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from harness import dimse
from harness.stimuli import stand_in_context

Step = dict[str, Any]
"""One step of the scenario format, as parsed from YAML."""

_HEADER = struct.Struct(">BBL")
#: PDU types PS3.8 9.3.1 defines; any other type is unrecognized (Evt19).
_DEFINED_TYPES = frozenset(range(1, 8))
#: Item types of A-ASSOCIATE-RQ/AC variable items (PS3.8 9.3.2-9.3.3).
_VARIABLE_ITEMS = (0x10, 0x20, 0x50)
_USER_INFORMATION = 0x50
#: Sub-item types of the user information item PS3.7 Annex D defines (51H..59H).
_USER_DATA_TYPES = frozenset(range(0x51, 0x5A))
#: Item types no PDU defines: PS3.8 9.3.1 says a receiver skips them.
_UNKNOWN_ITEM_TYPES = st.integers(0x00, 0xFF).filter(
    lambda t: t not in {0x10, 0x20, 0x21, 0x30, 0x40, 0x50} | _USER_DATA_TYPES
)
_KNOWN_UIDS = (
    dimse.VERIFICATION_SOP_CLASS,
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture
    dimse.IMPLICIT_VR_LITTLE_ENDIAN,
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
)


@dataclasses.dataclass(frozen=True)
class Move:
    """One fuzzer move: a scenario step, whether its bytes break a PS3.8 rule, and whether
    it leaves a partial PDU behind (then only the transport may follow: the next bytes
    would be read as the rest of it)."""

    step: Step
    hostile: bool = False
    unframed: bool = False
    """It leaves the SUT holding part of a PDU, waiting for the rest."""


# -- values --------------------------------------------------------------------------------


def _hex(data: bytes) -> str:
    return data.hex()


def hex_bytes(min_size: int = 0, max_size: int = 16) -> st.SearchStrategy[str]:
    """Bytes as the format's hex text."""
    return st.binary(min_size=min_size, max_size=max_size).map(_hex)


#: ISO 646 G0 without backslash and without braces, which the format reads as templates.
_AE_CHARACTERS = st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\\{}")


def ae_titles() -> st.SearchStrategy[str]:
    """Valid AE titles: 1-16 ISO 646 G0 characters, no backslash, not all spaces
    (PS3.8 Table 9-11, PS3.5 AE VR); no braces, which the format reads as templates."""
    return st.text(_AE_CHARACTERS, min_size=1, max_size=16).filter(lambda t: t.strip(" "))


def bad_ae_titles() -> st.SearchStrategy[str]:
    """AE titles PS3.8 Table 9-11 forbids: all spaces, control bytes, a backslash."""
    return st.one_of(
        st.just(" " * 16),
        st.text(st.characters(min_codepoint=1, max_codepoint=0x1F), min_size=1, max_size=16),
        st.text(_AE_CHARACTERS, max_size=14).map(lambda t: f"A\\{t}"[:16]),
    )


def uids() -> st.SearchStrategy[str]:
    """Valid UIDs (PS3.8 Annex F): known ones, or digit components without leading zeros."""
    component = st.integers(0, 10**12).map(str)  # at most 13 characters with its dot
    generated = st.lists(component, min_size=2, max_size=4).map(".".join)
    return st.one_of(st.sampled_from(_KNOWN_UIDS), generated)


def bad_uids() -> st.SearchStrategy[str]:
    """UIDs PS3.8 Annex F forbids: leading zeros, empty or non-digit components, over 64."""
    return st.one_of(
        st.sampled_from(("1.2.03", "1..2", "1.2.", ".1.2", "1.2.a", "1.2.840 .1")),
        st.just("1." + "2" * 70),
    )


def presentation_contexts(
    ids: st.SearchStrategy[int] | None = None, syntaxes: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """1-3 presentation contexts (PS3.8 9.3.2.2), odd distinct ids unless ``ids`` differs."""
    id_values = ids if ids is not None else st.integers(0, 127).map(lambda n: 2 * n + 1)
    uid_values = syntaxes if syntaxes is not None else uids()
    context = st.fixed_dictionaries(
        {
            "id": id_values,
            "abstract_syntax": uid_values,
            "transfer_syntaxes": st.lists(uid_values, min_size=1, max_size=3),
        }
    )
    return st.lists(context, min_size=1, max_size=3)


def unknown_items(types: st.SearchStrategy[int] = _UNKNOWN_ITEM_TYPES) -> st.SearchStrategy[Any]:
    """Items of types the PDU does not define (skipped by a receiver, PS3.8 9.3.1)."""
    item = st.fixed_dictionaries({"item_type": types, "data": hex_bytes(0, 24)})
    return st.lists(item, min_size=1, max_size=3)


# -- valid PDUs ----------------------------------------------------------------------------


def _rq_fields() -> st.SearchStrategy[dict[str, Any]]:
    """Negotiation shortcuts of a valid A-ASSOCIATE-RQ to the SUT (PS3.8 9.3.2,
    PS3.7 D.3.3): the SUT's own AE title, our calling title, the profile's contexts."""
    return st.fixed_dictionaries(
        {},
        optional={
            "max_length": st.one_of(st.just(0), st.integers(4096, 1 << 20)),
            "implementation_version_name": ae_titles(),
            "async_ops_window": st.lists(st.integers(0, 4), min_size=2, max_size=2),
        },
    )


def associate_rq() -> st.SearchStrategy[Move]:
    """A valid A-ASSOCIATE-RQ with random but valid negotiation (Evt6)."""
    return _rq_fields().map(lambda fields: Move(_send("A-ASSOCIATE-RQ", fields)))


def _rj_fields() -> st.SearchStrategy[dict[str, Any]]:
    """Result, source and reason combinations of PS3.8 Table 9-21."""
    reasons = {1: (1, 2, 3, 7), 2: (1, 2), 3: (1, 2)}
    return st.sampled_from(sorted(reasons)).flatmap(
        lambda source: st.fixed_dictionaries(
            {
                "result": st.sampled_from((1, 2)),
                "source": st.just(source),
                "reason": st.sampled_from(reasons[source]),
            }
        )
    )


def _abort_fields() -> st.SearchStrategy[dict[str, int]]:
    """Source and reason of PS3.8 Table 9-26 (reason 0 with the user's source)."""
    return st.one_of(
        st.just({"source": 0, "reason": 0}),
        st.fixed_dictionaries(
            {"source": st.just(2), "reason": st.sampled_from((0, 1, 2, 4, 5, 6))}
        ),
    )


def valid_pdus(include_ac: bool = True) -> st.SearchStrategy[Move]:
    """Every PDU type with valid fields (PS3.8 9.3); where it lands decides the event.
    ``include_ac=False`` leaves out the valid A-ASSOCIATE-AC, which a requestor SUT's
    user answers with more than the table's reaction."""
    answers = [st.just(Move(_send("A-ASSOCIATE-AC")))] if include_ac else []
    return st.one_of(
        associate_rq(),
        *answers,
        _rj_fields().map(lambda fields: Move(_send("A-ASSOCIATE-RJ", fields))),
        st.just(Move(_send("A-RELEASE-RQ"))),
        st.just(Move(_send("A-RELEASE-RP"))),
        _abort_fields().map(lambda fields: Move(_send("A-ABORT", fields))),
    )


# -- mutated PDUs --------------------------------------------------------------------------

_FIXED_PDUS = ("A-ASSOCIATE-RJ", "A-RELEASE-RQ", "A-RELEASE-RP", "A-ABORT")
_ANY_PDU = ("A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", *_FIXED_PDUS)


def unknown_pdus() -> st.SearchStrategy[Move]:
    """A PDU of a type PS3.8 does not define (Evt19), up to 64 KiB long (oversize for an
    item-less PDU)."""
    types = st.integers(0, 0xFF).filter(lambda t: t not in _DEFINED_TYPES)
    data = st.one_of(hex_bytes(0, 32), st.integers(1024, 65536).map(lambda n: "00" * n))
    fields = st.fixed_dictionaries({"pdu_type": types, "data": data})
    return fields.map(lambda f: Move(_send("unknown-pdu", f), hostile=True))


def wrong_lengths() -> st.SearchStrategy[Move]:
    """A PDU whose PDU-length is shorter than its fields (PS3.8 9.3.1), sent cut at that
    length (an A-ASSOCIATE-RQ/AC is at least 68 bytes long, the others 4): a PDU that
    cannot be parsed (Evt19). A longer length padded with bytes: :func:`padded_lengths`."""
    association = st.tuples(
        st.sampled_from(("A-ASSOCIATE-RQ", "A-ASSOCIATE-AC")), st.integers(0, 67)
    )
    fixed = st.tuples(st.sampled_from(_FIXED_PDUS), st.integers(0, 3))
    return st.one_of(association, fixed).map(
        lambda p: Move({"send": p[0], "length": p[1], "truncate": 6 + p[1]}, hostile=True)
    )


def padded_lengths() -> st.SearchStrategy[Move]:
    """A 10-byte PDU whose PDU-length is 5-16, not the 4 PS3.8 fixes (Tables 9-21,
    9-24..9-26), with that many bytes: the SUT may read it whole or refuse it
    (:mod:`harness.pdu.validity`)."""
    padding = st.binary(min_size=1, max_size=12)
    return st.tuples(st.sampled_from(_FIXED_PDUS), padding).map(
        lambda p: Move({"send": p[0], "length": 4 + len(p[1]), "append": _hex(p[1])}, hostile=True)
    )


def truncations() -> st.SearchStrategy[Move]:
    """A PDU cut after its header, before its end: the SUT waits for the rest (PS3.8
    9.3.1); an A-ASSOCIATE-RQ/AC is at least 74 bytes, the others 10."""
    association = st.tuples(
        st.sampled_from(("A-ASSOCIATE-RQ", "A-ASSOCIATE-AC")), st.integers(6, 73)
    )
    fixed = st.tuples(st.sampled_from(_FIXED_PDUS), st.integers(6, 9))
    return st.one_of(association, fixed).map(
        lambda p: Move({"send": p[0], "truncate": p[1]}, hostile=True, unframed=True)
    )


def _garbage_pdu(pdu_type: int, length: int, body: bytes) -> bytes:
    """A header of ``length`` and less than ``length`` bytes of body."""
    return _HEADER.pack(pdu_type, 0, length) + body[: length - 1]


def garbage_after() -> st.SearchStrategy[Move]:
    """A valid PDU followed in the same write by the start of a garbage one: a whole
    header of any type with a small length, and part of its body."""
    garbage = st.builds(
        _garbage_pdu, st.integers(0, 0xFF), st.integers(1, 32), st.binary(max_size=32)
    )
    return st.tuples(st.sampled_from(_FIXED_PDUS), garbage).map(
        lambda p: Move({"send": p[0], "append": _hex(p[1])}, hostile=True, unframed=True)
    )


def reserved_values() -> st.SearchStrategy[Move]:
    """Valid PDUs with reserved fields not zero, which a receiver must not test
    (PS3.8 9.3.1); the RQ's protocol version with other bits set (PS3.8 9.3.2)."""
    byte = st.integers(1, 0xFF)
    fixed = st.tuples(st.sampled_from(("A-RELEASE-RQ", "A-RELEASE-RP")), byte).map(
        lambda p: Move(_send(p[0], {"reserved1": p[1]}), hostile=True)
    )
    version = st.integers(0, 0xFFFF).map(
        lambda v: Move(_send("A-ASSOCIATE-RQ", {"protocol_version": v}), hostile=True)
    )
    return st.one_of(fixed, version)


def bad_rq_values() -> st.SearchStrategy[Move]:
    """A-ASSOCIATE-RQs with values PS3.8 and PS3.7 forbid or the SUT does not know: bad
    AE titles, bad UIDs, even or repeated PC-IDs, unknown called AE titles (PS3.8 9.3.2,
    Table 9-11, Annex F); the SUT answers with an AC or an RJ (AE-6)."""
    fields = st.one_of(
        st.fixed_dictionaries({"called_ae_title": st.one_of(ae_titles(), bad_ae_titles())}),
        st.fixed_dictionaries({"calling_ae_title": st.one_of(ae_titles(), bad_ae_titles())}),
        st.fixed_dictionaries({"application_context_name": st.one_of(uids(), bad_uids())}),
        st.fixed_dictionaries({"implementation_class_uid": bad_uids()}),
        st.fixed_dictionaries(
            {"presentation_contexts": presentation_contexts(st.integers(0, 255), bad_uids())}
        ),
        st.fixed_dictionaries({"presentation_contexts": presentation_contexts()}),
    )
    return fields.map(lambda f: Move(_send("A-ASSOCIATE-RQ", f), hostile=True))


def rq_item_mutations() -> st.SearchStrategy[Move]:
    """A-ASSOCIATE-RQs with items out of order, unknown or repeated items and unknown
    user-information sub-items (PS3.8 9.3.1-9.3.2, PS3.7 D.3.3), some large."""
    order = st.permutations(_VARIABLE_ITEMS).map(list)
    large = st.integers(1024, 60000).map(lambda n: [{"item_type": 0x7F, "data": "00" * n}])
    repeated = st.sampled_from((0x10, 0x50)).map(lambda t: [{"item_type": t, "data": ""}])
    fields = st.one_of(
        st.fixed_dictionaries({"item_order": order}),
        st.fixed_dictionaries({"extra_items": st.one_of(unknown_items(), large, repeated)}),
        st.fixed_dictionaries(
            {"extra_user_data": unknown_items(st.integers(0x5A, 0xFF))},
            optional={"item_order": order},
        ),
    )
    return fields.map(lambda f: Move(_send("A-ASSOCIATE-RQ", f), hostile=True))


def item_length_lies() -> st.SearchStrategy[Move]:
    """An A-ASSOCIATE-RQ whose unknown item claims a length past the PDU's end (PS3.8
    9.3.1): the PDU cannot be parsed (Evt19)."""
    item = st.tuples(_UNKNOWN_ITEM_TYPES, st.integers(1, 0xFFF0), st.binary(max_size=8))
    return item.map(
        lambda p: Move(
            _send(
                "A-ASSOCIATE-RQ",
                {
                    "extra_items": [
                        {"item_type": p[0], "item_length": len(p[2]) + p[1], "data": _hex(p[2])}
                    ]
                },
            ),
            hostile=True,
        )
    )


def _rq_without(types: frozenset[int]) -> bytes:
    """A valid A-ASSOCIATE-RQ without its items (and user-information sub-items) of
    ``types``."""
    packet = stand_in_context().default_rq().build()
    packet.variable_items = [i for i in packet.variable_items if i.item_type not in types]
    for item in packet.variable_items:
        if item.item_type == _USER_INFORMATION:
            item.user_data = [s for s in item.user_data if s.item_type not in types]
    return bytes(packet)


def rq_missing_items() -> st.SearchStrategy[Move]:
    """An A-ASSOCIATE-RQ without some of its mandatory items (PS3.8 9.3.2, Table 9-11:
    one 10H, one or more 20H, one 50H; PS3.8 D.1: the 50H holds a 51H): an invalid PDU
    (Evt19)."""
    types = st.frozensets(st.sampled_from((0x10, 0x20, _USER_INFORMATION, 0x51)), min_size=1)
    return types.map(lambda dropped: Move({"raw": _hex(_rq_without(dropped))}, hostile=True))


def foreign_p_data() -> st.SearchStrategy[Move]:
    """Whole DIMSE messages the SUT may refuse (:mod:`harness.pdu.validity`): a C-ECHO-RQ
    on any presentation context ID, accepted or not (PS3.8 9.3.5, Table 9-23); a C-STORE
    of a CT image sent in one P-DATA-TF of 16-40 KB, about the SUT's maximum length or
    beyond it (PS3.8 D.1)."""
    echo = st.integers(0, 255).map(lambda pc_id: {"send": "C-ECHO-RQ", "set": {"pc_id": pc_id}})
    store = st.integers(16000, 40000).map(
        lambda size: {
            "send": "C-STORE-RQ",
            "set": {"pixel_data_bytes": size},
            "max_length": 0,
        }
    )
    return st.one_of(echo, store).map(lambda step: Move(step, hostile=True))


def bad_pdvs() -> st.SearchStrategy[Move]:
    """P-DATA-TF whose PDV items do not fit: an item-length past the PDU, or below the 2
    bytes of PC-ID and header (PS3.8 9.3.5, Table 9-23): an invalid PDU (Evt19)."""
    length = st.one_of(st.integers(0, 1), st.integers(64, 0xFFFFFFFF))
    body = st.tuples(length, st.binary(max_size=16)).map(lambda p: struct.pack(">L", p[0]) + p[1])
    return body.map(
        lambda b: Move(
            {"raw": _hex(_HEADER.pack(0x04, 0, len(b)) + b)},
            hostile=True,
        )
    )


def mutated_pdus() -> st.SearchStrategy[Move]:
    """Every mutation family; each move breaks a PS3.8 rule in its bytes."""
    return st.one_of(
        unknown_pdus(),
        wrong_lengths(),
        truncations(),
        garbage_after(),
        reserved_values(),
        bad_rq_values(),
        rq_item_mutations(),
        item_length_lies(),
        bad_pdvs(),
        padded_lengths(),
        rq_missing_items(),
        foreign_p_data(),
    )


# -- how bytes travel ----------------------------------------------------------------------


def delivery(moves: st.SearchStrategy[Move]) -> st.SearchStrategy[Move]:
    """``moves`` as they are, or (those of one PDU) split over 2-8 TCP writes with a pause
    of at most 2 ms between them (PS3.8 9.1.1: the UL reads a byte stream)."""

    def split(move_and_split: tuple[Move, int, float]) -> Move:
        move, parts, pause = move_and_split
        return dataclasses.replace(move, step={**move.step, "split": parts, "pause": pause})

    # Garbage after a PDU stays in the PDU's write: the PDU may make the SUT close (an
    # A-ABORT in Sta2: AA-2), and a later write would then meet a reset, not a finding.
    whole = moves.filter(lambda move: "append" not in move.step)
    writes = st.tuples(whole, st.integers(2, 8), st.sampled_from((0.0, 0.001, 0.002)))
    return st.one_of(moves, writes.map(split))


def pdu_moves(include_ac: bool = True) -> st.SearchStrategy[Move]:
    """Any PDU move, valid or mutated, delivered in any way (see :func:`valid_pdus`)."""
    return delivery(st.one_of(valid_pdus(include_ac), mutated_pdus()))


def echo_request() -> Move:
    """A whole C-ECHO-RQ on the Verification context (PS3.7 9.1.5), the SUT's user answers."""
    return Move({"send": "C-ECHO-RQ"})


def _send(what: str, fields: Mapping[str, Any] | None = None) -> Step:
    return {"send": what, "set": dict(fields)} if fields else {"send": what}
