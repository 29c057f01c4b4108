"""Small bounded memo tables for pure byte work that repeats (building and reading PDUs).

A fuzz run, a suite and the built-in reference peer build and read the same few PDUs over
and over: the profile's A-ASSOCIATE-RQ, the SUT's A-ASSOCIATE-AC, C-ECHO, A-RELEASE-RQ/RP.
A :class:`Memo` keeps the result of a pure function of hashable inputs for the most
recently used keys. It is bounded twice, by entries and by the size of what it keeps
(results above ``max_size`` bytes are computed, never kept; a key is no larger than its
result, or the caller keeps large keys out), so a lying or huge PDU costs no memory
beyond one call, and it is safe to share between threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    """The last ``entries`` results of a pure computation, each of at most ``max_size``
    bytes as ``size`` measures it (without ``size``: the caller bounds what it asks for);
    what a caller gets back it must not modify."""

    def __init__(
        self, entries: int, max_size: int = 0, size: Callable[[T], int] | None = None
    ) -> None:
        self.entries = entries
        self.max_size = max_size
        self._size = size
        self._kept: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The kept result for ``key``, else ``compute()`` (kept if small enough; never
        when ``key`` holds a value that cannot be hashed)."""
        try:
            hash(key)
        except TypeError:
            return compute()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept
        value = compute()
        if self._size is None or self._size(value) <= self.max_size:
            with self._lock:
                self._kept[key] = value
                if len(self._kept) > self.entries:
                    self._kept.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._kept)
