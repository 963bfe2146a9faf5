"""The Shopify order's money, planned from the TikTok order so its total is what the buyer paid.

Shopify's total is ``Σ unit_price × quantity − discount + Σ shipping lines + Σ tax lines``.
The plan fills it in from TikTok's ``payment`` (see tiktok-shop.md §2):

- lines: one per ``UnitGroup`` at the price before discounts (``original_price``);
- one discount = seller + platform product discount (Shopify takes one code), the split kept;
- the shipping line at ``shipping_fee`` (after shipping discounts), the split kept;
- tax lines, all channel-liable (TikTok collects and remits US sales tax): product tax per
  line from ``item_tax``, moved to add up to ``product_tax`` by largest remainder over
  cents; shipping tax on the shipping line;
- retail delivery, handling and insurance (+ its tax) as their own shipping lines.

Decisions where TikTok's documentation is silent:

- ``total_amount`` is taken to include handling and insurance (+ its tax) as well as the
  documented ``sub_total + shipping_fee + taxes + retail_delivery_fee``;
- ``shipping_fee`` may or may not net out ``shipping_fee_cofunded_discount``: both agree;
- ``tax`` may or may not include ``item_insurance_tax``: both agree;
- units in ``exclude_line_ids`` (cancelled) are assumed still counted in ``payment``: their
  price, discounts and tax are taken off TikTok's figures before comparing;
- a sample or replacement order that TikTok totals at 0 is discounted to 0 in full.

Nothing here raises on TikTok's figures: a negative, non-numeric, sub-cent or absurd amount is
replaced (0, or rounded half-up) and reported, and any disagreement is a ``TotalsMismatch``.
All arithmetic is in integer cents (USD).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from orderbridge.domain.money_plan import (
    FieldIssue,
    MoneyPlan,
    PlannedLine,
    ShippingLine,
    ShippingLineKind,
    TaxLine,
    TotalsMismatch,
)
from orderbridge.domain.order import LineItem, Payment, TikTokOrder, group_units

__all__ = [
    "DEFAULT_SHIPPING_TITLE",
    "HANDLING_FEE_TITLE",
    "ITEM_INSURANCE_TITLE",
    "RETAIL_DELIVERY_FEE_TITLE",
    "SALES_TAX_TITLE",
    "FieldIssue",
    "MoneyPlan",
    "PlannedLine",
    "ShippingLine",
    "ShippingLineKind",
    "TaxLine",
    "TotalsMismatch",
    "plan_money",
]

DEFAULT_SHIPPING_TITLE = "TikTok Shop Shipping"
RETAIL_DELIVERY_FEE_TITLE = "Retail Delivery Fee"
HANDLING_FEE_TITLE = "Handling Fee"
ITEM_INSURANCE_TITLE = "Shipping Insurance"
SALES_TAX_TITLE = "Sales Tax"
# Above this any single amount is treated as garbage (and 0 used) rather than trusted.
MAX_PLAUSIBLE_AMOUNT = Decimal("10000000")
_CENT = Decimal("0.01")
_PRECISION = 40

_PAYMENT_AMOUNTS = tuple(f.name for f in fields(Payment) if f.name != "currency")


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2, context=Context(prec=_PRECISION))


class _Checker:
    """Turns TikTok's amounts into trusted cents and collects what was wrong with them."""

    def __init__(self) -> None:
        self.issues: list[FieldIssue] = []

    def flag(self, field: str, tiktok: int | Decimal, expected: int, why: str) -> None:
        shown = _money(tiktok) if isinstance(tiktok, int) else tiktok
        self.issues.append(FieldIssue(field, shown, _money(expected), why))

    def cents(self, field: str, value: Decimal) -> int:
        if not value.is_finite():
            self.flag(field, value, 0, "not a number; 0 used")
            return 0
        if abs(value) > MAX_PLAUSIBLE_AMOUNT:
            self.flag(field, value, 0, "implausibly large; 0 used")
            return 0
        with localcontext(Context(prec=_PRECISION)):
            rounded = value.quantize(_CENT, rounding=ROUND_HALF_UP)
            cents = int(rounded * 100)
        if rounded != value:
            self.flag(field, value, cents, "fractions of a cent; rounded half-up")
        if cents < 0:
            self.flag(field, rounded, 0, "negative amounts cannot go on a Shopify order; 0 used")
            return 0
        return cents

    def net(self, field: str, whole: int, part: int) -> int:
        if part > whole:
            self.flag(field, whole, part, "less than the excluded units' share; 0 used")
            return 0
        return whole - part


