"""The money reconciliation shown on an order's page: gaps to the cent, unknown stays unknown."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderbridge.domain.reconcile import Reconciliation, to_cents

cents = st.integers(min_value=0, max_value=10**9)


def test_cents_round_half_to_even_and_keep_the_sign() -> None:
    assert to_cents(Decimal("12.34")) == 1234
    assert to_cents(Decimal("0.005")) == 0
    assert to_cents(Decimal("0.015")) == 2
    assert to_cents(Decimal("-3.10")) == -310


def test_a_healthy_order_balances() -> None:
    check = Reconciliation("USD", 2599, 2599, 2599)
    assert (check.shopify_gap, check.payment_gap, check.balanced) == (0, 0, True)


def test_a_cent_off_is_not_balanced() -> None:
    check = Reconciliation("USD", 2599, 2600, 2599)
    assert (check.shopify_gap, check.payment_gap, check.balanced) == (1, 0, False)


def test_unknown_amounts_leave_the_check_undecided() -> None:
    no_shopify = Reconciliation("USD", 2599, None, None)
    assert (no_shopify.shopify_gap, no_shopify.payment_gap, no_shopify.balanced) == (None, None, None)
    no_tiktok = Reconciliation("USD", None, 2599, 2599)
    assert (no_tiktok.shopify_gap, no_tiktok.payment_gap, no_tiktok.balanced) == (None, None, None)
    unpaid = Reconciliation("USD", 2599, 2599, None)
    assert (unpaid.shopify_gap, unpaid.payment_gap, unpaid.balanced) == (0, None, None)


@given(cents, cents, cents)
def test_balanced_exactly_when_all_three_are_equal(tiktok: int, shopify: int, recorded: int) -> None:
    check = Reconciliation("USD", tiktok, shopify, recorded)
    assert check.balanced is (tiktok == shopify == recorded)
    assert check.shopify_gap == shopify - tiktok
    assert check.payment_gap == recorded - tiktok


@given(st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_two_decimal_amounts_convert_exactly(amount: Decimal) -> None:
    assert Decimal(to_cents(amount)) / 100 == amount
