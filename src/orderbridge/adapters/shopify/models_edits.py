"""Typed results of Shopify's order edits and refunds (see ``models`` for the conventions)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field

from orderbridge.adapters.shopify.models import IdRef, MoneyBag, RawResult, ShopifyModel, _nodes

__all__ = [
    "CalculatedLineItem",
    "CalculatedOrder",
    "EditCommitResult",
    "RefundResult",
    "RefundState",
    "RefundSummary",
    "ShippingRefund",
    "SuggestedRefund",
    "TransactionSummary",
]


class _Allocation(ShopifyModel):
    allocated_amount_set: MoneyBag


class CalculatedLineItem(ShopifyModel):
    """A line of an order being edited."""

    id: str
    quantity: int
    editable_quantity: int | None = None
    sku: str | None = None
    title: str | None = None
    variant: IdRef | None = None
    original_unit_price_set: MoneyBag | None = None
    discounted_unit_price_set: MoneyBag | None = None
    calculated_discount_allocations: list[_Allocation] = Field(default_factory=list)

    @property
    def unit_price(self) -> Decimal | None:
        """The unit price before discounts (a variant's, or a custom line's own)."""
        bag = self.original_unit_price_set
        return bag.shop_money.amount if bag is not None else None

    @property
    def allocated(self) -> Decimal:
        """The order-level discounts allocated to the line (all its units)."""
        return sum((a.allocated_amount_set.shop_money.amount for a in self.calculated_discount_allocations),
                   Decimal("0"))

    @property
    def net_unit_price(self) -> Decimal | None:
        """The unit price less its share of the order-level discounts (what was paid)."""
        price = self.unit_price
        if price is None or self.quantity <= 0:
            return price
        return price - self.allocated / self.quantity


class CalculatedOrder(RawResult):
    """An order edit in progress (``orderEditBegin``, and each staging mutation's payload)."""

    id: str
    line_items: Annotated[list[CalculatedLineItem], BeforeValidator(_nodes)] = Field(default_factory=list)
    total_price_set: MoneyBag | None = None

    @property
    def total(self) -> Decimal | None:
        """The order's total with the staged changes (taxes and discounts included)."""
        bag = self.total_price_set
        return bag.shop_money.amount if bag is not None else None


class EditCommitResult(RawResult):
    """``orderEditCommit``: the edited order."""

    order: IdRef | None = None


class RefundResult(RawResult):
    """``refundCreate``: the refund."""

    id: str
    created_at: datetime | None = None
    total_refunded_set: MoneyBag | None = None


class RefundSummary(ShopifyModel):
    """One of an order's refunds, as ``list_refunds`` reads them."""

    id: str
    note: str | None = None
    created_at: datetime | None = None


class TransactionSummary(ShopifyModel):
    """One of an order's transactions (sale, capture, refund...)."""

    id: str
    kind: str
    status: str
    gateway: str | None = None
    amount_set: MoneyBag | None = None

    @property
    def amount(self) -> Decimal:
        return self.amount_set.shop_money.amount if self.amount_set is not None else Decimal("0")


def _shop(bag: MoneyBag | None) -> Decimal:
    return bag.shop_money.amount if bag is not None else Decimal("0")


class ShippingRefund(ShopifyModel):
    amount_set: MoneyBag | None = None
    maximum_refundable_set: MoneyBag | None = None
    tax_set: MoneyBag | None = None


class SuggestedRefund(ShopifyModel):
    """Shopify's split of a refund of some lines and shipping (``Order.suggestedRefund``)."""

    amount_set: MoneyBag | None = None
    subtotal_set: MoneyBag | None = None
    total_tax_set: MoneyBag | None = None
    maximum_refundable_set: MoneyBag | None = None
    shipping: ShippingRefund | None = None

    @property
    def amount(self) -> Decimal:
        return _shop(self.amount_set)

    @property
    def subtotal(self) -> Decimal:
        return _shop(self.subtotal_set)

    @property
    def tax(self) -> Decimal:
        return _shop(self.total_tax_set)

    @property
    def maximum_refundable(self) -> Decimal:
        return _shop(self.maximum_refundable_set)

    @property
    def shipping_amount(self) -> Decimal:
        return _shop(self.shipping.amount_set) if self.shipping else Decimal("0")

    @property
    def shipping_refundable(self) -> Decimal:
        return _shop(self.shipping.maximum_refundable_set) if self.shipping else Decimal("0")

    @property
    def shipping_tax(self) -> Decimal:
        return _shop(self.shipping.tax_set) if self.shipping else Decimal("0")


class RefundState(ShopifyModel):
    """An order's refunds and transactions, as ``refund_state`` reads them."""

    refunds: list[RefundSummary] = Field(default_factory=list)
    transactions: list[TransactionSummary] = Field(default_factory=list)

    def refundable(self) -> Decimal:
        """Money received (successful sales and captures) less money refunded."""
        ok = [t for t in self.transactions if t.status.upper() == "SUCCESS"]
        received = sum((t.amount for t in ok if t.kind.upper() in ("SALE", "CAPTURE")), Decimal("0"))
        refunded = sum((t.amount for t in ok if t.kind.upper() == "REFUND"), Decimal("0"))
        return received - refunded

    def refund_parent(self) -> TransactionSummary | None:
        """The successful sale or capture a refund transaction refers to (the first one)."""
        return next((t for t in self.transactions if t.status.upper() == "SUCCESS"
                     and t.kind.upper() in ("SALE", "CAPTURE")), None)
