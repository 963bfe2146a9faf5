"""domain/returns.py: when and what a TikTok refund writes to Shopify, the seller's queue and
the 30-day window (hypothesis for the money)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orderbridge.domain.observed import ReturnRecord
from orderbridge.domain.returns import (
    LineUnits,
    Restock,
    allocate,
    approve_decision,
    auto_approvable,
    goods_back,
    money_moved,
    normalise_status,
    plan_refund,
    refund_key,
    reject_decision,
    replacement_marks,
    seller_tasks,
    window_closes,
    within_window,
)

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"
PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
LINES = (LineUnits("S1", ("L1", "L2", "L3"), 0), LineUnits("S2", ("L4",), 1))


def rec(**kw: object) -> ReturnRecord:
    kw.setdefault("return_id", "R1")
    return ReturnRecord(**kw)  # type: ignore[arg-type]


def test_statuses_both_spellings_and_money_moved_only_at_complete() -> None:
    assert normalise_status(" refund_or_return_request_reject ") == "RETURN_OR_REFUND_REQUEST_REJECT"
    assert money_moved(COMPLETE)
    assert money_moved("REPLACEMENT_REQUEST_REFUND_SUCCESS")
    assert not money_moved("RETURN_OR_REFUND_REQUEST_SUCCESS")
    assert refund_key("R1", COMPLETE) == "tiktok-refund-R1-return_or_refund_request_complete"
    assert refund_key("R1", "") == "tiktok-refund-R1"


def test_goods_back_only_for_an_undisputed_completed_return() -> None:
    base = {"type": "RETURN_AND_REFUND", "status": COMPLETE}
    assert goods_back(rec(**base))
    assert not goods_back(rec(**base, arbitration_status="SUPPORT_BUYER"))
    assert not goods_back(rec(**base, buyer_keeps_item=True))
    assert not goods_back(rec(type="REFUND", status=COMPLETE))
    assert not goods_back(rec(type="RETURN_AND_REFUND", status="BUYER_SHIPPED_ITEM"))


def test_plan_counts_units_and_restocks_what_came_back() -> None:
    record = rec(type="RETURN_AND_REFUND", status=COMPLETE, received=True, line_item_ids=("L1", "L3"),
                 refund_total=Decimal("52.10"), refund_shipping=Decimal("0"))
    plan = plan_refund(record, LINES, fbt=False)
    assert plan.lines == ((plan.lines[0]),)
    assert (plan.lines[0].shopify_line_id, plan.lines[0].quantity, plan.lines[0].restock) == (
        "S1", 2, Restock.RETURN)
    assert plan.amount == Decimal("52.10")
    assert plan.idempotency_key.endswith("return_or_refund_request_complete")


def test_plan_refund_only_keeps_stock_except_never_fulfilled_units() -> None:
    record = rec(type="REFUND", status=COMPLETE, line_item_ids=("L1", "L4"), refund_total=Decimal("30"))
    plan = plan_refund(record, LINES, fbt=False)
    assert [(x.shopify_line_id, x.quantity, x.restock) for x in plan.lines] == [
        ("S1", 1, Restock.NO_RESTOCK), ("S2", 1, Restock.CANCEL)]


def test_plan_fbt_never_restocks_and_kept_item_refunds_money_only() -> None:
    back = rec(type="RETURN_AND_REFUND", status=COMPLETE, received=True, line_item_ids=("L1", "L4"))
    assert {x.restock for x in plan_refund(back, LINES, fbt=True).lines} == {Restock.NO_RESTOCK}
    kept = rec(type="REFUND", status=COMPLETE, buyer_keeps_item=True, line_item_ids=("L1",),
               refund_total=Decimal("4.00"), refund_shipping=Decimal("9"))
    plan = plan_refund(kept, LINES, fbt=False)
    assert plan.lines == ()
    assert (plan.amount, plan.shipping) == (Decimal("4.00"), Decimal("4.00"))  # shipping capped


@given(
    st.lists(st.booleans(), min_size=1, max_size=8),
    st.decimals(min_value=Decimal("-5"), max_value=Decimal("500"), places=2),
    st.decimals(min_value=Decimal("-5"), max_value=Decimal("50"), places=2),
    st.booleans(), st.booleans(),
)
def test_plan_properties(named: list[bool], total: Decimal, shipping: Decimal, received: bool,
                         fbt: bool) -> None:
    units = tuple(f"L{i}" for i in range(len(named)))
    lines = (LineUnits("S1", units[::2], 1), LineUnits("S2", units[1::2], 0))
    chosen = tuple(u for u, pick in zip(units, named, strict=True) if pick)
    record = rec(type="RETURN_AND_REFUND", status=COMPLETE, received=received, line_item_ids=chosen,
                 refund_total=total, refund_shipping=shipping)
    plan = plan_refund(record, lines, fbt=fbt)
    assert sum(x.quantity for x in plan.lines) == len(chosen)  # per unit, every unit once
    assert plan.amount == max(total, Decimal("0"))  # TikTok's total, to the cent
    assert Decimal("0") <= plan.shipping <= plan.amount
    if fbt:
        assert all(x.restock is Restock.NO_RESTOCK for x in plan.lines)
    if not received:
        assert Restock.RETURN not in {x.restock for x in plan.lines}


@given(
    st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=2),
    st.lists(st.decimals(min_value=Decimal("-1"), max_value=Decimal("1000"), places=2), max_size=12),
)
def test_allocate_adds_up_to_the_cent(total: Decimal, weights: list[Decimal]) -> None:
    shares = allocate(total, weights)
    assert len(shares) == len(weights)
    if weights:
        assert sum(shares, Decimal("0")) == total
        assert all(s >= 0 and s == s.quantize(Decimal("0.01")) for s in shares)
        whole = sum((max(w, Decimal("0")) for w in weights), Decimal("0"))
        if whole > 0:
            for share, weight in zip(shares, weights, strict=True):
                assert abs(share - total * max(weight, Decimal("0")) / whole) < Decimal("0.01")


def test_allocate_examples() -> None:
    assert allocate(Decimal("10.00"), [Decimal("1")] * 3) == (Decimal("3.34"), Decimal("3.33"), Decimal("3.33"))
    assert allocate(Decimal("5"), [Decimal("0"), Decimal("0")]) == (Decimal("5.00"), Decimal("0"))
    assert allocate(Decimal("5"), []) == ()


def test_decisions_and_seller_queue() -> None:
    refund = rec(return_id="A", type="REFUND", status=PENDING, deadline=T0 + timedelta(hours=5),
                 refund_total=Decimal("9.99"))
    ret = rec(return_id="B", type="RETURN_AND_REFUND", status=PENDING, deadline=T0 + timedelta(hours=1))
    parcel = rec(return_id="C", type="RETURN_AND_REFUND", status="BUYER_SHIPPED_ITEM")
    swap = rec(return_id="D", type="REPLACEMENT", status="REPLACEMENT_REQUEST_PENDING",
               deadline=T0 + timedelta(hours=2))
    done = rec(return_id="E", status=COMPLETE)
    assert [(approve_decision(r), reject_decision(r)) for r in (refund, ret, parcel, swap, done)] == [
        ("APPROVE_REFUND", "REJECT_REFUND"), ("APPROVE_RETURN", "REJECT_RETURN"),
        ("APPROVE_RECEIVED_PACKAGE", "REJECT_RECEIVED_PACKAGE"),
        ("APPROVE_REPLACEMENT", "REJECT_REPLACEMENT"), ("", "")]
    tasks = seller_tasks([refund, ret, parcel, swap, done])
    assert [t.return_id for t in tasks] == ["B", "D", "A", "C"]
    assert tasks[2].refund_total == Decimal("9.99")


def test_auto_approve_refund_only_under_the_limit() -> None:
    small = rec(type="REFUND", status=PENDING, refund_total=Decimal("20.00"))
    assert auto_approvable(small, Decimal("20.00"))
    assert not auto_approvable(small, Decimal("19.99"))
    assert not auto_approvable(small, None)
    assert not auto_approvable(rec(type="RETURN_AND_REFUND", status=PENDING), Decimal("50"))
    assert not auto_approvable(rec(type="REFUND", status=COMPLETE), Decimal("50"))


def test_thirty_day_window() -> None:
    assert window_closes(None) is None
    assert window_closes(T0) == T0 + timedelta(days=30)
    assert within_window(T0, T0)
    assert within_window(T0, T0 + timedelta(days=29, hours=23))
    assert not within_window(T0, T0 + timedelta(days=30))
    assert not within_window(T0, T0 - timedelta(seconds=1))
    assert not within_window(None, T0)


def test_replacement_marks_tie_the_new_order_to_the_original() -> None:
    assert replacement_marks(False, "576") == ((), ())
    assert replacement_marks(True, " 576 ") == (("tiktok-replacement",), (("tiktok_replaces_order_id", "576"),))
    assert replacement_marks(True, "") == (("tiktok-replacement",), ())
