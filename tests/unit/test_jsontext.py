"""``adapters.jsontext``: orjson's speed, the standard library's values and errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderbridge.adapters import jsontext


class Colour(StrEnum):
    RED = "red"  # a vocabulary value


class Level(IntEnum):
    HIGH = 2  # a numeric vocabulary value


@dataclass
class Point:
    x: int


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_the_same_text_and_values_as_the_standard_library(value: Any) -> None:
    text = jsontext.dumps_bytes(value)
    assert json.loads(text) == json.loads(_compact(value))
    assert jsontext.loads(text) == json.loads(_compact(value))
    assert jsontext.loads(text.decode()) == jsontext.loads(text)


def test_keys_and_vocabularies_as_json_dumps_writes_them() -> None:
    for value in ({1: "a", 2.5: Colour.RED, None: Level.HIGH, "s": (1, 2)}, {True: "yes", False: "no"}):
        assert json.loads(jsontext.dumps(value)) == json.loads(json.dumps(value))
    assert jsontext.dumps_bytes({"t": "é"}) == _compact({"t": "é"})


@pytest.mark.parametrize("value", [datetime(2026, 1, 2, tzinfo=UTC), Decimal("1.10"), {1, 2}, Point(1), object()])
def test_what_json_dumps_refuses_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        jsontext.dumps({"v": value})


def test_a_default_turns_the_rest_into_json_like_json_dumps() -> None:
    value = {"at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "amount": Decimal("1.10")}
    assert jsontext.loads(jsontext.dumps_bytes(value, default=str)) == json.loads(json.dumps(value, default=str))


def test_integers_beyond_64_bits_stay_integers() -> None:
    big = 2**70
    assert jsontext.dumps_bytes([big, -big]) == _compact([big, -big])
    assert jsontext.loads(f'{{"a": {big}, "b": -{big}}}') == {"a": big, "b": -big}
    assert jsontext.loads(b"[18446744073709551616]") == [18446744073709551616]
    assert jsontext.loads(f" {big}") == big
    assert jsontext.loads(f'{{"a": [1,\n  {big}], "id": "{big}"}}') == {"a": [1, big], "id": str(big)}


def test_non_finite_floats_are_written_as_null() -> None:
    # The one difference from json.dumps, which writes NaN/Infinity: strict JSON has no
    # spelling for them (PostgreSQL's JSONB refuses them, so did httpx's encoder).
    assert jsontext.dumps_bytes([float("nan"), float("inf"), -float("inf")]) == b"[null,null,null]"


def test_nan_in_the_text_reads_as_python_reads_it() -> None:
    value = jsontext.loads(b"[NaN, 1]")
    assert value[0] != value[0]  # NaN
    assert value[1] == 1


@pytest.mark.parametrize("text", ["{bad", "", b"\xff", "[1,]"])
def test_text_that_is_not_json_fails_as_json_loads_fails(text: str | bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        jsontext.loads(text)
