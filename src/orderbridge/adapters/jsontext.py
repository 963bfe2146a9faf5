"""JSON text for the adapters' hot paths (HTTP bodies, the database's JSON columns): orjson.

Encoding and decoding JSON was ~9 % of the engine's CPU in the flash sale (each order's
snapshots are written and read back several times, every API answer is parsed); orjson
does the same work several times faster. The values are the standard library's: the same
types are accepted (``datetime`` and dataclasses are *not* turned into JSON here, they fail
as ``json.dumps`` fails), non-string keys become strings as ``json.dumps`` makes them, and
whatever orjson refuses or reads differently (integers beyond 64 bits, NaN in the text) goes
through the standard library, so nothing that worked before fails now. One difference: a
float NaN or infinity is written as ``null`` (``json.dumps`` writes ``NaN``/``Infinity``,
which is not JSON: PostgreSQL's JSONB refused it and httpx's encoder raised).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes", "loads"]

# Keys like json.dumps's; datetimes and dataclasses go to ``_refuse`` (json.dumps refuses them).
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_bytes(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact UTF-8 JSON: ``json.dumps(value, separators=(",", ":"), ensure_ascii=False,
    default=default)``."""
    try:
        return orjson.dumps(value, default=default or _refuse, option=_OPTIONS)
    except TypeError:
        # Beyond orjson (e.g. an integer over 64 bits), or truly unserialisable: the
        # standard library decides, as it did before.
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default).encode("utf-8")


def dumps(value: Any) -> str:
    """``dumps_bytes`` as text (for the database's JSON columns)."""
    return dumps_bytes(value).decode("utf-8")


# orjson reads an integer beyond 64 bits as a float; text with a number of 19 digits or more
# (a run of digits where a JSON value starts: after "[", ":", "," or at the start) is read
# by the standard library instead. Long digit strings inside quotes (ids, request ids) are
# not numbers and stay on the fast path; a quoted text that looks like one only costs speed.
_LONG_NUMBER = r"(?:^|[\[:,])\s*-?[0-9]{19}"
_LONG_DIGITS = re.compile(_LONG_NUMBER)
_LONG_DIGITS_BYTES = re.compile(_LONG_NUMBER.encode())


def loads(text: str | bytes | bytearray) -> Any:
    """Parse JSON text; a ``ValueError`` (``json.JSONDecodeError``) if it is not JSON."""
    raw: str | bytes = text if isinstance(text, str) else bytes(text)
    if (_LONG_DIGITS.search(raw) if isinstance(raw, str) else _LONG_DIGITS_BYTES.search(raw)):
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # What orjson refuses but Python reads (NaN, big integers) is read as before; what
        # neither reads raises the standard library's error.
        return json.loads(raw)
