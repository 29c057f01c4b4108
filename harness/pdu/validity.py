"""Rules for a received PDU beyond its structure: invalid (Evt19), or the receiver's choice.

PS3.8 Table 9-10 has one event for an "unrecognized or invalid PDU" (Evt19). A PDU that
does not dissect (:func:`harness.pdu.check_one`) is one. These functions judge well-formed
PDUs, on their bytes, for the built-in peer's classification of what it receives and the
harness's judgement of the event a PDU it sends causes in the SUT, so that both read a PDU
the same way:

- :func:`missing_items`: an A-ASSOCIATE-RQ or -AC without a mandatory item is invalid
  (PS3.8 9.3.2 Table 9-11, 9.3.3 Table 9-17: "shall contain" one application context
  item, one or more presentation context items, one user information item; PS3.8 D.1,
  PS3.7 D.3.3.1: the user information item holds the maximum length sub-item).
- :func:`fixed_length_defect` and :func:`p_data_defect`: PS3.8 fixes what the sender puts
  there but not what the receiver tests, so the receiver may read the PDU as valid or
  refuse it as invalid (A-ABORT reason 6, invalid-PDU-parameter value): a 10-byte PDU whose
  PDU-length is not 4 (Tables 9-21, 9-24, 9-25, 9-26: read whole, its 4 known bytes taken,
  or refused); a P-DATA-TF longer than the receiver's maximum length (PS3.8 D.1) or with a
  PDV on a presentation context the association did not accept (9.3.5, Table 9-23).
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Iterator
from typing import Final

from harness.framing import PDU_HEADER_LENGTH, iter_pdvs

#: The 10-byte PDUs (A-ASSOCIATE-RJ, A-RELEASE-RQ, A-RELEASE-RP, A-ABORT) and the
#: PDU-length PS3.8 fixes for them.
_FIXED_LENGTH_TYPES: Final = frozenset({0x03, 0x05, 0x06, 0x07})
FIXED_PDU_LENGTH: Final = 4
#: Where the variable items of an A-ASSOCIATE-RQ/AC start (header and 68 fixed bytes).
_ITEMS_AT: Final = 74
_ITEM_HEADER: Final = struct.Struct(">BxH")
#: Item type -> the name of a mandatory item, per PDU type (PS3.8 Tables 9-11, 9-17).
_MANDATORY: Final = {
    0x01: {0x10: "application-context", 0x20: "presentation-context", 0x50: "user-information"},
    0x02: {0x10: "application-context", 0x21: "presentation-context", 0x50: "user-information"},
}
_USER_INFORMATION: Final = 0x50
_MAXIMUM_LENGTH: Final = 0x51


def _items(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(type, value start, value end) of each item in ``data[start:end]``, whose structure
    :func:`harness.pdu.check_one` has checked."""
    pos = start
    while pos + _ITEM_HEADER.size <= end:
        item_type, length = _ITEM_HEADER.unpack_from(data, pos)
        value = pos + _ITEM_HEADER.size
        yield item_type, value, value + length
        pos = value + length


def missing_items(data: bytes) -> tuple[str, ...]:
    """The mandatory items an A-ASSOCIATE-RQ or -AC (well formed) lacks, by their PS3.8
    names (``maximum-length`` for a user information item without its 51H sub-item);
    empty for any other PDU."""
    mandatory = _MANDATORY.get(data[0])
    if mandatory is None:
        return ()
    items: set[int] = set()
    user_data: set[int] = set()
    for item_type, value, end in _items(data, _ITEMS_AT, len(data)):
        items.add(item_type)
        if item_type == _USER_INFORMATION:
            user_data.update(sub_type for sub_type, _, _ in _items(data, value, end))
    missing = [name for item_type, name in mandatory.items() if item_type not in items]
    if _USER_INFORMATION in items and _MAXIMUM_LENGTH not in user_data:
        missing.append("maximum-length")
    return tuple(missing)


def fixed_length_defect(data: bytes) -> str | None:
    """Why a 10-byte PDU (well formed) is not as PS3.8 fixes it: a PDU-length other than
    4, the bytes beyond them read whole; None for a right one or another PDU type."""
    if data[0] not in _FIXED_LENGTH_TYPES or len(data) == PDU_HEADER_LENGTH + FIXED_PDU_LENGTH:
        return None
    return (
        f"PDU-length {len(data) - PDU_HEADER_LENGTH}; PS3.8 fixes {FIXED_PDU_LENGTH} for this PDU"
    )


def p_data_defect(
    body: bytes | memoryview, accepted: Collection[int], max_length: int
) -> str | None:
    """Why a P-DATA-TF's variable field ``body`` (its PDV items well formed) is not one the
    receiver must take: longer than its ``max_length`` (0: no maximum, PS3.8 D.1), or a PDV
    on a presentation context not in ``accepted``; None if neither. PDV items that do not
    fit raise :class:`harness.framing.PDVError` (invalid: PS3.8 Table 9-23)."""
    pc_ids = {pdv.pc_id for pdv in iter_pdvs(body)}
    if max_length and len(body) > max_length:
        return f"P-DATA-TF PDU-length {len(body)} > the receiver's maximum {max_length}"
    unaccepted = sorted(pc_ids - set(accepted))
    if unaccepted:
        return f"PDV on presentation context {unaccepted[0]}, which was not accepted"
    return None
