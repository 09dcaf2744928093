"""Caches shared by every request thread: posting arrays, vocabularies, results, pages."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class BoundedCache:
    """A thread-safe cache bounded by the bytes its values hold (as their owner estimates).

    Reads take no lock: a long query looks up hundreds of posting lists, and with eight
    request threads a locked LRU was the most contended line under load. Eviction is
    "second chance" instead of strict LRU: an entry read since it was last considered is
    kept once more.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: dict[Hashable, tuple[object, int]] = {}  # in insertion order
        self._read: set[Hashable] = set()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        found = self._items.get(key)  # atomic under the GIL, as is set.add
        if found is None:
            return None
        self._read.add(key)
        return found[0]

    def get_or_build(self, key: Hashable, build: Callable[[], T], size: Callable[[T], int]) -> T:
        """The value kept for ``key``, or ``build()``'s, kept at ``size(value)`` bytes.
        What is built from an immutable segment is cached this way, keyed by the segment;
        two threads may build the same value at once, and the first one kept wins."""
        found = self.get(key)
        if found is None:
            found = build()
            self.put(key, found, size(found))
        return found

    def put(self, key: Hashable, value: Any, nbytes: int) -> None:
        with self._lock:
            if key in self._items:
                return
            self._size += nbytes
            chances = len(self._items)  # at most one each: readers may mark entries meanwhile
            while self._size > self.max_bytes and self._items:
                oldest = next(iter(self._items))
                entry = self._items.pop(oldest)
                chances -= 1
                if chances > 0 and oldest in self._read:
                    self._read.discard(oldest)
                    self._items[oldest] = entry  # to the back of the queue
                else:
                    self._read.discard(oldest)
                    self._size -= entry[1]
            self._items[key] = (value, nbytes)
