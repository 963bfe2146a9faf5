"""The money plan's vocabulary: the lines, taxes and shipping lines a Shopify order is given,
the figures TikTok sent that had to be cleaned, and a total that disagrees with TikTok's.

How the plan is made from a TikTok order is ``money.py`` (``plan_money``), which re-exports
these types so callers keep importing them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from orderbridge.domain.order import UnitGroup

__all__ = [
    "FieldIssue",
    "MoneyPlan",
    "PlannedLine",
    "ShippingLine",
    "ShippingLineKind",
    "TaxLine",
    "TotalsMismatch",
]


class ShippingLineKind(StrEnum):
    """What a Shopify shipping line stands for."""

    SHIPPING = "shipping"  # the shipping fee after shipping discounts
    RETAIL_DELIVERY_FEE = "retail_delivery_fee"  # state retail delivery fee (CO, MN)
    HANDLING_FEE = "handling_fee"  # TikTok's handling fee
    ITEM_INSURANCE = "item_insurance"  # shipping insurance bought by the buyer


@dataclass(frozen=True, slots=True)
class TaxLine:
    """A Shopify tax line. ``rate`` only where TikTok gives one; TikTok is always liable."""

    title: str
    amount: Decimal
    rate: Decimal | None = None
    channel_liable: bool = True


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A Shopify line item: a group of TikTok units and its product tax."""

    group: UnitGroup
    tax_lines: tuple[TaxLine, ...]

    @property
    def subtotal(self) -> Decimal:
        """Unit price × quantity, before discounts."""
        return self.group.unit_price * self.group.quantity


@dataclass(frozen=True, slots=True)
class ShippingLine:
    """A Shopify shipping line (never negative) with its tax lines."""

    kind: ShippingLineKind
    title: str
    amount: Decimal
    tax_lines: tuple[TaxLine, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One TikTok figure that disagrees with what it should be, as a plain sentence."""

    field: str
    tiktok_value: Decimal
    expected_value: Decimal
    explanation: str

    @property
    def sentence(self) -> str:
        """``<field> is <value>, expected <value> (<why>)``."""
        return (
            f"{self.field} is {self.tiktok_value}, expected {self.expected_value} "
            f"({self.explanation})"
        )


@dataclass(frozen=True, slots=True)
class TotalsMismatch:
    """Why the Shopify total and TikTok's figures disagree (a warning, never an error).

    ``difference`` = ``planned_total`` − ``tiktok_total`` (0 when only fields disagree).
    """

    planned_total: Decimal
    tiktok_total: Decimal
    difference: Decimal
    issues: tuple[FieldIssue, ...]
    message: str

    @property
    def fields(self) -> tuple[str, ...]:
        """The TikTok fields named by the issues."""
        return tuple(issue.field for issue in self.issues)


@dataclass(frozen=True, slots=True)
class MoneyPlan:
    """Everything the Shopify order needs for its money, and how it compares with TikTok.

    ``discount`` is the one discount to apply (``seller_discount + platform_discount +
    free_order_discount``, capped at the lines' subtotal); the split fields are for custom
    attributes. ``shipping_lines[0]`` is the shipping line, extra fee lines follow.
    ``tiktok_total`` is ``total_amount`` less the excluded units; ``outstanding`` is what to
    record as paid (0 for $0 orders).
    """

    currency: str
    lines: tuple[PlannedLine, ...]
    discount: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    free_order_discount: Decimal
    shipping_lines: tuple[ShippingLine, ...]
    original_shipping_fee: Decimal
    shipping_seller_discount: Decimal
    shipping_platform_discount: Decimal
    shipping_cofunded_discount: Decimal
    product_tax_adjustment: Decimal
    excluded_line_ids: tuple[str, ...]
    expected_total: Decimal
    tiktok_total: Decimal
    outstanding: Decimal
    mismatch: TotalsMismatch | None

    @property
    def lines_subtotal(self) -> Decimal:
        """Σ unit price × quantity."""
        return sum((line.subtotal for line in self.lines), Decimal("0.00"))

    @property
    def tax_total(self) -> Decimal:
        """Every tax line of the plan (lines and shipping lines)."""
        taxes = [t for line in self.lines for t in line.tax_lines]
        taxes += [t for line in self.shipping_lines for t in line.tax_lines]
        return sum((t.amount for t in taxes), Decimal("0.00"))

    @property
    def platform_funded(self) -> Decimal:
        """What TikTok paid for: platform product and shipping discounts."""
        return self.platform_discount + self.shipping_platform_discount

    @property
    def is_zero(self) -> bool:
        """A $0 order (sample, replacement, fully discounted): no payment to record."""
        return self.outstanding == 0
