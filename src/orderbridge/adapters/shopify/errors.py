"""Shopify ``userErrors`` as a typed error.

A mutation that Shopify refuses on business grounds answers HTTP 200 with an empty result
and a ``userErrors`` list (``orderCancelUserErrors`` for ``orderCancel``). That is a
``Rejected``: repeating the same request fails the same way. Some codes mean "what you
asked for is already so" (a hold with our handle already exists): ``already_done`` tells
the engine it may treat the error as success.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orderbridge.errors import Rejected

__all__ = ["UserErrorItem", "UserErrors", "parse_user_errors"]


@dataclass(frozen=True, slots=True)
class UserErrorItem:
    """One entry of a ``userErrors`` list."""

    code: str | None  # None for the plain ``UserError`` type, which has no code
    field: tuple[str, ...] | None
    message: str


class UserErrors(Rejected):
    """Shopify refused a mutation with one or more ``userErrors``."""

    def __init__(
        self,
        errors: Sequence[UserErrorItem],
        *,
        already_done_codes: Iterable[str] = (),
        already_done_messages: Iterable[str] = (),
        **kw: Any,
    ) -> None:
        self.errors: tuple[UserErrorItem, ...] = tuple(errors)
        codes = frozenset(already_done_codes)
        fragments = tuple(m.lower() for m in already_done_messages)
        # "Already done" only when *every* error says so: one real error among them means
        # the request did not get what it wanted.
        self.already_done: bool = bool(self.errors) and all(
            (e.code is not None and e.code in codes)
            or any(f in e.message.lower() for f in fragments)
            for e in self.errors
        )
        text = "; ".join(_describe(e) for e in self.errors) or "userErrors"
        kw.setdefault("code", next((e.code for e in self.errors if e.code), None))
        kw.setdefault("details", [_as_dict(e) for e in self.errors])
        super().__init__(text, **kw)

    @property
    def codes(self) -> tuple[str, ...]:
        """The error codes present (errors without a code are skipped)."""
        return tuple(e.code for e in self.errors if e.code)


def _describe(error: UserErrorItem) -> str:
    where = ".".join(error.field) if error.field else ""
    prefix = f"[{error.code}] " if error.code else ""
    return f"{prefix}{where + ': ' if where else ''}{error.message}"


def _as_dict(error: UserErrorItem) -> dict[str, Any]:
    return {"code": error.code, "field": list(error.field) if error.field else None, "message": error.message}


def parse_user_errors(raw: Any) -> list[UserErrorItem]:
    """Turn the JSON list Shopify returns into ``UserErrorItem``s (tolerating odd shapes)."""
    if not isinstance(raw, list):
        return []
    items: list[UserErrorItem] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        field = entry.get("field")
        path = tuple(str(p) for p in field) if isinstance(field, list) else None
        code = entry.get("code")
        items.append(
            UserErrorItem(
                code=str(code) if code is not None else None,
                field=path,
                message=str(entry.get("message") or ""),
            )
        )
    return items
