"""How many units TikTok may sell of one SKU, from Shopify's stock (pure).

TikTok's number for a linked SKU = Shopify's *available* units summed over the mapped
locations, minus the units of TikTok orders not yet mirrored into Shopify (TikTok has
already taken them from its own stock, Shopify has not yet claimed them), minus a safety
buffer, never below zero and never above TikTok's ceiling. Zero is a valid answer: the
SKU shows as sold out, it is not delisted.

A location with *negative* available (Shopify oversold there under a CONTINUE policy)
counts as negative: those orders will be shipped from somewhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

__all__ = ["SafetyBuffer", "tiktok_quantity"]

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class SafetyBuffer:
    """Units held back from TikTok: a fixed number, a percent of the available (rounded
    up), or both, in which case the larger is held back."""

    units: int = 0
    percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.units < 0:
            raise ValueError("a safety buffer cannot be negative")
        if not Decimal(0) <= self.percent <= HUNDRED:
            raise ValueError("a safety buffer percent must be between 0 and 100")

    def held_back(self, available: int) -> int:
        """Units held back out of ``available``."""
        share = (Decimal(max(available, 0)) * self.percent / HUNDRED).to_integral_value(ROUND_CEILING)
        return max(self.units, int(share))


def tiktok_quantity(
    available_by_location: Mapping[str, int],
    locations: Collection[str],
    unmirrored_units: int,
    buffer: SafetyBuffer | None = None,
    maximum: int | None = None,
) -> int:
    """TikTok's available quantity for one SKU (see the module docstring)."""
    if unmirrored_units < 0:
        raise ValueError("unmirrored units cannot be negative")
    available = sum(available_by_location.get(location, 0) for location in locations)
    held = (buffer or SafetyBuffer()).held_back(available)
    quantity = max(available - unmirrored_units - held, 0)
    return quantity if maximum is None else min(quantity, maximum)
