"""At release and after it, Shopify's total is compared with the plan's before the payment:
Shopify recalculates the taxes when the address is written (``decide/totals.py``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from orderbridge.domain.actions import RecordPayment, RestoreTax, UpdateShopifyAddress
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.money import plan_money
from orderbridge.domain.order import TikTokOrder
from orderbridge.domain.outcome import OutcomeStatus
from tests.unit.domain.factories import (
    T0,
    first,
    held_memory,
    kinds,
    minutes,
    observed,
    ok,
    order,
    outcome,
    run,
    view,
)


def taxed() -> TikTokOrder:
    """One unit at 10.00 with 0.83 of tax TikTok collected (total 10.83)."""
    o = order(paid_time=T0 - minutes(90))
    line = replace(o.line_items[0], tax=Decimal("0.83"), tax_rate=Decimal("0.0825"))
    pay = replace(o.payment, product_tax=Decimal("0.83"), tax=Decimal("0.83"), total_amount=Decimal("10.83"))
    return replace(o, line_items=(line,), payment=pay)


def due() -> tuple[LinkMemory, TikTokOrder]:
    return held_memory(first_seen_awaiting_at=T0 - minutes(90)), taxed()


def written(memory: LinkMemory, o: TikTokOrder) -> LinkMemory:
    """The memory after the address was written (the fingerprint is the decision's)."""
    d = run(memory, observed(o, view()))
    return ok(d.memory, first(d, UpdateShopifyAddress))


def test_equal_totals_pay_and_release() -> None:
    m, o = due()
    plan = plan_money(o)
    m = written(m, o)
    v = view(current_total=plan.expected_total, current_tax=Decimal("0"))
    d = run(m, observed(o, v))
    assert kinds(d) == ["record_payment", "release_hold"]
    assert "TOTALS_MISMATCH" not in {i.code.value for i in d.issues}


def test_the_tax_shopify_dropped_is_added_back_before_the_payment() -> None:
    m, o = due()
    plan = plan_money(o)
    assert plan.tax_total > 0
    m = written(m, o)
    v = view(current_total=plan.expected_total - plan.tax_total, current_tax=Decimal("0"))
    d = run(m, observed(o, v))
    assert kinds(d) == ["restore_tax"]
    restore = first(d, RestoreTax)
    assert restore.amount == plan.tax_total
    assert restore.planned_total == plan.expected_total
    assert restore.key == f"restore_tax:{plan.expected_total}:{plan.tax_total}"
    assert d.memory.state is LinkState.CREATED_HELD


def test_a_higher_total_raises_totals_mismatch_and_releases_unpaid() -> None:
    m, o = due()
    plan = plan_money(o)
    m = written(m, o)
    v = view(current_total=plan.expected_total + Decimal("2.50"), current_tax=plan.tax_total + Decimal("2.50"))
    d = run(m, observed(o, v))
    assert kinds(d) == ["release_hold"]  # the order goes ahead, never paid another amount
    issue = next(i for i in d.issues if i.code.value == "TOTALS_MISMATCH")
    assert issue.data["shopify_total"] == str(plan.expected_total + Decimal("2.50"))
    assert issue.data["planned_total"] == str(plan.expected_total)
    assert issue.data["difference"] == "2.50"


def test_a_refused_restore_is_raised_as_a_mismatch_until_its_retry() -> None:
    m, o = due()
    plan = plan_money(o)
    m = written(m, o)
    v = view(current_total=plan.expected_total - plan.tax_total, current_tax=Decimal("0"))
    d = run(m, observed(o, v))
    refused = outcome(d.memory, first(d, RestoreTax), OutcomeStatus.REJECTED, at=T0, message="staged total")
    d = run(refused, observed(o, v), now=T0 + timedelta(minutes=1))
    assert kinds(d) == ["release_hold"]
    assert "TOTALS_MISMATCH" in {i.code.value for i in d.issues}


def test_after_release_a_drifted_total_is_corrected_before_a_late_payment() -> None:
    _, o = due()
    plan = plan_money(o)
    m = written(held_memory(first_seen_awaiting_at=T0 - minutes(90)), o)
    assert plan.tax_total == Decimal("0.83")
    assert plan.expected_total == Decimal("10.83")
    released = replace(m, state=LinkState.RELEASED, released_at=T0)
    v = view(current_total=plan.expected_total - plan.tax_total, current_tax=Decimal("0"))
    d = run(released, observed(o, v))
    assert kinds(d) == ["restore_tax"]
    v = view(current_total=plan.expected_total, current_tax=Decimal("0"))
    d = run(released, observed(o, v))
    assert kinds(d) == ["record_payment"]
    assert first(d, RecordPayment).amount == v.total_outstanding


def test_after_release_a_higher_total_is_raised_and_never_paid() -> None:
    m, o = due()
    plan = plan_money(o)
    released = replace(written(m, o), state=LinkState.RELEASED, released_at=T0)
    v = view(current_total=plan.expected_total + Decimal("1.00"), current_tax=plan.tax_total + Decimal("1.00"))
    d = run(released, observed(o, v))
    assert kinds(d) == []
    assert "TOTALS_MISMATCH" in {i.code.value for i in d.issues}


def test_after_release_an_address_change_is_written_while_a_mismatch_stands() -> None:
    m, o = due()
    plan = plan_money(o)
    released = replace(written(m, o), state=LinkState.RELEASED, released_at=T0)
    moved = replace(o, recipient=replace(o.recipient, address_line1="9 Elm St")) if o.recipient else o
    v = view(current_total=plan.expected_total + Decimal("1.00"), current_tax=plan.tax_total + Decimal("1.00"))
    d = run(released, observed(moved, v))
    assert kinds(d) == ["update_shopify_address"]
    assert "TOTALS_MISMATCH" in {i.code.value for i in d.issues}
