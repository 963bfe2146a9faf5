"""The Shopify order's money: its total is what the buyer paid on TikTok, to the cent."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from orderbridge.domain.money import (
    DEFAULT_SHIPPING_TITLE,
    HANDLING_FEE_TITLE,
    ITEM_INSURANCE_TITLE,
    RETAIL_DELIVERY_FEE_TITLE,
    MoneyPlan,
    ShippingLineKind,
    plan_money,
)
from orderbridge.domain.order import LineItem, Payment, TikTokOrder, TikTokStatus

D = Decimal
RATE = D("0.0725")


def money(cents: int) -> Decimal:
    return D(cents).scaleb(-2)


def example_order(**kw: Any) -> TikTokOrder:
    """The example order of tiktok-shop.md §2 (total 68.32)."""

    def unit(line_id: str, sku: str, price: str, sd: str, pd: str, tax: str, name: str) -> LineItem:
        return LineItem(
            id=line_id,
            sku_id=sku,
            product_name=name,
            original_price=D(price),
            seller_discount=D(sd),
            platform_discount=D(pd),
            sale_price=D(price) - D(sd) - D(pd),
            tax=D(tax),
            tax_rate=RATE,
        )

    values: dict[str, Any] = {
        "id": "576999123456789012",
        "status": TikTokStatus.AWAITING_SHIPMENT,
        "delivery_option_name": "Standard Shipping",
        "payment": Payment(
            original_total_product_price=D("67.98"),
            seller_discount=D("5.00"),
            platform_discount=D("3.00"),
            sub_total=D("59.98"),
            original_shipping_fee=D("5.99"),
            shipping_fee_seller_discount=D("0"),
            shipping_fee_platform_discount=D("2.00"),
            shipping_fee_cofunded_discount=D("0"),
            shipping_fee=D("3.99"),
            product_tax=D("4.35"),
            shipping_fee_tax=D("0"),
            tax=D("4.35"),
            total_amount=D("68.32"),
        ),
        "line_items": (
            unit(
                "577000111122223331", "1729400000000000001", "24.99", "2.50", "0", "1.63", "Whisk"
            ),
            unit(
                "577000111122223332", "1729400000000000001", "24.99", "2.50", "0", "1.63", "Whisk"
            ),
            unit("577000111122223333", "1729400000000000002", "18.00", "0", "3.00", "1.09", "Bowl"),
        ),
    }
    values.update(kw)
    return TikTokOrder(**values)


def with_payment(order: TikTokOrder, **kw: Decimal | str) -> TikTokOrder:
    return replace(order, payment=replace(order.payment, **kw))


def shopify_total(plan: MoneyPlan) -> Decimal:
    """What Shopify will compute from the plan."""
    shipping = sum((s.amount for s in plan.shipping_lines), D(0))
    return plan.lines_subtotal - plan.discount + shipping + plan.tax_total


def test_example_order_totals_68_32() -> None:
    plan = plan_money(example_order())
    assert plan.mismatch is None
    assert plan.expected_total == D("68.32") == plan.tiktok_total == plan.outstanding
    assert shopify_total(plan) == D("68.32")
    whisk, bowl = plan.lines
    assert (whisk.group.unit_price, whisk.group.quantity, whisk.subtotal) == (
        D("24.99"),
        2,
        D("49.98"),
    )
    assert whisk.group.line_ids == ("577000111122223331", "577000111122223332")
    assert [(t.amount, t.rate, t.channel_liable) for t in whisk.tax_lines] == [
        (D("3.26"), RATE, True)
    ]
    assert (bowl.group.unit_price, bowl.group.quantity, bowl.tax_lines[0].amount) == (
        D("18.00"),
        1,
        D("1.09"),
    )
    assert (plan.discount, plan.seller_discount, plan.platform_discount) == (
        D("8.00"),
        D("5.00"),
        D("3.00"),
    )
    assert plan.free_order_discount == 0
    (shipping,) = plan.shipping_lines
    assert (shipping.kind, shipping.title, shipping.amount, shipping.tax_lines) == (
        ShippingLineKind.SHIPPING,
        "Standard Shipping",
        D("3.99"),
        (),
    )
    assert plan.original_shipping_fee == D("5.99")
    assert plan.shipping_platform_discount == D("2.00")
    assert plan.shipping_seller_discount == plan.shipping_cofunded_discount == 0
    assert plan.platform_funded == D("5.00")
    assert plan.product_tax_adjustment == 0
    assert plan.tax_total == D("4.35")
    assert plan.currency == "USD"
    assert not plan.is_zero


def test_default_shipping_title_and_currency() -> None:
    plan = plan_money(with_payment(example_order(delivery_option_name=" "), currency=""))
    assert plan.shipping_lines[0].title == DEFAULT_SHIPPING_TITLE
    assert plan.currency == "USD"


@pytest.mark.parametrize(
    ("product_tax", "whisk", "bowl"),
    [
        ("4.36", "3.27", "1.09"),  # one cent up: to the largest remainder
        ("4.30", "3.22", "1.08"),  # five cents down: 3.7 and 1.3 -> 4 and 1
        ("0", "0", "0"),  # tax-exempt after all
    ],
)
def test_product_tax_difference_is_distributed(product_tax: str, whisk: str, bowl: str) -> None:
    tax = D(product_tax)
    order = with_payment(example_order(), product_tax=tax, tax=tax, total_amount=D("63.97") + tax)
    plan = plan_money(order)
    assert plan.mismatch is None
    assert [sum((t.amount for t in line.tax_lines), D(0)) for line in plan.lines] == [
        D(whisk),
        D(bowl),
    ]
    assert plan.product_tax_adjustment == tax - D("4.35")
    assert plan.expected_total == order.payment.total_amount


def test_product_tax_without_line_taxes_goes_by_net_price_then_quantity() -> None:
    lines = tuple(replace(item, tax=D(0)) for item in example_order().line_items)
    order = with_payment(example_order(line_items=lines), product_tax=D("4.35"))
    taxes = [line.tax_lines[0].amount for line in plan_money(order).lines]
    assert taxes == [D("3.26"), D("1.09")]  # 44.98 : 15.00 of 59.98
    free = tuple(
        replace(i, seller_discount=i.original_price, platform_discount=D(0)) for i in lines
    )
    order = with_payment(order, seller_discount=D("67.98"), platform_discount=D(0))
    plan = plan_money(replace(order, line_items=free))
    assert [line.tax_lines[0].amount for line in plan.lines] == [D("2.90"), D("1.45")]  # 2 : 1


def test_excluded_units_leave_the_plan_and_tiktoks_total() -> None:
    plan = plan_money(example_order(), exclude_line_ids={"577000111122223333"})
    assert plan.mismatch is None
    assert [line.group.sku_id for line in plan.lines] == ["1729400000000000001"]
    assert plan.excluded_line_ids == ("577000111122223333",)
    assert (plan.discount, plan.platform_discount) == (D("5.00"), D("0.00"))
    assert plan.expected_total == plan.tiktok_total == D("52.23")  # 68.32 - (18 - 3 + 1.09)
    assert plan_money(example_order(), exclude_line_ids=["no-such-line"]).mismatch is None


def test_excluded_share_larger_than_tiktoks_figures_is_a_mismatch() -> None:
    order = with_payment(example_order(), platform_discount=D("1.00"), sub_total=D("61.98"))
    plan = plan_money(order, exclude_line_ids={"577000111122223333"})
    assert plan.mismatch is not None
    assert "platform_discount" in plan.mismatch.fields
    assert "excluded units" in plan.mismatch.message


@pytest.mark.parametrize("flag", ["is_sample_order", "is_replacement_order"])
def test_free_sample_or_replacement_is_a_zero_order(flag: str) -> None:
    order = example_order(payment=Payment(), **{flag: True})
    plan = plan_money(order)
    assert plan.mismatch is None
    assert plan.lines_subtotal == D("67.98")
    assert plan.free_order_discount == plan.discount == D("67.98")
    assert plan.tax_total == 0
    assert plan.expected_total == plan.outstanding == 0
    assert plan.is_zero


def test_free_sample_with_product_value_is_checked_against_the_lines() -> None:
    payment = Payment(original_total_product_price=D("60.00"), platform_discount=D("60.00"))
    plan = plan_money(example_order(payment=payment, is_sample_order=True))
    assert plan.is_zero
    assert plan.mismatch is not None
    assert plan.mismatch.fields == ("original_total_product_price",)
    assert plan.mismatch.difference == 0
    assert plan.mismatch.message.startswith("The totals agree at 0.00")


def test_fully_discounted_order_is_zero_without_special_casing() -> None:
    lines = tuple(
        replace(i, seller_discount=i.original_price, platform_discount=D(0), tax=D(0))
        for i in example_order().line_items
    )
    payment = Payment(original_total_product_price=D("67.98"), seller_discount=D("67.98"))
    plan = plan_money(example_order(line_items=lines, payment=payment))
    assert plan.mismatch is None
    assert (plan.discount, plan.free_order_discount, plan.outstanding) == (D("67.98"), 0, 0)


def test_a_zero_total_is_not_free_unless_sample_or_replacement() -> None:
    plan = plan_money(example_order(payment=Payment()))
    assert plan.mismatch is not None
    assert plan.free_order_discount == 0
    assert plan.expected_total == D("67.98")


def test_fees_get_their_own_shipping_lines() -> None:
    order = with_payment(
        example_order(),
        retail_delivery_fee=D("0.28"),
        handling_fee=D("1.00"),
        item_insurance_fee=D("0.99"),
        item_insurance_tax=D("0.07"),
        total_amount=D("70.66"),
    )
    plan = plan_money(order)
    assert plan.mismatch is None
    assert [(s.kind, s.title, s.amount) for s in plan.shipping_lines[1:]] == [
        (ShippingLineKind.RETAIL_DELIVERY_FEE, RETAIL_DELIVERY_FEE_TITLE, D("0.28")),
        (ShippingLineKind.HANDLING_FEE, HANDLING_FEE_TITLE, D("1.00")),
        (ShippingLineKind.ITEM_INSURANCE, ITEM_INSURANCE_TITLE, D("0.99")),
    ]
    assert plan.shipping_lines[-1].tax_lines[0].amount == D("0.07")
    assert shopify_total(plan) == D("70.66")
    # TikTok's ``tax`` may or may not count the insurance tax: both agree.
    assert plan_money(with_payment(order, tax=D("4.42"))).mismatch is None


def test_insurance_tax_alone_still_gets_its_line_and_shipping_tax_its_tax_line() -> None:
    order = with_payment(
        example_order(),
        item_insurance_tax=D("0.07"),
        shipping_fee_tax=D("0.29"),
        tax=D("4.64"),
        total_amount=D("68.68"),
    )
    plan = plan_money(order)
    assert plan.mismatch is None
    assert plan.shipping_lines[0].tax_lines[0].amount == D("0.29")
    assert all(t.channel_liable for s in plan.shipping_lines for t in s.tax_lines)
    assert [(s.kind, s.amount) for s in plan.shipping_lines[1:]] == [
        (ShippingLineKind.ITEM_INSURANCE, D("0.00"))
    ]


def test_cofunded_shipping_discount_may_be_netted_or_not() -> None:
    order = with_payment(
        example_order(),
        shipping_fee_cofunded_discount=D("1.00"),
        shipping_fee=D("2.99"),
        total_amount=D("67.32"),
    )
    plan = plan_money(order)
    assert plan.mismatch is None
    assert plan.shipping_cofunded_discount == D("1.00")
    assert (
        plan_money(with_payment(order, shipping_fee=D("3.99"), total_amount=D("68.32"))).mismatch
        is None
    )


def test_totals_disagreement_explains_itself() -> None:
    plan = plan_money(with_payment(example_order(), total_amount=D("70.00")))
    mismatch = plan.mismatch
    assert mismatch is not None
    assert (mismatch.planned_total, mismatch.tiktok_total, mismatch.difference) == (
        D("68.32"),
        D("70.00"),
        D("-1.68"),
    )
    assert mismatch.fields == ("total_amount",)
    assert mismatch.message.startswith(
        "The Shopify order would total 68.32 but TikTok's total_amount for these units is"
        " 70.00 (difference -1.68)."
    )
    assert "total_amount is 70.00, expected 68.32 (sub_total + shipping_fee" in mismatch.message
    assert plan.outstanding == D("68.32")  # a warning only: the plan still stands


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (D("NaN"), "not a number"),
        (D("sNaN"), "not a number"),
        (D("-Infinity"), "not a number"),
        (D("1E+30"), "implausibly large"),
        (D("-3.99"), "negative amounts"),
        (D("3.985"), "fractions of a cent"),
    ],
)
def test_absurd_amounts_are_mismatches_not_crashes(value: Decimal, why: str) -> None:
    plan = plan_money(with_payment(example_order(), shipping_fee=value))
    assert plan.mismatch is not None
    assert why in plan.mismatch.message
    assert "shipping_fee" in plan.mismatch.fields
    assert plan.shipping_lines[0].amount >= 0


def test_absurd_line_values_are_mismatches_not_crashes() -> None:
    first, second, third = example_order().line_items
    lines = (
        replace(first, original_price=D("NaN"), tax_rate=D("NaN")),
        replace(second, seller_discount=D("-1"), tax_rate=D("2")),
        replace(third, tax=D("1E+40"), tax_rate=D("-0.1")),
    )
    plan = plan_money(example_order(line_items=lines))
    assert plan.mismatch is not None
    assert f"line_items[{first.id}].original_price" in plan.mismatch.fields
    assert f"line_items[{second.id}].seller_discount" in plan.mismatch.fields
    assert f"line_items[{third.id}].tax" in plan.mismatch.fields
    assert all(t.rate is None for line in plan.lines for t in line.tax_lines)


def test_discount_larger_than_the_lines_is_capped() -> None:
    order = with_payment(example_order(), seller_discount=D("100.00"))
    plan = plan_money(order)
    assert plan.discount == plan.lines_subtotal == D("67.98")
    assert plan.mismatch is not None
    assert "seller_discount + platform_discount" in plan.mismatch.fields
    assert shopify_total(plan) == plan.expected_total >= 0


def test_product_tax_with_no_line_to_carry_it_is_a_mismatch() -> None:
    order = example_order()
    plan = plan_money(order, exclude_line_ids={item.id for item in order.line_items})
    assert plan.lines == ()
    assert plan.tax_total == 0
    assert plan.mismatch is None  # all of it was excluded, TikTok's figures included
    plan = plan_money(replace(order, line_items=()))
    assert plan.mismatch is not None
    assert plan.mismatch.difference == D("-64.33")  # only the shipping line is left


# --- property tests --------------------------------------------------------------------


@st.composite
def consistent_orders(draw: st.DrawFn, free_flags: bool = True) -> TikTokOrder:
    """Random orders whose payment satisfies tiktok-shop.md's formulas."""
    n_skus = draw(st.integers(1, 4))
    prices = {
        f"SKU{i}": draw(st.lists(st.integers(0, 50_000), min_size=1, max_size=2))
        for i in range(n_skus)
    }
    n_units = draw(st.integers(1, 30))
    units = []
    for i in range(n_units):
        sku = draw(st.sampled_from(sorted(prices)))
        price = draw(st.sampled_from(prices[sku]))
        seller = draw(st.integers(0, price))
        platform = draw(st.integers(0, price - seller))
        tax = draw(st.integers(0, price // 5))
        units.append(
            LineItem(
                id=f"L{i}",
                sku_id=sku,
                original_price=money(price),
                sale_price=money(price - seller - platform),
                seller_discount=money(seller),
                platform_discount=money(platform),
                tax=money(tax),
                tax_rate=draw(st.sampled_from([None, RATE])),
            )
        )

    def total_of(field: str) -> int:
        return sum(int(getattr(u, field) * 100) for u in units)

    products, seller, platform = (
        total_of("original_price"),
        total_of("seller_discount"),
        total_of("platform_discount"),
    )
    product_tax = max(total_of("tax") + draw(st.integers(-5, 5)), 0)
    original_fee = draw(st.integers(0, 2_000))
    fee_seller = draw(st.integers(0, original_fee))
    fee_platform = draw(st.integers(0, original_fee - fee_seller))
    cofunded = draw(st.integers(0, original_fee - fee_seller - fee_platform))
    netted = draw(st.booleans())
    shipping = original_fee - fee_seller - fee_platform - (cofunded if netted else 0)
    shipping_tax = draw(st.integers(0, 200))
    retail, handling = draw(st.sampled_from([0, 27, 28, 50])), draw(st.integers(0, 500))
    insurance, insurance_tax = draw(st.integers(0, 500)), draw(st.integers(0, 50))
    sub_total = products - seller - platform
    taxes = product_tax + shipping_tax
    total = sub_total + shipping + taxes + retail + handling + insurance + insurance_tax
    payment = Payment(
        original_total_product_price=money(products),
        seller_discount=money(seller),
        platform_discount=money(platform),
        sub_total=money(sub_total),
        original_shipping_fee=money(original_fee),
        shipping_fee_seller_discount=money(fee_seller),
        shipping_fee_platform_discount=money(fee_platform),
        shipping_fee_cofunded_discount=money(cofunded),
        shipping_fee=money(shipping),
        product_tax=money(product_tax),
        shipping_fee_tax=money(shipping_tax),
        tax=money(taxes + (insurance_tax if draw(st.booleans()) else 0)),
        retail_delivery_fee=money(retail),
        handling_fee=money(handling),
        item_insurance_fee=money(insurance),
        item_insurance_tax=money(insurance_tax),
        total_amount=money(total),
    )
    flags = draw(st.sampled_from(["none", "sample", "replacement"])) if free_flags else "none"
    return TikTokOrder(
        id="O1",
        status=TikTokStatus.AWAITING_SHIPMENT,
        is_sample_order=flags == "sample",
        is_replacement_order=flags == "replacement",
        payment=payment,
        line_items=tuple(units),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_orders())
def test_consistent_orders_plan_to_total_amount(order: TikTokOrder) -> None:
    plan = plan_money(order)
    payment = order.payment
    assert plan.mismatch is None
    assert plan.expected_total == payment.total_amount == plan.outstanding
    assert shopify_total(plan) == payment.total_amount
    assert plan.discount == payment.seller_discount + payment.platform_discount
    assert plan.shipping_lines[0].amount == payment.shipping_fee
    product_taxes = [t.amount for line in plan.lines for t in line.tax_lines]
    assert sum(product_taxes, D(0)) == payment.product_tax
    assert all(tax > 0 for tax in product_taxes)
    assert all(t.channel_liable for line in plan.lines for t in line.tax_lines)
    assert sorted(i for line in plan.lines for i in line.group.line_ids) == sorted(
        item.id for item in order.line_items
    )
    fees = [payment.retail_delivery_fee, payment.handling_fee, payment.item_insurance_fee]
    assert len(plan.shipping_lines) == 1 + sum(1 for fee in fees[:2] if fee) + bool(
        payment.item_insurance_fee or payment.item_insurance_tax
    )
    amounts = [plan.expected_total, plan.discount, *(s.amount for s in plan.shipping_lines)]
    assert all(a.as_tuple().exponent == -2 for a in amounts + product_taxes)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_orders(free_flags=False), st.data())
def test_excluding_units_keeps_the_rest_consistent(order: TikTokOrder, data: st.DataObject) -> None:
    ids = [item.id for item in order.line_items]
    gone = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids))))
    gone_items = [item for item in order.line_items if item.id in gone]
    assume(order.payment.product_tax >= sum((i.tax for i in gone_items), D(0)))
    assume(len(gone) < len(ids))  # a tax residual needs a line to sit on (tested above)
    plan = plan_money(order, exclude_line_ids=gone)
    share = sum(
        (i.original_price - i.seller_discount - i.platform_discount + i.tax for i in gone_items),
        D(0),
    )
    assert plan.mismatch is None
    assert plan.expected_total == plan.tiktok_total == order.payment.total_amount - share
    assert shopify_total(plan) == plan.expected_total
    assert sum(line.group.quantity for line in plan.lines) == len(ids) - len(gone)


