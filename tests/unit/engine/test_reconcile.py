"""The order page's money check and timer, read from a link's stored snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from orderbridge.adapters.db.events import EventRow
from orderbridge.adapters.db.links import LinkRow
from orderbridge.engine.reconcile import pending_timer, reconcile
from tests.unit.tiktok.test_translate import DOC_ORDER

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _bag(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def _link(**changes: Any) -> LinkRow:
    values: dict[str, Any] = {
        "id": 1, "connection_id": 1, "tiktok_order_id": DOC_ORDER["id"], "shopify_order_id": None,
        "shopify_order_name": None, "state": "released", "tiktok_status": "AWAITING_SHIPMENT", "memory": {},
        "tiktok_snapshot": None, "shopify_snapshot": None, "next_due_at": None, "lease_owner": None,
        "lease_expires_at": None, "version": 1, "attempts": 0, "last_error": None, "priority": 100,
        "first_seen_at": NOW, "created_at": NOW, "updated_at": NOW}
    return LinkRow(**{**values, **changes})


def _shopify(total: str | None, outstanding: str | None, *, original: str | None = None) -> dict[str, Any]:
    snap: dict[str, Any] = {"id": "gid://shopify/Order/1", "name": "#1001"}
    if total is not None:
        snap["currentTotalPriceSet"] = _bag(total)
    if original is not None:
        snap["totalPriceSet"] = _bag(original)
    if outstanding is not None:
        snap["totalOutstandingSet"] = _bag(outstanding)
    return snap


def _paid() -> str:
    return str(DOC_ORDER["payment"]["total_amount"])


def test_a_mirrored_and_paid_order_balances_to_the_cent() -> None:
    check = reconcile(_link(tiktok_snapshot=DOC_ORDER, shopify_snapshot=_shopify(_paid(), "0.00")))
    assert check.tiktok_total is not None
    assert check.tiktok_total == check.shopify_total == check.recorded
    assert check.balanced is True


def test_a_cent_more_on_shopify_and_an_unpaid_order_show_their_gaps() -> None:
    paid = reconcile(_link(tiktok_snapshot=DOC_ORDER, shopify_snapshot=_shopify(_paid(), _paid())))
    assert paid.payment_gap is not None
    assert paid.payment_gap < 0  # nothing recorded yet: the whole amount is outstanding
    assert paid.balanced is False
    cents = reconcile(_link(tiktok_snapshot=DOC_ORDER, shopify_snapshot=_shopify(
        str(Decimal(_paid()) + Decimal("0.01")), "0.00")))
    assert cents.shopify_gap == 1


def test_the_original_total_stands_in_and_refunded_to_zero_stays_zero() -> None:
    original = reconcile(_link(tiktok_snapshot=DOC_ORDER, shopify_snapshot=_shopify(None, "0.00", original=_paid())))
    assert original.shopify_total == original.tiktok_total
    zero = reconcile(_link(tiktok_snapshot=DOC_ORDER, shopify_snapshot=_shopify("0.00", "0.00", original=_paid())))
    assert zero.shopify_total == 0  # the current total wins, even at zero


def test_missing_or_unreadable_snapshots_leave_amounts_unknown() -> None:
    nothing = reconcile(_link())
    assert (nothing.tiktok_total, nothing.shopify_total, nothing.recorded, nothing.balanced) == (None, None, None, None)
    broken = reconcile(_link(tiktok_snapshot={**DOC_ORDER, "payment": {"total_amount": "a lot"}},
                             shopify_snapshot={"name": ["not", "a", "name"]}))
    assert (broken.tiktok_total, broken.shopify_total, broken.recorded) == (None, None, None)
    no_outstanding = reconcile(_link(shopify_snapshot=_shopify("10.00", None)))
    assert (no_outstanding.shopify_total, no_outstanding.recorded) == (1000, None)


def _event(kind: str, summary: str) -> EventRow:
    return EventRow(id=1, link_id=1, connection_id=1, at=NOW, kind=kind, summary=summary, data=None,
                    remote_request_id=None, duration_ms=None)


def test_the_timer_says_when_and_why() -> None:
    due = NOW + timedelta(minutes=10)
    events = [_event("decision", "new -> creating"), _event("api_call", "shopify OrderCreate: ok"),
              _event("decision", "created_held -> created_held: wait for the hold to end")]
    timer = pending_timer(_link(next_due_at=due, memory={"payment_recorded": True}), events, NOW)
    assert (timer.due_at, timer.why, timer.leased_by, timer.payment_recorded) == (
        due, "created_held -> created_held: wait for the hold to end", None, True)
    first = pending_timer(_link(next_due_at=due), [], NOW)
    assert first.why == "first look at the order"
    done = pending_timer(_link(), events, NOW)
    assert done.due_at is None
    assert done.why.startswith("nothing pending")
    leased = pending_timer(_link(next_due_at=due, lease_owner="worker-1", lease_expires_at=NOW + timedelta(seconds=30)),
                           events, NOW)
    assert leased.leased_by == "worker-1"
    expired = pending_timer(_link(next_due_at=due, lease_owner="worker-1", lease_expires_at=NOW), events, NOW)
    assert expired.leased_by is None
    unreadable = pending_timer(_link(next_due_at=due, memory={"packages": [{"tracking_number": "x"}]}), events, NOW)
    assert unreadable.payment_recorded is False  # the page still shows
