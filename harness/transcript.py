"""The transcript of one association: every byte both ways, and the transport events.

Entries are cheap to record (a timestamp, a direction, a label and the raw bytes); the
dissection into PS3.8 fields (section 9.3) happens only when a report or a failure message
is made, so a run that sends 16 MiB of P-DATA does not pay for scapy on the data path.

A lying peer cannot make a transcript unbounded: each entry keeps at most
:data:`RAW_KEEP` bytes and the whole transcript :data:`RAW_BUDGET` (then
:data:`HEADER_KEEP` per entry); only the first :data:`HEAD_ENTRIES` and the last
:data:`TAIL_ENTRIES` entries are kept, the ones between counted in an ``entries-omitted``
entry; only entries kept whole are dissected, listing at most :data:`LISTED_ELEMENTS`
items or PDVs per list.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

RAW_KEEP = 64 * 1024
"""Raw bytes kept per entry: enough for every association PDU and a DIMSE command."""
RAW_BUDGET = 128 * 1024
"""Raw bytes kept per transcript, all entries together (a whole association of the suite
needs under 40 KiB); it also bounds the scapy dissection a report makes of it."""
HEADER_KEEP = 12
"""Raw bytes kept per entry once the budget is spent: the PDU header and the first item
or PDV header."""
HEAD_ENTRIES = 1000
"""Entries kept from the start of a transcript."""
TAIL_ENTRIES = 100
"""Entries kept from its end (how the association ended)."""
LISTED_ELEMENTS = 64
"""Items, sub-items or PDVs listed per list in a report's dissection; the rest counted."""
OMITTED = "entries-omitted"
"""The label of the entry that stands for the entries not kept."""


class Direction(StrEnum):
    """Who did it: the harness sent, the harness received, or a transport event."""

    SENT = "sent"
    RECEIVED = "received"
    EVENT = "event"


class TransportEvent(StrEnum):
    """What the transport did, told apart (a timeout is never a close)."""

    CONNECTED = "connected"
    ACCEPTED = "accepted"
    CLOSED_BY_PEER = "closed-by-peer"
    RESET_BY_PEER = "reset-by-peer"
    TIMED_OUT = "timed-out"
    TRUNCATED = "truncated-pdu"
    TOO_LONG = "pdu-too-long"
    CLOSED_BY_HARNESS = "closed-by-harness"
    RESET_BY_HARNESS = "reset-by-harness"
    SUT_OUTPUT = "sut-output"


@dataclass
class Entry:
    """One thing that happened; ``t`` is seconds since the transcript started."""

    t: float
    direction: Direction
    label: str
    raw: bytes = b""
    size: int = 0
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form: the raw bytes as hex, and the dissection of PDUs."""
        data: dict[str, Any] = {
            "t": round(self.t, 6),
            "direction": str(self.direction),
            "label": self.label,
        }
        if self.size:
            data["size"] = self.size
            data["hex"] = self.raw.hex()
            if self.cut:
                data["hex_truncated"] = True
            if self.direction is not Direction.EVENT:
                data["pdu"] = self._views[0]
        if self.note:
            data["note"] = self.note
        return data

    def render(self) -> str:
        """One readable line: time, arrow, what, and the main PS3.8 fields."""
        arrow = {Direction.SENT: ">>", Direction.RECEIVED: "<<", Direction.EVENT: "--"}
        shown = self.label
        if self.direction is not Direction.EVENT and self.raw:
            shown = self._views[1]
        text = f"{self.t:9.4f} {arrow[self.direction]} {shown}"
        if self.note:
            text += f" ({self.note})"
        return text

    @property
    def cut(self) -> bool:
        """Only a prefix of the bytes was kept."""
        return len(self.raw) < self.size

    @cached_property
    def _views(self) -> tuple[Any, str]:
        """The PS3.8 dissection as JSON-able data and as one line, made once (the scapy
        layers are not kept). Bytes kept only in part are not dissected."""
        from harness import pdu

        if self.cut:
            why = f"the first {len(self.raw)} of {self.size} bytes kept"
            return {"not_dissected": why}, f"{self.label} [{self.size} bytes, not dissected: {why}]"
        p_data = pdu.p_data_views(self.raw, LISTED_ELEMENTS)
        if p_data is not None:
            return [p_data[0]], p_data[1]
        try:
            packets = pdu.dissect(self.raw)
        except pdu.PDUDecodeError as exc:
            understood = [pdu.to_dict(p, listed=LISTED_ELEMENTS) for p in exc.partial]
            return {"error": str(exc), "understood": understood}, f"{self.label} [{exc}]"
        described = [pdu.to_dict(packet, listed=LISTED_ELEMENTS) for packet in packets]
        summary = " | ".join(pdu.summarize(packet) for packet in packets)
        return described, summary


class Transcript:
    """An append-only record of entries with a common monotonic origin, bounded as the
    module says: the first :data:`HEAD_ENTRIES`, the last :data:`TAIL_ENTRIES`, and the
    count of those between."""

    def __init__(self) -> None:
        self.origin = time.monotonic()
        self.omitted = 0
        """Entries dropped between the head and the tail."""
        self.omitted_bytes = 0
        self._head: list[Entry] = []
        self._tail: deque[Entry] = deque()
        self._raw_left = RAW_BUDGET
        self._omitted_at = 0.0

    @property
    def entries(self) -> list[Entry]:
        """The entries kept, in order; an ``entries-omitted`` event stands for the rest."""
        if not self.omitted:
            return [*self._head, *self._tail]
        note = f"{self.omitted} entries ({self.omitted_bytes} bytes) not kept"
        marker = Entry(self._omitted_at, Direction.EVENT, OMITTED, note=note)
        return [*self._head, marker, *self._tail]

    def add(self, direction: Direction, label: str, raw: bytes = b"", note: str = "") -> Entry:
        """Record an entry now."""
        keep = min(len(raw), max(min(RAW_KEEP, self._raw_left), HEADER_KEEP))
        self._raw_left = max(self._raw_left - keep, 0)
        entry = Entry(
            t=time.monotonic() - self.origin,
            direction=direction,
            label=label,
            raw=bytes(raw[:keep]),
            size=len(raw),
            note=note,
        )
        if len(self._head) < HEAD_ENTRIES:
            self._head.append(entry)
            return entry
        if len(self._tail) == TAIL_ENTRIES:
            dropped = self._tail.popleft()
            self.omitted += 1
            self.omitted_bytes += dropped.size
            self._omitted_at = dropped.t
        self._tail.append(entry)
        return entry

    def event(self, event: TransportEvent, note: str = "", raw: bytes = b"") -> Entry:
        """Record a transport event (with the partial bytes of a cut PDU, if any)."""
        return self.add(Direction.EVENT, str(event), raw, note)

    def to_json(self) -> list[dict[str, Any]]:
        """Every entry kept in JSON form."""
        return [entry.to_json() for entry in self.entries]

    def render(self) -> str:
        """The whole transcript, one line per entry kept."""
        return "\n".join(entry.render() for entry in self.entries)
