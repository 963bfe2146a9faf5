"""Bounds on what a request may carry, checked before anything parses it.

``json_too_deep(body, limit)``: Python's ``json`` parser recurses once per nesting level,
so a small body nested 100,000 levels deep raises ``RecursionError`` instead of a
``ValueError``. This scan counts brackets outside strings without recursing, in one pass
(C-speed: a 1 MiB body takes milliseconds).
"""

from __future__ import annotations

import re
from array import array
from itertools import accumulate
from typing import Final

__all__ = ["json_too_deep"]

# A JSON string (escapes included): its brackets do not nest anything.
_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Openers become +1 and closers -1 (0xFF as a signed byte); everything else is dropped.
_STEPS: Final = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(body: bytes, limit: int) -> bool:
    """True when the JSON text ``body`` nests arrays/objects more than ``limit`` levels."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot be deeper than the number of openers (the common case: no scan)
    steps = array("b", _STRING.sub(b'""', body).translate(_STEPS, _NOT_BRACKETS))
    return max(accumulate(steps), default=0) > limit
