"""The stock push's decisions (pure): what TikTok should show per SKU and warehouse, when to
push, what a per-SKU error means, and where the two sides disagree.

``domain/stock.py`` holds the quantity formula for one warehouse; this module applies it to
the warehouse mapping (TikTok warehouse <- Shopify locations), estimates the units of TikTok
orders not yet mirrored, spaces pushes out (debounce) and classifies TikTok's answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from orderbridge.domain.stock import SafetyBuffer, tiktok_quantity

__all__ = [
    "MAX_TIKTOK_STOCK",
    "PROMOTION_LOCKED_CODE",
    "SHARED_INVENTORY_CODES",
    "TRANSIENT_CODES",
    "SkuError",
    "SkuErrorKind",
    "StockDiff",
    "WarehouseMap",
    "classify_sku_error",
    "debounced_due",
    "diff_stock",
    "plan_sku",
    "readback_needs_push",
    "retry_delay",
    "unmirrored_units",
]

# Update Inventory refuses quantities outside [0, 999999] (TikTok's 12019024 message:
# "The SKU stock must be between [0,999999]"). Zero is allowed: the SKU shows as sold out.
MAX_TIKTOK_STOCK = 999_999
# Update Inventory, per-SKU error: the SKU is in a promotion (flash deal, live campaign)
# that locks its stock (TikTok Product API error 12052393).
PROMOTION_LOCKED_CODE = 12052393
# Per-SKU error for a SKU whose stock TikTok shares with other listings (combined listings,
# a global product's shared stock): its stock is set elsewhere. Unconfirmed number: TikTok's
# public references name the case but we found no code for it; the sandbox uses this one.
SHARED_INVENTORY_CODES = frozenset({12052394})
# Codes worth another try after a pause: over 50 requests/s, internal error, gateway timeout.
TRANSIENT_CODES = frozenset({36009002, 36009003, 36009007})

MAX_RETRY_DELAY = timedelta(minutes=15)
FIRST_RETRY_DELAY = timedelta(seconds=5)


class SkuErrorKind(StrEnum):
    """What a per-SKU error of Update Inventory means for the push."""

    RETRY = "retry"  # a passing fault: push again after a pause (a few times)
    PROMOTION_LOCKED = "promotion_locked"  # visible exception; pushed again on the next change
    SHARED_INVENTORY = "shared_inventory"  # visible exception; TikTok's stock is set elsewhere
    REJECTED = "rejected"  # any other refusal: visible exception, not retried until a change


@dataclass(frozen=True, slots=True)
class SkuError:
    """One per-SKU error TikTok reported (inside a ``code: 0`` response or as the call's code)."""

    sku_id: str
    code: int
    message: str
    warehouse_id: str = ""


def classify_sku_error(code: int) -> SkuErrorKind:
    """The meaning of a per-SKU error code."""
    if code in TRANSIENT_CODES:
        return SkuErrorKind.RETRY
    if code == PROMOTION_LOCKED_CODE:
        return SkuErrorKind.PROMOTION_LOCKED
    if code in SHARED_INVENTORY_CODES:
        return SkuErrorKind.SHARED_INVENTORY
    return SkuErrorKind.REJECTED


@dataclass(frozen=True, slots=True)
class WarehouseMap:
    """TikTok warehouse id -> the Shopify locations whose available units it sells.

    Empty: the SKU's one default warehouse (TikTok lets the warehouse id be left out then)
    sells the units of every Shopify location.
    """

    warehouses: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, Sequence[str]]) -> WarehouseMap:
        return cls(tuple(sorted((w, tuple(locs)) for w, locs in mapping.items())))

    def targets(self, all_locations: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(warehouse id, locations) to compute; "" is the default warehouse."""
        return self.warehouses or (("", tuple(all_locations)),)


def unmirrored_units(known_unmirrored: int, tiktok_committed: int | None, mirrored_pending: int) -> int:
    """Units TikTok has sold that Shopify has not yet claimed.

    ``known_unmirrored``: units of the SKU on TikTok orders the engine knows and has not yet
    created in Shopify. ``tiktok_committed`` (TikTok's Inventory Search, when read): units of
    live, unshipped TikTok orders, including those the engine has not even heard of yet;
    ``mirrored_pending``: the units among them already created in Shopify. The larger
    estimate is taken: under-selling a moment is better than overselling.
    """
    from_tiktok = 0 if tiktok_committed is None else tiktok_committed - mirrored_pending
    return max(known_unmirrored, from_tiktok, 0)


def plan_sku(
    available_by_location: Mapping[str, int],
    mapping: WarehouseMap,
    unmirrored: int,
    buffer: SafetyBuffer | None = None,
    maximum: int = MAX_TIKTOK_STOCK,
) -> tuple[tuple[str, int], ...]:
    """(warehouse id, quantity) for every mapped warehouse of one SKU.

    The units of unmirrored orders are taken off every warehouse: the engine does not know
    which warehouse an order it has not read will ship from, and taking them off each one
    can only under-sell.
    """
    return tuple(
        (warehouse, tiktok_quantity(available_by_location, locations, unmirrored, buffer, maximum))
        for warehouse, locations in mapping.targets(sorted(available_by_location))
    )


def debounced_due(now: datetime, current_due: datetime | None, window: timedelta,
                  last_pushed: datetime | None = None) -> datetime:
    """When a SKU whose stock just changed is pushed: at once if its last push is at least
    ``window`` old (a store sale reaches TikTok without waiting), else ``window`` after that
    push, so a burst of changes costs at most one push per window; never later than a due
    time already set."""
    due = now if last_pushed is None or last_pushed + window <= now else last_pushed + window
    return due if current_due is None or current_due > due else current_due


def retry_delay(attempt: int) -> timedelta:
    """Pause before the ``attempt``-th retry (1-based): doubling from 5 s, at most 15 min."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    delay: timedelta = FIRST_RETRY_DELAY * (2 ** min(attempt - 1, 20))
    return min(delay, MAX_RETRY_DELAY)


def readback_needs_push(pushed: int, seen: int) -> bool:
    """After a push, TikTok's number read back: showing *more* than pushed means something
    else raised it (another app, a person), so push again; less is TikTok's own sales."""
    return seen > pushed


@dataclass(frozen=True, slots=True)
class StockDiff:
    """One SKU and warehouse where TikTok's number is not what Shopify's stock gives."""

    sku_id: str
    warehouse_id: str
    expected: int
    tiktok: int | None  # None: TikTok lists no stock for that warehouse

    @property
    def delta(self) -> int:
        return (self.tiktok or 0) - self.expected


def diff_stock(
    expected: Mapping[str, Sequence[tuple[str, int]]],
    tiktok: Mapping[str, Mapping[str, int]],
) -> list[StockDiff]:
    """Every (SKU, warehouse) whose TikTok number differs from the expected one.

    ``expected``: per SKU, (warehouse id, quantity) as ``plan_sku`` gives it ("" = the
    SKU's only warehouse, whichever it is); ``tiktok``: per SKU, warehouse id -> available.
    """
    found: list[StockDiff] = []
    for sku_id in sorted(expected):
        seen = tiktok.get(sku_id, {})
        for warehouse, quantity in expected[sku_id]:
            actual = seen.get(warehouse) if warehouse else (sum(seen.values()) if seen else None)
            if actual != quantity:
                found.append(StockDiff(sku_id, warehouse, quantity, actual))
    return found
