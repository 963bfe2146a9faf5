"""The base of every TikTok payload model: tolerant, typed, and keeping the raw dict.

TikTok adds fields without notice and may send ``""``, ``null`` or a missing key for the
same empty value, so: unknown fields are allowed (``extra="allow"``), every field has a
default, and the annotated types below absorb the empty spellings. Times arrive as Unix
seconds and become aware UTC datetimes; amounts arrive as strings and become Decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    PrivateAttr,
    model_validator,
)

from orderbridge.clock import from_unix

__all__ = ["Flag", "Money", "Text", "TikTokModel", "UnixTime"]


class TikTokModel(BaseModel):
    """A TikTok JSON object; ``raw`` is the dict it was read from."""

    model_config = ConfigDict(extra="allow")

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        if isinstance(data, Mapping):
            model._raw = dict(data)
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """The vendor's JSON object, unchanged."""
        return self._raw


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # ids sometimes arrive as numbers
    return value


def _unix(value: Any) -> Any:
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, bool):
        raise ValueError("a time cannot be a boolean")
    if isinstance(value, int | float):
        return from_unix(value)
    if isinstance(value, str) and value.isdigit():
        return from_unix(int(value))
    return value  # let pydantic try an ISO string


def _money(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    if isinstance(value, int | float | str):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    return value


def _flag(value: Any) -> Any:
    return False if value is None or value == "" else value


Text = Annotated[str, BeforeValidator(_text)]
UnixTime = Annotated[datetime | None, BeforeValidator(_unix)]
Money = Annotated[Decimal | None, BeforeValidator(_money)]
Flag = Annotated[bool, BeforeValidator(_flag)]


def none_as_list(value: Any) -> Any:
    """``null`` lists are empty lists."""
    return [] if value is None else value
