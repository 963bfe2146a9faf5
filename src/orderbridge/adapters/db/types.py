"""Column types and the vocabularies stored by the database adapter.

``UTCDateTime`` is the only datetime type in the schema: SQLite has no time zone in its
storage, PostgreSQL has ``timestamptz``; both come back as aware UTC datetimes, and naive
datetimes are refused on the way in (a naive value is a bug: we cannot know its zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "ConnectionStatus",
    "EventKind",
    "ExceptionSeverity",
    "ExceptionStatus",
    "IdType",
    "InboxSource",
    "JSONType",
    "SkuLinkSource",
    "UTCDateTime",
]


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored as UTC, always returned as an aware UTC ``datetime``.

    Naive inputs raise ``ValueError``. On SQLite the value is stored naive (UTC) in
    SQLAlchemy's fixed-width text format, so text comparison is time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere. ``none_as_null`` so that
# Python ``None`` is SQL NULL, never the JSON literal ``null``.
JSONType: TypeEngine[Any] = JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)

# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
IdType: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")


class EventKind(StrEnum):
    """What a timeline entry records."""

    EVENT = "event"  # something happened outside (webhook, poll result, operator action)
    DECISION = "decision"  # what decide() concluded, with its reasons
    ACTION = "action"  # something we did (or tried to do) to a remote system
    API_CALL = "api_call"  # one attempt against a remote API, with its request id
    NOTE = "note"  # free text for people ("shipping, no tracking yet")
    WARNING = "warning"  # something odd that needs no action by itself


class ExceptionSeverity(StrEnum):
    """How bad an order exception is."""

    ERROR = "error"  # blocks the order until fixed
    WARNING = "warning"  # shown to the operator; the order proceeds


class ExceptionStatus(StrEnum):
    """Where an order exception stands."""

    OPEN = "open"  # the cause is still there
    RESOLVED = "resolved"  # the cause went away (fixed by someone or by itself)
    DISMISSED = "dismissed"  # an operator chose to ignore it


class InboxSource(StrEnum):
    """Where an inbox entry came from (the column accepts other strings too)."""

    TIKTOK = "tiktok"  # a TikTok Shop webhook
    SHOPIFY = "shopify"  # a Shopify webhook
    POLL = "poll"  # a page of a poll of a remote API
    THREE_PL = "3pl"  # a 3PL webhook (Amazon MCF, ShipBob)
    OPERATOR = "operator"  # an operator's request from the dashboard or CLI


class SkuLinkSource(StrEnum):
    """How a TikTok SKU got linked to a Shopify variant."""

    EXPLICIT = "explicit"  # the operator linked it by hand
    SKU = "sku"  # equal seller SKU and variant SKU
    IMPORT = "import"  # a product import made both sides


class ConnectionStatus(StrEnum):
    """Whether a connection is in service."""

    ACTIVE = "active"  # orders flow
    PAUSED = "paused"  # the operator paused it; nothing is sent
    AUTH_EXPIRED = "auth_expired"  # a token is dead; re-authorise
    DISCONNECTED = "disconnected"  # the seller removed it; rows kept for history