PERTURBABLE = [
    "original_total_product_price",
    "seller_discount",
    "platform_discount",
    "sub_total",
    "original_shipping_fee",
    "shipping_fee_seller_discount",
    "shipping_fee_platform_discount",
    "shipping_fee",
    "product_tax",
    "shipping_fee_tax",
    "tax",
    "retail_delivery_fee",
    "item_insurance_fee",
    "item_insurance_tax",
    "handling_fee",
    "total_amount",
    "original_price",  # of one line item
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    consistent_orders(free_flags=False),
    st.sampled_from(PERTURBABLE),
    st.integers(-5_000, 5_000).filter(bool),
    st.data(),
)
def test_inconsistent_orders_always_mismatch_and_name_the_difference(
    order: TikTokOrder, field: str, cents: int, data: st.DataObject
) -> None:
    delta = money(cents)
    payment = order.payment
    if field == "original_price":
        index = data.draw(st.integers(0, len(order.line_items) - 1))
        item = order.line_items[index]
        assume(item.original_price + delta >= 0)
        items = list(order.line_items)
        items[index] = replace(item, original_price=item.original_price + delta)
        broken = replace(order, line_items=tuple(items))
    else:
        assume(getattr(payment, field) + delta >= 0)
        broken = with_payment(order, **{field: getattr(payment, field) + delta})
    # Two readings of an undocumented field both agree (see money.py): moving from one to
    # the other is no inconsistency, and a difference may be stated against either.
    reading = D(0)
    if field == "tax":
        reading = payment.item_insurance_tax
    elif "shipping" in field and field != "shipping_fee_tax":
        reading = payment.shipping_fee_cofunded_discount
    assume(abs(delta) != reading)
    mismatch = plan_money(broken).mismatch
    assert mismatch is not None
    assert field in mismatch.message
    named = {abs(i.tiktok_value - i.expected_value) for i in mismatch.issues}
    assert named & {abs(delta), abs(delta + reading), abs(delta - reading)}
    if field == "total_amount":
        assert mismatch.difference == -delta
