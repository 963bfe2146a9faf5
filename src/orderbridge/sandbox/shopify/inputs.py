"""Reading GraphQL input values (custom scalars arrive as raw strings)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError

from orderbridge.clock import as_utc

__all__ = ["amount_of", "bag_amount", "parse_datetime", "user_error"]


def _invalid(what: str, value: Any) -> GraphQLError:
    return GraphQLError(f"Invalid {what}: {value!r}", extensions={"code": "argumentLiteralsIncompatible"})


def amount_of(value: Any) -> Decimal:
    """A Decimal/Money scalar value (string or number) as a Decimal."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _invalid("Decimal", value) from exc
    if not amount.is_finite():
        raise _invalid("Decimal", value)
    return amount


def bag_amount(bag: dict[str, Any] | None) -> Decimal | None:
    """The shop-money amount of a MoneyBagInput."""
    if not bag:
        return None
    return amount_of(bag["shopMoney"]["amount"])


def parse_datetime(value: Any) -> datetime:
    """An ISO-8601 DateTime scalar value as an aware UTC datetime."""
    if not isinstance(value, str):
        raise _invalid("DateTime", value)
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise _invalid("DateTime", value) from exc


def user_error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    """One entry of a payload's userErrors."""
    return {"field": field, "message": message, "code": code}
