"""Typed errors shared by the codec, the framing and the front ends.

A decode problem is always reported with the byte offset where it was found
(offsets count from the first byte of the input, 0-based), never as a bare
``struct.error`` or ``IndexError``.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class DecodeError(HarnessError, ValueError):
    """Bytes that do not form what PS3.8 section 9.3 says they should.

    ``offset`` is the 0-based byte offset, from the start of the input, of the
    field (or the byte) where the problem was found.
    """

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"at byte offset {offset}: {message}")
        self.offset = offset
        self.reason = message
