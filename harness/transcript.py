"""The transcript of one association: every byte both ways, and the transport events.

Entries are cheap to record (a timestamp, a direction, a label and the raw bytes); the
dissection into PS3.8 fields happens only when a report or a failure message is made,
so a run that sends 16 MiB of P-DATA does not pay for scapy on the data path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

#: Raw bytes kept per entry: enough for every association PDU and a DIMSE command.
RAW_KEEP = 64 * 1024


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
            if len(self.raw) < self.size:
                data["hex_truncated"] = True
            if self.direction is not Direction.EVENT:
                data["pdu"] = self._described()
        if self.note:
            data["note"] = self.note
        return data

    def render(self) -> str:
        """One readable line: time, arrow, what, and the main PS3.8 fields."""
        arrow = {Direction.SENT: ">>", Direction.RECEIVED: "<<", Direction.EVENT: "--"}
        shown = self.label
        if self.direction is not Direction.EVENT and self.raw:
            shown = self._summarized()
        text = f"{self.t:9.4f} {arrow[self.direction]} {shown}"
        if self.note:
            text += f" ({self.note})"
        return text

    @cached_property
    def _dissection(self) -> tuple[list[Any], Exception | None]:
        """The PDUs in ``raw`` and the decode error after them, dissected once."""
        from harness import pdu

        try:
            return pdu.dissect(self.raw), None
        except pdu.PDUDecodeError as exc:
            return exc.partial, exc

    def _described(self) -> Any:
        """The PS3.8 dissection as JSON-able data, or the decode error."""
        from harness import pdu

        packets, error = self._dissection
        if error is None:
            return [pdu.to_dict(packet) for packet in packets]
        return {"error": str(error), "understood": [pdu.to_dict(p) for p in packets]}

    def _summarized(self) -> str:
        """One line: the PDUs' fixed fields and item names, or the decode error."""
        from harness import pdu

        packets, error = self._dissection
        if error is not None:
            return f"{self.label} [{error}]"
        return " | ".join(pdu.summarize(packet) for packet in packets)


@dataclass
class Transcript:
    """An append-only list of entries with a common monotonic origin."""

    origin: float = field(default_factory=time.monotonic)
    entries: list[Entry] = field(default_factory=list)

    def add(self, direction: Direction, label: str, raw: bytes = b"", note: str = "") -> Entry:
        """Record an entry now."""
        entry = Entry(
            t=time.monotonic() - self.origin,
            direction=direction,
            label=label,
            raw=bytes(raw[:RAW_KEEP]),
            size=len(raw),
            note=note,
        )
        self.entries.append(entry)
        return entry

    def event(self, event: TransportEvent, note: str = "", raw: bytes = b"") -> Entry:
        """Record a transport event (with the partial bytes of a cut PDU, if any)."""
        return self.add(Direction.EVENT, str(event), raw, note)

    def to_json(self) -> list[dict[str, Any]]:
        """Every entry in JSON form."""
        return [entry.to_json() for entry in self.entries]

    def render(self) -> str:
        """The whole transcript, one line per entry."""
        return "\n".join(entry.render() for entry in self.entries)
