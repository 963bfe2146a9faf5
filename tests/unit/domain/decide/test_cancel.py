"""decide(): TikTok cancellations, partial ones, the merchant's, and the buyer's desk."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orderbridge.domain.actions import (
    ApproveCancellation,
    CancelOnTikTok,
    CancelShopifyOrder,
    CancelThreePLOrder,
    RemoveUnits,
    RequestFulfillmentServiceCancel,
    ShopifyCancelReason,
)
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import (
    Cancellation,
    CancellationStatus,
    CancellationType,
    ThreePLView,
)
from orderbridge.domain.order import LineItem, TikTokStatus
from orderbridge.domain.outcome import OutcomeStatus
from orderbridge.domain.policy import Policy
from tests.unit.domain.factories import (
    SHOPIFY_ID,
    T0,
    buyer_request,
    codes,
    first,
    fo,
    fulfilment,
    held_memory,
    kinds,
    observed,
    ok,
    order,
    outcome,
    run,
    sline,
    view,
)

CANCELLED = order(TikTokStatus.CANCELLED, cancellation_initiator="BUYER", cancel_reason="No need")


def _record(
    role: str, reason: str, kind: CancellationType = CancellationType.CANCEL
) -> Cancellation:
    return Cancellation(
        cancel_id="X1", type=kind, status=CancellationStatus.COMPLETE, role=role, reason=reason
    )


def test_tiktok_cancel_cancels_shopify_with_restock_and_waits_for_the_job() -> None:
    d = run(held_memory(), observed(CANCELLED, view()))
    cancel = first(d, CancelShopifyOrder)
    assert kinds(d) == ["cancel_shopify_order"]
    assert cancel.reason is ShopifyCancelReason.CUSTOMER
    assert cancel.restock
    assert not cancel.notify_customer
    assert not cancel.refund
    assert "No need" in cancel.staff_note
    m = ok(d.memory, cancel)
    assert m.state is LinkState.CANCELLING
    # The job is running: wait, never "cancelled" yet.
    d = run(m, observed(CANCELLED, view(cancel_job_pending=True)))
    assert kinds(d) == []
    assert d.memory.state is LinkState.CANCELLING
    # Nothing visible yet: wait a little, then send again (idempotent remote check).
    assert kinds(run(m, observed(CANCELLED, view()), now=T0 + timedelta(seconds=10))) == []
    assert kinds(run(m, observed(CANCELLED, view()), now=T0 + timedelta(seconds=30))) == [
        "cancel_shopify_order"
    ]
    d = run(m, observed(CANCELLED, view(cancelled_at=T0)))
    assert kinds(d) == []
    assert d.memory.state is LinkState.CANCELLED
    assert d.next_due_at is None
    assert "SHOPIFY_CANCELLED" not in codes(d)


def test_cancel_unknown_outcome_is_cancelling() -> None:
    d = run(held_memory(), observed(CANCELLED, view()))
    m = outcome(d.memory, first(d, CancelShopifyOrder), OutcomeStatus.UNKNOWN)
    assert m.state is LinkState.CANCELLING
    assert m.cancel_sent_at == T0


@pytest.mark.parametrize(
    ("record", "paid", "expected"),
    [
        (_record("SYSTEM", "risk_control_fraud"), True, ShopifyCancelReason.FRAUD),
        (_record("BUYER", "changed_mind"), True, ShopifyCancelReason.CUSTOMER),
        (_record("SYSTEM", "pay_timeout"), False, ShopifyCancelReason.DECLINED),
        (_record("SELLER", "seller_cancel_reason_out_of_stock"), True, ShopifyCancelReason.OTHER),
        (None, True, ShopifyCancelReason.OTHER),
    ],
)
def test_cancel_reason_mapping(
    record: Cancellation | None, paid: bool, expected: ShopifyCancelReason
) -> None:
    o = order(TikTokStatus.CANCELLED, paid_time=T0 if paid else None)
    cancellations = (record,) if record else ()
    d = run(held_memory(), observed(o, view(), cancellations=cancellations))
    assert first(d, CancelShopifyOrder).reason is expected


def test_fulfilled_but_cancelled_is_raised_not_cancelled() -> None:
    d = run(held_memory(), observed(CANCELLED, view(fulfillments=(fulfilment(),))))
    assert kinds(d) == []
    assert "FULFILLED_BUT_CANCELLED" in codes(d)


def test_fulfilment_service_is_asked_first() -> None:
    fs = view(fulfillment_orders=(fo(held=False, status="IN_PROGRESS", service=True),))
    d = run(held_memory(), observed(CANCELLED, fs))
    assert kinds(d) == ["request_fulfillment_service_cancel"]
    m = ok(d.memory, first(d, RequestFulfillmentServiceCancel))
    assert kinds(run(m, observed(CANCELLED, fs), now=T0 + timedelta(minutes=5))) == []
    assert kinds(run(m, observed(CANCELLED, fs), now=T0 + timedelta(hours=1))) == [
        "cancel_shopify_order"
    ]
    accepted = view(fulfillment_orders=(fo(held=False, status="CANCELLED", service=True),))
    assert kinds(run(m, observed(CANCELLED, accepted))) == ["cancel_shopify_order"]


def test_partial_cancellation_removes_units_with_restock() -> None:
    units = ("sku-a", "sku-a", "sku-b")
    o = order(units=units)
    lines = list(o.line_items)
    lines[1] = replace(lines[1], display_status="CANCELLED")
    o = replace(o, line_items=tuple(lines))
    v = view(line_items=(sline("SL1", "sku-a", 2), sline("SL2", "sku-b", 1)))
    d = run(held_memory(), observed(o, v))
    remove = first(d, RemoveUnits)
    assert (remove.line_item_id, remove.quantity, remove.tiktok_line_ids) == ("SL1", 1, ("L2",))
    assert remove.restock
    assert "cancel_shopify_order" not in kinds(d)
    m = ok(d.memory, remove)
    assert m.removed_line_ids == ("L2",)
    edited = view(line_items=(sline("SL1", "sku-a", 2, current=1), sline("SL2", "sku-b", 1)))
    assert "remove_units" not in kinds(run(m, observed(o, edited)))
    # Crash after the edit, before recording: the remote state shows it done.
    d = run(held_memory(), observed(o, edited))
    assert "remove_units" not in kinds(d)
    assert d.memory.removed_line_ids == ("L2",)


def test_all_units_cancelled_is_a_whole_cancel() -> None:
    o = order(units=("sku-a",))
    o = replace(o, line_items=(replace(o.line_items[0], package_status="CANCELLED"),))
    assert kinds(run(held_memory(), observed(o, view()))) == ["cancel_shopify_order"]


def test_merchant_cancel_without_request_raises_shopify_cancelled() -> None:
    d = run(held_memory(), observed(order(), view(cancelled_at=T0)))
    assert kinds(d) == []
    assert d.memory.state is LinkState.CANCELLED
    issue = next(i for i in d.issues if i.code == "SHOPIFY_CANCELLED")
    assert [a.value for a in issue.actions] == ["cancel_on_tiktok", "dismiss"]
    # A person chose to cancel on TikTok too.
    m = d.memory.request_tiktok_cancel("seller_cancel_reason_out_of_stock")
    d = run(m, observed(order(), view(cancelled_at=T0)))
    action = first(d, CancelOnTikTok)
    assert action.reason == "seller_cancel_reason_out_of_stock"
    m = ok(d.memory, action)
    d = run(m, observed(order(), view(cancelled_at=T0)))
    assert kinds(d) == []
    assert "SHOPIFY_CANCELLED" not in codes(d)
    # Or dismissed it.
    d = run(held_memory().dismiss("SHOPIFY_CANCELLED"), observed(order(), view(cancelled_at=T0)))
    assert "SHOPIFY_CANCELLED" not in codes(d)


def test_merchant_cancel_with_pending_request_approves_it() -> None:
    d = run(
        held_memory(), observed(order(), view(cancelled_at=T0), cancellations=(buyer_request(),))
    )
    approve = first(d, ApproveCancellation)
    assert approve.cancel_id == "C1"
    assert approve.idempotency_key == "C1"
    m = ok(d.memory, approve)
    d = run(m, observed(order(), view(cancelled_at=T0), cancellations=(buyer_request(),)))
    assert kinds(d) == []
    assert "SHOPIFY_CANCELLED" not in codes(d)


def test_desk_auto_approve_stops_goods_then_approves() -> None:
    requests = (buyer_request(),)
    d = run(held_memory(), observed(order(), view(), cancellations=requests))
    assert kinds(d) == ["cancel_shopify_order"]
    assert first(d, CancelShopifyOrder).reason is ShopifyCancelReason.CUSTOMER
    m = ok(d.memory, first(d, CancelShopifyOrder))
    d = run(m, observed(order(), view(cancel_job_pending=True), cancellations=requests))
    assert kinds(d) == []
    d = run(m, observed(order(), view(cancelled_at=T0), cancellations=requests))
    assert kinds(d) == ["approve_cancellation"]


def test_desk_with_3pl_cancels_there_first() -> None:
    requests = (buyer_request(),)
    open_3pl = ThreePLView(order_id="mcf-1", status="RECEIVED")
    d = run(held_memory(), observed(order(), view(), cancellations=requests, threepl=open_3pl))
    assert kinds(d) == ["cancel_threepl_order"]
    assert ok(d.memory, first(d, CancelThreePLOrder)).threepl_cancel_requested
    done_3pl = replace(open_3pl, cancelled=True, cancellable=False)
    d = run(held_memory(), observed(order(), view(), cancellations=requests, threepl=done_3pl))
    assert kinds(d) == ["cancel_shopify_order"]
    # Merchant cancelled in Shopify but the 3PL is not cancelled yet: 3PL first, then approve.
    d = run(
        held_memory(),
        observed(order(), view(cancelled_at=T0), cancellations=requests, threepl=open_3pl),
    )
    assert kinds(d) == ["cancel_threepl_order"]
    d = run(
        held_memory(),
        observed(order(), view(cancelled_at=T0), cancellations=requests, threepl=done_3pl),
    )
    assert kinds(d) == ["approve_cancellation"]


def test_desk_cannot_stop_goods_leaves_request_pending() -> None:
    requests = (buyer_request(),)
    picked = ThreePLView(order_id="sb-1", status="Picked", cancellable=False)
    d = run(held_memory(), observed(order(), view(), cancellations=requests, threepl=picked))
    assert "CANCEL_REQUEST_BLOCKED" in codes(d)
    assert not any(isinstance(a, ApproveCancellation | CancelShopifyOrder) for a in d.actions)
    issue = next(i for i in d.issues if i.code == "CANCEL_REQUEST_BLOCKED")
    assert "ship_now" in [a.value for a in issue.actions]
    assert issue.data["deadline"]
    shipped = view(fulfillments=(fulfilment(),), fulfillment_orders=(fo(held=False),))
    d = run(
        held_memory(state=LinkState.RELEASED), observed(order(), shipped, cancellations=requests)
    )
    assert "CANCEL_REQUEST_BLOCKED" in codes(d)
    assert "push_tracking" in kinds(d)
    # Merchant cancelled but Shopify had shipped: never approve.
    d = run(
        held_memory(), observed(order(), replace(shipped, cancelled_at=T0), cancellations=requests)
    )
    assert kinds(d) == []
    assert "CANCEL_REQUEST_BLOCKED" in codes(d)
    d = run(
        held_memory(),
        observed(order(), view(cancelled_at=T0), cancellations=requests, threepl=picked),
    )
    assert kinds(d) == []
    assert "CANCEL_REQUEST_BLOCKED" in codes(d)


def test_desk_without_auto_approve_waits_for_a_person() -> None:
    requests = (buyer_request(),)
    policy = Policy(auto_approve_cancellations=False, open_recheck=timedelta(days=5))
    d = run(held_memory(), observed(order(), view(), cancellations=requests), policy=policy)
    assert "CANCEL_REQUEST_PENDING" in codes(d)
    assert "cancel_shopify_order" not in kinds(d)
    assert "release_hold" in kinds(d)  # the merchant may ship: that rejects the request
    m = held_memory().approve_cancellation("C1")
    d = run(m, observed(order(), view(), cancellations=requests), policy=policy)
    assert kinds(d) == ["cancel_shopify_order"]


def test_request_withdrawn_or_approved_is_ignored() -> None:
    withdrawn = buyer_request(status=CancellationStatus.WITHDRAWN)
    d = run(held_memory(), observed(order(), view(), cancellations=(withdrawn,)))
    assert "cancel_shopify_order" not in kinds(d)


def test_cancelled_line_of_a_whole_cancel_record_with_order_open() -> None:
    o = order(units=("sku-a", "sku-b"))
    record = Cancellation(
        cancel_id="X",
        type=CancellationType.CANCEL,
        status=CancellationStatus.SUCCESS,
        line_item_ids=("L1", "L2"),
    )
    d = run(
        held_memory(),
        observed(o, view(line_items=(sline(), sline("SL2", "sku-b"))), cancellations=(record,)),
    )
    assert kinds(d) == ["cancel_shopify_order"]


def test_extra_units_of_unknown_lines_are_ignored() -> None:
    o = order()
    o = replace(
        o, line_items=(*o.line_items, LineItem(id="L9", sku_id="zzz", display_status="CANCELLED"))
    )
    d = run(held_memory(), observed(o, view()))
    assert "remove_units" not in kinds(d)
    assert SHOPIFY_ID
