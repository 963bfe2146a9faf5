"""The rule for Shopify's total against the plan's before money is recorded
(``domain/totals.py``): equal, the dropped tax added back, or TOTALS_MISMATCH."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderbridge.domain.totals import TotalVerdict, check_total

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2)


@given(total=money, tax=money, carried=st.integers(min_value=1, max_value=100))
def test_a_drop_smaller_than_the_missing_tax_is_restored(total: Decimal, tax: Decimal, carried: int) -> None:
    """A swap already carries part of TikTok's tax as an item: Shopify's tax fell by more
    than its total did, and only the total's difference is added back."""
    planned_total = total + tax
    shown_elsewhere = (tax * carried / 100).quantize(Decimal("0.01"))
    dropped = tax - shown_elsewhere
    check = check_total(planned_total=planned_total, planned_tax=tax,
                        shopify_total=planned_total - dropped, shopify_tax=Decimal("0"))
    if dropped == 0:
        assert check.verdict is TotalVerdict.EQUAL
        return
    assert check.verdict is TotalVerdict.RESTORE_TAX
    assert check.restore == dropped
    assert check.shopify_total + check.restore == planned_total


@given(total=money, tax=money)
def test_equal_totals_need_nothing(total: Decimal, tax: Decimal) -> None:
    check = check_total(planned_total=total, planned_tax=tax, shopify_total=total, shopify_tax=Decimal("0"))
    assert check.verdict is TotalVerdict.EQUAL
    assert check.difference == 0
    assert check.restore == 0


@given(total=money, tax=money, kept=st.integers(min_value=0, max_value=100))
def test_a_total_lower_by_exactly_the_dropped_tax_is_restored_to_the_cent(
    total: Decimal, tax: Decimal, kept: int
) -> None:
    planned_total = total + tax
    shopify_tax = (tax * kept / 100).quantize(Decimal("0.01"))
    dropped = tax - shopify_tax
    check = check_total(planned_total=planned_total, planned_tax=tax,
                        shopify_total=planned_total - dropped, shopify_tax=shopify_tax)
    if dropped == 0:
        assert check.verdict is TotalVerdict.EQUAL
        return
    assert check.verdict is TotalVerdict.RESTORE_TAX
    assert check.restore == dropped
    # Adding the restored amount gives back exactly the plan's total, never more.
    assert check.shopify_total + check.restore == planned_total


@given(total=money, extra=money.filter(lambda d: d > 0))
def test_a_higher_total_is_never_restored(total: Decimal, extra: Decimal) -> None:
    check = check_total(planned_total=total, planned_tax=Decimal("1.00"),
                        shopify_total=total + extra, shopify_tax=Decimal("1.00") + extra)
    assert check.verdict is TotalVerdict.MISMATCH
    assert check.difference == extra
    assert check.restore == 0
    assert "charges more than TikTok collected" in check.message
    assert f"{total + extra}" in check.message


@given(total=money, missing=money.filter(lambda d: d > 0), tax=money)
def test_a_lower_total_the_tax_does_not_explain_is_a_mismatch(
    total: Decimal, missing: Decimal, tax: Decimal
) -> None:
    # Shopify's tax is unchanged: the money went missing elsewhere (a hand edit).
    check = check_total(planned_total=total + missing, planned_tax=tax,
                        shopify_total=total, shopify_tax=tax)
    assert check.verdict is TotalVerdict.MISMATCH
    assert check.difference == -missing
    assert check.restore == 0
    assert "changed in Shopify by more than its tax" in check.message


def test_a_higher_total_with_the_same_tax_was_changed_in_shopify() -> None:
    check = check_total(planned_total=Decimal("44.50"), planned_tax=Decimal("3.00"),
                        shopify_total=Decimal("54.50"), shopify_tax=Decimal("3.00"))
    assert check.verdict is TotalVerdict.MISMATCH
    assert "the order was changed in Shopify" in check.message
    assert "44.50" in check.message
