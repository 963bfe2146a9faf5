"""The money reconciliation of one order, to the cent: what the buyer paid on TikTok, the
Shopify order's total and the payment recorded on it.

OrderBridge plans the Shopify order so that its total equals what the buyer paid
(``money.py``) and records that payment once (one transaction for the plan total), so on a
healthy order the three amounts are equal. The dashboard shows each gap; an amount not
known yet (no Shopify order, a snapshot that is missing) makes the check undecided, never
"balanced".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["Reconciliation", "to_cents"]


def to_cents(amount: Decimal) -> int:
    """An amount in cents, rounded half to even (the amounts carry at most two decimals)."""
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The three amounts of an order in cents (None: not known)."""

    currency: str
    tiktok_total: int | None
    shopify_total: int | None
    recorded: int | None

    @property
    def shopify_gap(self) -> int | None:
        """Shopify total minus what the buyer paid (0 on a healthy order)."""
        if self.tiktok_total is None or self.shopify_total is None:
            return None
        return self.shopify_total - self.tiktok_total

    @property
    def payment_gap(self) -> int | None:
        """Recorded payment minus what the buyer paid (0 once the payment is recorded)."""
        if self.tiktok_total is None or self.recorded is None:
            return None
        return self.recorded - self.tiktok_total

    @property
    def balanced(self) -> bool | None:
        """True when all three agree to the cent, False when any differs, None if unknown."""
        gaps = (self.shopify_gap, self.payment_gap)
        if any(gap is None for gap in gaps):
            return None
        return gaps == (0, 0)