def _clean_line(item: LineItem, check: _Checker) -> LineItem:
    name = f"line_items[{item.id}]"
    rate = item.tax_rate
    if rate is not None and not (rate.is_finite() and 0 <= rate <= 1):
        rate = None
    return replace(
        item,
        original_price=_money(check.cents(f"{name}.original_price", item.original_price)),
        seller_discount=_money(check.cents(f"{name}.seller_discount", item.seller_discount)),
        platform_discount=_money(check.cents(f"{name}.platform_discount", item.platform_discount)),
        tax=_money(check.cents(f"{name}.tax", item.tax)),
        tax_rate=rate,
    )


def _c(value: Decimal) -> int:
    # Only for values already cleaned to whole cents (so exact).
    return int(value.scaleb(2, context=Context(prec=_PRECISION)))


def _distribute(target: int, current: list[int], fallbacks: list[list[int]]) -> list[int]:
    """Move ``current`` to add up to ``target``: largest remainder over cents.

    The difference is shared in proportion to ``current`` (else the first fallback weights
    with a positive sum); leftover cents go to the largest remainders, ties to the earlier
    group. Taking cents away in proportion to ``current`` never makes a share negative.
    """
    diff = target - sum(current)
    if diff == 0 or not current:
        return current
    weights = next(w for w in (current, *fallbacks) if sum(w) > 0)
    total, size = sum(weights), abs(diff)
    shares = [size * w // total for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(size * weights[i] % total), i))
    for i in order[: size - sum(shares)]:
        shares[i] += 1
    sign = 1 if diff > 0 else -1
    return [c + sign * s for c, s in zip(current, shares, strict=True)]


def _check_payment(pay: dict[str, int], line_prices: int, free: bool, check: _Checker) -> None:
    """The documented formulas (and the lines' prices) against TikTok's own figures."""
    products = pay["original_total_product_price"]
    shipping = (
        pay["original_shipping_fee"]
        - pay["shipping_fee_seller_discount"]
        - pay["shipping_fee_platform_discount"]
    )
    taxes = pay["product_tax"] + pay["shipping_fee_tax"]
    fees = pay["retail_delivery_fee"] + pay["handling_fee"] + pay["item_insurance_fee"]
    rules: list[tuple[str, tuple[int, ...], str]] = [
        (
            "sub_total",
            (products - pay["seller_discount"] - pay["platform_discount"],),
            "original_total_product_price − seller_discount − platform_discount",
        ),
        (
            "shipping_fee",
            (shipping, shipping - pay["shipping_fee_cofunded_discount"]),
            "original_shipping_fee − shipping_fee_seller_discount − shipping_fee_platform_discount",
        ),
        ("tax", (taxes, taxes + pay["item_insurance_tax"]), "product_tax + shipping_fee_tax"),
        (
            "total_amount",
            (pay["sub_total"] + pay["shipping_fee"] + taxes + fees + pay["item_insurance_tax"],),
            "sub_total + shipping_fee + product_tax + shipping_fee_tax + retail_delivery_fee"
            " + handling_fee + item_insurance_fee + item_insurance_tax",
        ),
    ]
    if not (free and products == 0):
        # A free sample may come with no product value at all: nothing to compare then.
        rules.insert(
            0,
            (
                "original_total_product_price",
                (line_prices,),
                "the line items' original_price values add up to that",
            ),
        )
    for field, candidates, why in rules:
        if pay[field] not in candidates:
            check.flag(field, pay[field], candidates[0], why)


def _shipping_lines(order: TikTokOrder, pay: dict[str, int]) -> tuple[ShippingLine, ...]:
    def taxes(cents: int) -> tuple[TaxLine, ...]:
        return (TaxLine(SALES_TAX_TITLE, _money(cents)),) if cents else ()

    title = order.delivery_option_name.strip() or DEFAULT_SHIPPING_TITLE
    lines = [
        ShippingLine(
            ShippingLineKind.SHIPPING,
            title,
            _money(pay["shipping_fee"]),
            taxes(pay["shipping_fee_tax"]),
        )
    ]
    extras = (
        (ShippingLineKind.RETAIL_DELIVERY_FEE, RETAIL_DELIVERY_FEE_TITLE, "retail_delivery_fee", 0),
        (ShippingLineKind.HANDLING_FEE, HANDLING_FEE_TITLE, "handling_fee", 0),
        (
            ShippingLineKind.ITEM_INSURANCE,
            ITEM_INSURANCE_TITLE,
            "item_insurance_fee",
            pay["item_insurance_tax"],
        ),
    )
    for kind, extra_title, field, tax in extras:
        if pay[field] or tax:
            lines.append(ShippingLine(kind, extra_title, _money(pay[field]), taxes(tax)))
    return tuple(lines)


def _message(planned: int, tiktok: int, issues: list[FieldIssue]) -> str:
    if planned != tiktok:
        head = (
            f"The Shopify order would total {_money(planned)} but TikTok's total_amount for "
            f"these units is {_money(tiktok)} (difference {_money(planned - tiktok)})."
        )
    else:
        head = f"The totals agree at {_money(planned)} but TikTok's figures do not."
    return " ".join([head, *(f"{issue.sentence}." for issue in issues)])


def plan_money(order: TikTokOrder, exclude_line_ids: Collection[str] = ()) -> MoneyPlan:
    """Plan the Shopify order's money from ``order`` (units in ``exclude_line_ids`` left out).

    Never raises on TikTok's figures: ``mismatch`` explains any difference between the plan
    (``expected_total``) and TikTok (``tiktok_total``), or any documented formula TikTok's
    figures break; it is ``None`` only when everything agrees to the cent.
    """
    check = _Checker()
    payment: Payment = order.payment
    pay = {name: check.cents(name, getattr(payment, name)) for name in _PAYMENT_AMOUNTS}
    excluded_ids = frozenset(exclude_line_ids)
    cleaned = [_clean_line(item, check) for item in order.line_items]
    kept = [item for item in cleaned if item.id not in excluded_ids]
    gone = [item for item in cleaned if item.id in excluded_ids]

    def gone_sum(attribute: str) -> int:
        return sum(_c(getattr(item, attribute)) for item in gone)

    gone_net = sum(
        _c(i.original_price) - _c(i.seller_discount) - _c(i.platform_discount) + _c(i.tax)
        for i in gone
    )
    tiktok_total = pay["total_amount"] - gone_net
    free = (order.is_sample_order or order.is_replacement_order) and tiktok_total == 0
    _check_payment(pay, sum(_c(i.original_price) for i in cleaned), free, check)

    seller = check.net("seller_discount", pay["seller_discount"], gone_sum("seller_discount"))
    platform = check.net(
        "platform_discount", pay["platform_discount"], gone_sum("platform_discount")
    )
    product_tax = check.net("product_tax", pay["product_tax"], gone_sum("tax"))

    groups = group_units(kept)
    subtotals = [_c(g.unit_price) * g.quantity for g in groups]
    lines_subtotal = sum(subtotals)
    free_discount = max(lines_subtotal - seller - platform, 0) if free else 0
    discount = seller + platform + free_discount
    if discount > lines_subtotal:
        check.flag(
            "seller_discount + platform_discount",
            seller + platform,
            lines_subtotal,
            "a discount cannot exceed the line prices; capped",
        )
        discount = lines_subtotal

    group_taxes = [_c(g.tax) for g in groups]
    nets = [max(s - _c(g.discount), 0) for s, g in zip(subtotals, groups, strict=True)]
    taxes = _distribute(product_tax, group_taxes, [nets, [g.quantity for g in groups]])
    lines = tuple(
        PlannedLine(g, (TaxLine(SALES_TAX_TITLE, _money(t), g.tax_rate),) if t else ())
        for g, t in zip(groups, taxes, strict=True)
    )
    shipping_lines = _shipping_lines(order, pay)

    expected = lines_subtotal - discount + sum(taxes)
    expected += sum(_c(s.amount) + sum(_c(t.amount) for t in s.tax_lines) for s in shipping_lines)
    mismatch = None
    if expected != tiktok_total or check.issues:
        mismatch = TotalsMismatch(
            planned_total=_money(expected),
            tiktok_total=_money(tiktok_total),
            difference=_money(expected - tiktok_total),
            issues=tuple(check.issues),
            message=_message(expected, tiktok_total, check.issues),
        )
    return MoneyPlan(
        currency=payment.currency or "USD",
        lines=lines,
        discount=_money(discount),
        seller_discount=_money(seller),
        platform_discount=_money(platform),
        free_order_discount=_money(free_discount),
        shipping_lines=shipping_lines,
        original_shipping_fee=_money(pay["original_shipping_fee"]),
        shipping_seller_discount=_money(pay["shipping_fee_seller_discount"]),
        shipping_platform_discount=_money(pay["shipping_fee_platform_discount"]),
        shipping_cofunded_discount=_money(pay["shipping_fee_cofunded_discount"]),
        product_tax_adjustment=_money(sum(taxes) - sum(group_taxes)),
        excluded_line_ids=tuple(i.id for i in gone),
        expected_total=_money(expected),
        tiktok_total=_money(tiktok_total),
        outstanding=_money(max(expected, 0)),
        mismatch=mismatch,
    )
