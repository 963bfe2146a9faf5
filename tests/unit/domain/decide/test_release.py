"""decide(): the hold on every fulfilment order, the release rule, SKU linking, refunds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from orderbridge.domain.actions import (
    ApproveReturn,
    HoldReason,
    PlaceHold,
    RecordPayment,
    RefundShopify,
    ReleaseHold,
    SwapCustomLine,
    UpdateShopifyAddress,
)
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import (
    ReturnRecord,
    ShopifyFulfillmentOrder,
    ShopifyHold,
    ThreePLView,
)
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.domain.policy import DEFAULT_RETRY_SOON, AutoApprovalExtra, Policy
from tests.unit.domain.factories import (
    MASKED,
    SHOPIFY_ID,
    T0,
    codes,
    first,
    fo,
    fulfilment,
    held_memory,
    kinds,
    minutes,
    observed,
    ok,
    order,
    outcome,
    recipient,
    run,
    sline,
    view,
)


def test_no_fulfilment_orders_yet_retries_within_seconds() -> None:
    m = held_memory(held_fulfillment_order_ids=())
    d = run(m, observed(order(TikTokStatus.UNPAID), view(fulfillment_orders=())))
    assert kinds(d) == []
    # Shopify builds fulfilment orders within a second or two: look again that soon, so an
    # order is never left unheld for long where a shipping tool could pick it up.
    assert d.next_due_at == T0 + DEFAULT_RETRY_SOON
    assert timedelta(seconds=2) >= DEFAULT_RETRY_SOON
    assert d.memory.state is LinkState.CREATED_HELD


def test_hold_placed_on_every_open_fulfilment_order_with_reason() -> None:
    m = held_memory(held_fulfillment_order_ids=())
    fos = (fo("fo1", held=False), fo("fo2", held=False), fo("fo3", held=False, status="CLOSED"))
    d = run(m, observed(order(TikTokStatus.UNPAID), view(fulfillment_orders=fos)))
    hold = first(d, PlaceHold)
    assert hold.fulfillment_order_ids == ("fo1", "fo2")
    assert hold.handle == "orderbridge"
    assert hold.reason is HoldReason.AWAITING_PAYMENT
    assert "TikTok" in hold.notes
    m = ok(d.memory, hold)
    assert m.held_fulfillment_order_ids == ("fo1", "fo2")
    fresh = held_memory(held_fulfillment_order_ids=())
    d = run(fresh, observed(order(TikTokStatus.ON_HOLD), view(fulfillment_orders=fos)))
    assert first(d, PlaceHold).reason is HoldReason.OTHER


def test_later_fulfilment_order_gets_the_hold_too_and_others_holds_are_left() -> None:
    other = (ShopifyHold(id="x", handle="other-app"),)
    fos = (fo("fo1"), fo("fo2", held=False, other_holds=other))
    d = run(held_memory(), observed(order(TikTokStatus.ON_HOLD), view(fulfillment_orders=fos)))
    assert first(d, PlaceHold).fulfillment_order_ids == ("fo2",)


@pytest.mark.parametrize(
    "original",
    [
        fo("fo1"),  # split: the original keeps our hold, the new one has none
        fo("fo1", status="CLOSED"),  # moved: the original is closed, a new one elsewhere
    ],
)
def test_a_split_or_moved_fulfilment_order_is_held_not_taken_for_a_hand_release(
    original: ShopifyFulfillmentOrder,
) -> None:
    fos = (original, fo("fo2", held=False))
    o = order(paid_time=T0 - minutes(30))  # release at T0 + 30 min
    d = run(held_memory(), observed(o, view(fulfillment_orders=fos)))
    assert kinds(d) == ["place_hold"]
    assert first(d, PlaceHold).fulfillment_order_ids == ("fo2",)
    assert "HOLD_RELEASED_BY_HAND" not in codes(d)
    m = ok(d.memory, first(d, PlaceHold))
    assert set(m.held_fulfillment_order_ids) == {"fo1", "fo2"}
    # At the release every fulfilment order carrying our hold is released.
    both = (original, fo("fo2"))
    d = run(m, observed(o, view(fulfillment_orders=both)), now=T0 + minutes(30))
    released = [a.fulfillment_order_id for a in d.actions if isinstance(a, ReleaseHold)]
    assert released == [f.id for f in both if f.is_open and f.holds]


def test_release_waits_for_the_rule_then_address_payment_release_in_order() -> None:
    m = held_memory(first_seen_awaiting_at=T0 - minutes(10))
    o = order(paid_time=T0 - minutes(30))  # paid + 1 h = T0 + 30 min
    d = run(m, observed(o, view()))
    assert kinds(d) == []
    assert d.next_due_at == T0 + minutes(15)
    d = run(m, observed(o, view()), policy=Policy(open_recheck=timedelta(hours=5)))
    assert d.next_due_at == T0 + minutes(30)
    d = run(m, observed(o, view()), now=T0 + minutes(30))
    assert kinds(d) == ["update_shopify_address", "record_payment", "release_hold"]
    address = first(d, UpdateShopifyAddress).address
    assert address.phone == "+14085550142"
    assert address.province_code == "CA"
    assert first(d, RecordPayment).amount == Decimal("10.00")
    assert first(d, RecordPayment).method == "TikTok Shop"
    release = first(d, ReleaseHold)
    assert release.fulfillment_order_id == "fo1"
    assert release.hold_ids == ("h-fo1",)
    m = d.memory
    for action in d.actions:
        m = ok(m, action, at=T0 + minutes(30))
    assert m.state is LinkState.RELEASED
    assert m.released_at == T0 + minutes(30)
    assert m.payment_recorded
    assert m.address_fingerprint


def test_a_refused_address_write_holds_the_release_until_its_retry_succeeds() -> None:
    """Releasing without the address would hand the merchant an order with nowhere to ship
    it, and nothing writes the address after the release (only later changes)."""
    m = held_memory(first_seen_awaiting_at=T0 - minutes(90))
    o = order(paid_time=T0 - minutes(90))
    d = run(m, observed(o, view()))
    address = first(d, UpdateShopifyAddress)
    refused = outcome(d.memory, address, OutcomeStatus.REJECTED, at=T0, message="bad zip")
    d = run(refused, observed(o, view()), now=T0 + minutes(1))
    assert kinds(d) == []
    assert "SHOPIFY_REJECTED" in codes(d)
    assert d.memory.state is LinkState.CREATED_HELD
    assert d.next_due_at is not None
    assert d.next_due_at <= T0 + Policy().rejected_retry
    d = run(refused, observed(o, view()), now=T0 + Policy().rejected_retry)
    assert kinds(d) == ["update_shopify_address", "record_payment", "release_hold"]


@pytest.mark.parametrize(
    ("extra", "due"),
    [
        (AutoApprovalExtra.NONE, 0),
        (AutoApprovalExtra.ONE_HOUR, 60),
        (AutoApprovalExtra.THREE_HOURS, 180),
        (AutoApprovalExtra.FIVE_HOURS, 300),
        (AutoApprovalExtra.UNTIL_READY_TO_SHIP, 0),
    ],
)
def test_auto_approval_extra_delays_the_release(extra: AutoApprovalExtra, due: int) -> None:
    m = held_memory(first_seen_awaiting_at=T0)
    policy = Policy(auto_approval_extra=extra)
    before = run(m, observed(order(), view()), now=T0 + minutes(due) - minutes(1), policy=policy)
    assert "release_hold" not in kinds(before)
    at = run(m, observed(order(), view()), now=T0 + minutes(due), policy=policy)
    assert "release_hold" in kinds(at)


def test_no_release_before_awaiting_shipment() -> None:
    m = held_memory(first_seen_awaiting_at=None)
    d = run(m, observed(order(TikTokStatus.ON_HOLD), view()), now=T0 + timedelta(days=2))
    assert kinds(d) == []


def test_zero_order_skips_payment_and_paid_order_is_noticed() -> None:
    o = order(is_sample_order=True)
    o = replace(o, payment=replace(o.payment, total_amount=Decimal(0)))
    d = run(held_memory(), observed(o, view()))
    assert kinds(d) == ["update_shopify_address", "release_hold"]
    d = run(held_memory(), observed(order(), view(financial_status="PAID")))
    assert kinds(d) == ["update_shopify_address", "release_hold"]
    assert d.memory.payment_recorded


def test_bad_phone_is_dropped_with_a_warning() -> None:
    d = run(held_memory(), observed(order(recipient=recipient(phone="12")), view()))
    assert first(d, UpdateShopifyAddress).address.phone is None
    assert "INVALID_PHONE" in codes(d)
    assert "release_hold" in kinds(d)


def test_masked_recipient_retried_then_raised() -> None:
    o = order(recipient=MASKED)
    d = run(held_memory(), observed(o, view()))
    assert kinds(d) == []
    assert d.memory.masked_since == T0
    assert d.next_due_at == T0 + minutes(5)
    later = T0 + timedelta(hours=2)
    d = run(d.memory, observed(o, view()), now=later)
    assert "MASKED_RECIPIENT" in codes(d)
    assert kinds(d) == []
    d = run(d.memory, observed(order(), view()), now=later)
    assert d.memory.masked_since is None
    assert "release_hold" in kinds(d)


def test_unsupported_or_invalid_address_at_release_keeps_hold() -> None:
    pr = order(recipient=recipient(state="Puerto Rico", postal_code="00901", region_code=""))
    d = run(
        held_memory(), observed(replace(pr, recipient=replace(pr.recipient, state="PR")), view())
    )
    assert "UNSUPPORTED_DESTINATION" in codes(d)
    d = run(held_memory(), observed(order(recipient=recipient(address_line1="")), view()))
    assert "INVALID_ADDRESS" in codes(d)
    assert kinds(d) == []


def test_exception_at_release_never_stops_the_hold_being_placed() -> None:
    """Created, never held (a crash between create and hold), seen again after the hour.

    Whatever keeps the order from being released (a territory, a bad or masked address, an
    unlinked SKU), the open fulfilment order must still get our hold: an exception never
    stops a protective action.
    """
    unheld = held_memory(held_fulfillment_order_ids=())
    pr = order(recipient=recipient(state="PR", postal_code="00901", region_code="US"))
    no_street = order(recipient=recipient(address_line1=""))
    masked = order(recipient=MASKED)
    for o in (pr, no_street, masked):
        d = run(unheld, observed(o, view(fulfillment_orders=(fo(held=False),))))
        assert kinds(d) == ["place_hold"], o.recipient
        assert first(d, PlaceHold).fulfillment_order_ids == ("fo1",)
    d = run(unheld, observed(pr, view(fulfillment_orders=(fo(held=False),))))
    assert "UNSUPPORTED_DESTINATION" in codes(d)
    assert d.memory.state is LinkState.CREATED_HELD
    # Unlinked SKU past the hour: the hold first, the SKU exception alongside.
    custom = view(line_items=(sline(variant=False),), fulfillment_orders=(fo(held=False),))
    d = run(unheld, observed(order(), custom, skus={}))
    assert kinds(d) == ["place_hold"]
    assert "UNMAPPED_SKU" in codes(d)
    # Once held, a territory order stays held and nothing more is sent.
    d = run(held_memory(), observed(pr, view()))
    assert kinds(d) == []


def test_unmapped_sku_keeps_hold_until_linked_then_swaps_and_proceeds() -> None:
    custom = view(line_items=(sline(variant=False),))
    d = run(held_memory(), observed(order(), custom, skus={}))
    assert kinds(d) == []
    assert "UNMAPPED_SKU" in codes(d)
    d = run(held_memory(), observed(order(), custom))
    swap = first(d, SwapCustomLine)
    assert kinds(d) == ["swap_custom_line"]
    assert swap.variant_id == "v-sku-a"
    assert swap.custom_line_item_id == "SL1"
    assert swap.quantity == 1
    swapped = view(line_items=(sline(variant=False, current=0), sline("SL2")))
    d = run(held_memory(), observed(order(), swapped))
    assert "release_hold" in kinds(d)
    assert "UNMAPPED_SKU" in {c.value for c in d.resolved}


def test_a_custom_line_kept_for_its_price_does_not_block_the_release() -> None:
    custom = view(line_items=(sline(variant=False),))
    swap = first(run(held_memory(), observed(order(), custom)), SwapCustomLine)
    kept = Outcome(status=OutcomeStatus.SUCCESS, at=T0, ids={"kept_custom_line": swap.custom_line_item_id})
    memory = apply_outcome(held_memory(), swap, kept)
    assert memory.custom_lines_kept == ("SL1",)
    assert apply_outcome(memory, swap, kept).custom_lines_kept == ("SL1",)
    assert LinkMemory.from_json(memory.to_json()).custom_lines_kept == ("SL1",)
    d = run(memory, observed(order(), custom))
    assert "swap_custom_line" not in kinds(d)
    assert "release_hold" in kinds(d)
    warning = next(i for i in d.issues if i.code == "CUSTOM_LINE_KEPT")
    assert warning.severity == "warning"
    assert "costs less" in warning.message
    assert "would change the Shopify total" in warning.message
    assert "UNMAPPED_SKU" not in codes(d)
    # Unlinked again: the kept line is an unmapped SKU once more, and blocks.
    d = run(memory, observed(order(), custom, skus={}))
    assert "UNMAPPED_SKU" in codes(d)
    assert "release_hold" not in kinds(d)
    # A plain swap success records nothing.
    done = Outcome(status=OutcomeStatus.SUCCESS, at=T0)
    assert apply_outcome(held_memory(), swap, done).custom_lines_kept == ()


def test_unmapped_sku_new_fulfilment_order_gets_held_past_due() -> None:
    custom = view(line_items=(sline(variant=False),), fulfillment_orders=(fo(held=False),))
    d = run(held_memory(held_fulfillment_order_ids=()), observed(order(), custom, skus={}))
    assert kinds(d) == ["place_hold"]


def test_hold_released_by_hand_is_respected_and_reported() -> None:
    released = view(fulfillment_orders=(fo(held=False),))
    d = run(held_memory(), observed(order(TikTokStatus.ON_HOLD), released))
    assert kinds(d) == []
    assert d.memory.hold_released_by_hand
    issue = next(i for i in d.issues if i.code == "HOLD_RELEASED_BY_HAND")
    assert issue.severity == "warning"
    # At the due time: address and payment, no release; then RELEASED.
    m = replace(d.memory, first_seen_awaiting_at=T0 - minutes(10))
    d = run(m, observed(order(), released))
    assert kinds(d) == ["update_shopify_address", "record_payment"]
    for action in d.actions:
        m = ok(m, action)
    d = run(m, observed(order(), released))
    assert kinds(d) == []
    assert d.memory.state is LinkState.RELEASED


def test_release_unknown_outcome_is_not_mistaken_for_a_hand_release() -> None:
    d = run(held_memory(), observed(order(), view()))
    m = d.memory
    for action in d.actions:
        status = OutcomeStatus.UNKNOWN if isinstance(action, ReleaseHold) else OutcomeStatus.SUCCESS
        m = outcome(m, action, status)
    assert m.state is LinkState.CREATED_HELD
    gone = view(fulfillment_orders=(fo(held=False),))
    d = run(m, observed(order(), gone))
    assert not d.memory.hold_released_by_hand
    assert d.memory.state is LinkState.RELEASED
    # Still held after an unknown release: released again.
    d = run(m, observed(order(), view()))
    assert kinds(d) == ["release_hold"]


def test_address_change_after_release_updates_or_is_raised_after_ship() -> None:
    d = run(held_memory(), observed(order(), view()))
    m = held_memory()
    for action in d.actions:
        m = ok(m, action)
    moved = order(recipient=recipient(address_line1="9 Elm St"))
    d = run(m, observed(moved, view(fulfillment_orders=(fo(held=False),))))
    assert kinds(d) == ["update_shopify_address"]
    shipped = view(fulfillment_orders=(fo(held=False),), fulfillments=(fulfilment(),))
    d = run(m, observed(moved, shipped, providers={}))
    assert "ADDRESS_CHANGED_AFTER_SHIP" in codes(d)
    assert kinds(run(m, observed(order(), shipped))) == ["push_tracking"]


def test_payment_after_release_when_created_released() -> None:
    m = held_memory(state=LinkState.RELEASED, released_at=T0)
    d = run(m, observed(order(), view(fulfillment_orders=(fo(held=False),))))
    assert kinds(d) == ["record_payment"]
    assert first(d, RecordPayment).shopify_order_id == SHOPIFY_ID


def test_completed_refund_is_mirrored_once_and_tags_and_notes() -> None:
    m = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    refund = ReturnRecord(
        return_id="R1",
        refunded=True,
        line_item_ids=("L1",),
        refund_shipping=Decimal("1.50"),
        refund_total=Decimal("27.26"),
        received=True,
    )
    o = order(TikTokStatus.IN_TRANSIT, delivery_time=None)
    policy = Policy(status_tags=True)
    threepl = ThreePLView(order_id="3pl-1", shipped_without_tracking=True)
    v = view(fulfillment_orders=(fo(held=False, status="CLOSED"),))
    d = run(
        m,
        observed(o, v, returns=(refund, ReturnRecord(return_id="R2")), threepl=threepl),
        policy=policy,
    )
    assert kinds(d) == ["refund_shopify", "add_tags", "record_note"]
    action = d.actions[0]
    assert action.line_items == (("SL1", 1),)
    assert action.restock
    assert action.idempotency_key == "tiktok-refund-R1"
    assert action.amount == Decimal("27.26")
    m2 = d.memory
    for a in d.actions:
        m2 = ok(m2, a)
    tagged = replace(v, tags=("tiktok-in-transit",))
    again = run(m2, observed(o, tagged, returns=(refund,), threepl=threepl), policy=policy)
    assert again.actions == ()


def test_after_delivery_slow_recheck_until_90_days_then_done() -> None:
    m = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    delivered = order(TikTokStatus.DELIVERED, delivery_time=T0)
    v = view(fulfillment_orders=(fo(held=False, status="CLOSED"),))
    d = run(m, observed(delivered, v))
    assert d.next_due_at == T0 + timedelta(days=1)
    d = run(m, observed(delivered, v), now=T0 + timedelta(days=89, hours=23))
    assert d.next_due_at == T0 + timedelta(days=90)
    d = run(m, observed(delivered, v), now=T0 + timedelta(days=90))
    assert d.memory.state is LinkState.DONE
    assert d.next_due_at is None


def test_a_swap_carries_the_custom_lines_channel_tax_and_raises_no_mismatch() -> None:
    taxed = order(units=("sku-a", "sku-a"))
    taxed = replace(
        taxed, line_items=tuple(replace(li, tax=Decimal("0.73")) for li in taxed.line_items),
        payment=replace(taxed.payment, product_tax=Decimal("1.46"), tax=Decimal("1.46"),
                        total_amount=Decimal("21.46")),
    )
    custom = view(line_items=(sline(qty=2, variant=False),))
    swap = first(run(held_memory(), observed(taxed, custom)), SwapCustomLine)
    assert (swap.quantity, swap.channel_tax) == (2, Decimal("1.46"))  # the tax of both units
    # A unit already removed from the custom line took its share of the tax with it.
    one_left = view(line_items=(sline(qty=2, variant=False, current=1),))
    swap = first(run(held_memory(), observed(taxed, one_left)), SwapCustomLine)
    assert (swap.quantity, swap.channel_tax) == (1, Decimal("0.73"))
    # Untaxed units: nothing to carry.
    assert first(run(held_memory(), observed(order(), view(line_items=(sline(variant=False),)))),
                 SwapCustomLine).channel_tax == 0
    # Swapped (the edit kept the total): no TOTALS_MISMATCH, and the release goes ahead.
    variant_line = replace(sline("SL2", qty=2), tiktok_sku_id="")
    swapped = view(line_items=(sline(qty=2, variant=False, current=0), variant_line))
    d = run(held_memory(), observed(taxed, swapped))
    assert "TOTALS_MISMATCH" not in codes(d)
    assert "release_hold" in kinds(d)


def _refund_only(**kw: object) -> ReturnRecord:
    return ReturnRecord(return_id="R9", type="REFUND", status="RETURN_OR_REFUND_REQUEST_COMPLETE",
                        refunded=True, line_item_ids=("L1",), refund_total=Decimal("10.00"), **kw)  # type: ignore[arg-type]


def test_refund_of_a_never_fulfilled_unit_cancels_it_back_into_stock() -> None:
    m = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    o = order(TikTokStatus.IN_TRANSIT, delivery_time=None)
    d = run(m, observed(o, view(fulfillments=()), returns=(_refund_only(),)))
    action = first(d, RefundShopify)
    assert (action.line_items, action.restock_types, action.restock) == ((("SL1", 1),), ("CANCEL",), True)
    assert action.idempotency_key == "tiktok-refund-R9-return_or_refund_request_complete"


def test_refund_only_of_a_shipped_unit_keeps_the_stock_even_read_blind() -> None:
    m = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    o = order(TikTokStatus.IN_TRANSIT, delivery_time=None)
    for shipped in (fulfilment(), fulfilment(lines=())):
        d = run(m, observed(o, view(fulfillments=(shipped,)), returns=(_refund_only(),)))
        action = first(d, RefundShopify)
        assert (action.restock_types, action.restock) == (("NO_RESTOCK",), False)


def test_policy_approves_small_refund_only_requests_once() -> None:
    m = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    o = order(TikTokStatus.DELIVERED, delivery_time=T0)
    small = ReturnRecord(return_id="R7", type="REFUND", status="RETURN_OR_REFUND_REQUEST_PENDING",
                         refund_total=Decimal("12.00"), line_item_ids=("L1",))
    big = replace(small, return_id="R8", refund_total=Decimal("80.00"))
    policy = Policy(auto_approve_refunds_under=Decimal("20"))
    d = run(m, observed(o, view(fulfillments=(fulfilment(),)), returns=(small, big)), policy=policy)
    [action] = [x for x in d.actions if isinstance(x, ApproveReturn)]
    assert (action.return_id, action.decision) == ("R7", "APPROVE_REFUND")
    m2 = ok(d.memory, action)
    d2 = run(m2, observed(o, view(fulfillments=(fulfilment(),)), returns=(small, big)), policy=policy)
    assert not [x for x in d2.actions if isinstance(x, ApproveReturn)]
    assert not [x for x in run(m, observed(o, view(), returns=(small,))).actions if isinstance(x, ApproveReturn)]
