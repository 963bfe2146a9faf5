"""Identifier generators that look like the real ones, deterministic per sandbox run."""

from __future__ import annotations

import itertools
import threading

__all__ = ["IdGenerator"]


class IdGenerator:
    """Numeric ids with a fixed prefix and width (TikTok: 18-19 digits; Shopify: 13 digits).

    ``next("order")`` gives ``"576" + zero-padded counter`` for the prefix registered for
    "order". Counters are per kind, so ids are stable for a given sequence of actions.
    """

    def __init__(self, prefixes: dict[str, tuple[str, int]], start: int = 1) -> None:
        self._prefixes = dict(prefixes)
        self._counters: dict[str, itertools.count[int]] = {}
        self._start = start
        self._lock = threading.Lock()

    def next(self, kind: str) -> str:
        prefix, width = self._prefixes.get(kind, ("9", 18))
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(self._start))
            n = next(counter)
        return prefix + str(n).zfill(width - len(prefix))

    def next_int(self, kind: str) -> int:
        return int(self.next(kind))
