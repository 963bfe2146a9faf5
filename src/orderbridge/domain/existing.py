"""Shopify orders that already exist for a TikTok order: which one is ours, and how a link
adopts it.

One answer to "is there already a Shopify order for this TikTok order?", used by the
executor's search after a lost create and by the backfill that links what another connector
made. Candidates are whatever the Shopify adapter returns (anything with the attributes of
``FoundOrder``); the rules live here so both callers agree:

- our own mark on an order is the ``tiktok-<id>`` tag (``order_tag``) or the TikTok order id
  as the order's source identifier;
- several candidates are duplicates: the oldest is the one we keep (``oldest_first``);
- another connector's order counts when its source identifier, a tag or its name carries the
  TikTok order id (``mentions``);
- an adopted order's link starts held while TikTok has not cleared the order to ship, and
  released after (``adoption_state``): the engine then reconciles it like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from orderbridge.domain.link import LinkState
from orderbridge.domain.order import TikTokStatus

__all__ = ["ORDER_TAG_PREFIX", "FoundOrder", "adoption_state", "mentions", "oldest_first", "order_tag"]

ORDER_TAG_PREFIX = "tiktok-"

# TikTok statuses before the seller may ship: an adopted order must stay under our hold.
_BEFORE_SHIPPING = frozenset({TikTokStatus.UNPAID, TikTokStatus.ON_HOLD})


class FoundOrder(Protocol):
    """What a search of Shopify orders tells about each order it finds."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def created_at(self) -> datetime | None: ...

    @property
    def source_identifier(self) -> str | None: ...

    @property
    def tags(self) -> Sequence[str]: ...


F = TypeVar("F", bound=FoundOrder)


def order_tag(tiktok_order_id: str) -> str:
    """The tag OrderBridge puts on the Shopify order it makes for a TikTok order."""
    return f"{ORDER_TAG_PREFIX}{tiktok_order_id}"


def oldest_first(found: Iterable[F]) -> list[F]:
    """Distinct candidates (by id), oldest first: the first is the one kept, the rest are
    duplicates. An order with no creation time sorts last; ties break on the id."""
    distinct = {order.id: order for order in found}
    return sorted(distinct.values(), key=lambda o: (o.created_at is None, o.created_at, o.id))


def mentions(order: FoundOrder, tiktok_order_id: str) -> bool:
    """Whether another connector's order names this TikTok order (source, tag or name)."""
    return (
        tiktok_order_id in (order.source_identifier or "")
        or any(tiktok_order_id in tag for tag in order.tags)
        or tiktok_order_id in order.name
    )


def adoption_state(status: TikTokStatus) -> LinkState:
    """The state of a link that adopts an existing Shopify order of a TikTok order in
    ``status``: held until TikTok lets the seller ship, released after."""
    return LinkState.CREATED_HELD if status in _BEFORE_SHIPPING else LinkState.RELEASED
