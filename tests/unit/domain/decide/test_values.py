"""The value types around decide(): issues, statuses, small rules at the edges."""

from __future__ import annotations

import pytest

from orderbridge.domain.actions import CreateShopifyOrder, PushTracking
from orderbridge.domain.decide.common import Ctx
from orderbridge.domain.exceptions import ExceptionCode, Issue, Severity, severity_of
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import CancellationStatus, parse_cancellation_status
from orderbridge.domain.policy import Policy
from tests.unit.domain.factories import (
    T0,
    UPS,
    first,
    fo,
    fulfilment,
    held_memory,
    kinds,
    minutes,
    observed,
    ok,
    order,
    run,
    sline,
    view,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CANCELLATION_REQUEST_PENDING", CancellationStatus.PENDING),
        ("CANCELLATION_REQUEST_SUCCESS", CancellationStatus.SUCCESS),
        ("CANCELLATION_REQUEST_CANCEL", CancellationStatus.WITHDRAWN),
        ("cancellation_request_cancelled", CancellationStatus.WITHDRAWN),
        ("CANCELLATION_REQUEST_COMPLETE", CancellationStatus.COMPLETE),
        ("SOMETHING_NEW", CancellationStatus.UNKNOWN),
    ],
)
def test_cancellation_status_spellings(raw: str, expected: CancellationStatus) -> None:
    assert parse_cancellation_status(raw) is expected


def test_severities_and_issue_defaults() -> None:
    assert severity_of(ExceptionCode.TOTALS_MISMATCH) is Severity.WARNING
    assert severity_of(ExceptionCode.TIKTOK_SHIPPED) is Severity.INFO
    assert severity_of(ExceptionCode.UNMAPPED_SKU) is Severity.ERROR
    issue = Issue(code=ExceptionCode.NO_TRACKING, message="x")
    assert dict(issue.data) == {}
    assert issue.severity is Severity.ERROR
    assert [a.value for a in issue.actions] == ["dismiss"]


def test_every_code_has_a_comment_value_pair() -> None:
    assert {c.value for c in ExceptionCode} >= {
        "UNMAPPED_SKU", "AMBIGUOUS_SKU", "TIKTOK_SHIPPED", "MASKED_RECIPIENT",
        "UNSUPPORTED_DESTINATION", "UNSUPPORTED_CARRIER", "INVALID_TRACKING", "NO_TRACKING",
        "TOTALS_MISMATCH", "SHOPIFY_REJECTED", "TIKTOK_REJECTED", "AUTH_EXPIRED",
        "MISSING_SCOPES", "FULFILLED_BUT_CANCELLED", "SHOPIFY_CANCELLED", "SHOPIFY_ORDER_GONE",
        "HOLD_RELEASED_BY_HAND", "TRACKING_LOCKED", "UNKNOWN_STATUS",
    }  # fmt: skip


def test_engine_codes_are_never_resolved_by_decide() -> None:
    d = run(held_memory(), observed(order(), view()))
    resolved = {c.value for c in d.resolved}
    assert "AUTH_EXPIRED" not in resolved
    assert "MISSING_SCOPES" not in resolved
    assert "UNMAPPED_SKU" in resolved


def test_unpaid_straight_to_awaiting_shipment_releases_from_first_sight() -> None:
    m = held_memory(first_seen_awaiting_at=None)
    direct = order(paid_time=None)
    d = run(m, observed(direct, view()))
    assert d.memory.first_seen_awaiting_at == T0
    assert "release_hold" in kinds(d)


def test_non_relay_email_is_not_tagged() -> None:
    d = run(
        held_memory(shopify_order_id=None, state=LinkState.NEW),
        observed(order(buyer_email="someone@example.com")),
    )
    assert "tiktok-relay-email" not in first(d, CreateShopifyOrder).tags


def test_tracking_removed_after_push_is_left_alone() -> None:
    released = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    v = view(fulfillment_orders=(fo(held=False),), fulfillments=(fulfilment(),))
    d = run(released, observed(order(), v))
    m = ok(d.memory, first(d, PushTracking))
    removed = view(fulfillment_orders=(fo(held=False),), fulfillments=(fulfilment(numbers=()),))
    d = run(m, observed(order(), removed))
    assert kinds(d) == []
    assert "NO_TRACKING" not in {i.code.value for i in d.issues}


def test_same_issue_twice_is_one_issue_and_repeated_actions_are_one() -> None:
    released = held_memory(state=LinkState.RELEASED, payment_recorded=True)
    two = view(
        line_items=(sline("SL1", "sku-a", 2),),
        fulfillment_orders=(fo(held=False),),
        fulfillments=(
            fulfilment("F1", numbers=(), lines=(("SL1", 1),)),
            fulfilment("F2", numbers=(UPS[1],), lines=(("SL1", 1),)),
            fulfilment("F3", numbers=(UPS[2],), lines=(("SL1", 1),)),
        ),
    )
    d = run(released, observed(order(units=("sku-a", "sku-a", "sku-a")), two, providers={}))
    assert kinds(d) == ["fetch_shipping_providers"]
    assert sum(i.code.value == "NO_TRACKING" for i in d.issues) == 1


def test_person_dismissal_and_paid_policy_edges() -> None:
    m = held_memory().dismiss("HOLD_RELEASED_BY_HAND")
    d = run(m, observed(order(), view(fulfillment_orders=(fo(held=False),))))
    assert "HOLD_RELEASED_BY_HAND" not in {i.code.value for i in d.issues}
    assert Policy().auto_approval_delay == minutes(0)


def test_ctx_keeps_notes_and_sentences_unique() -> None:
    ctx = Ctx(memory=held_memory(), observed=observed(), policy=Policy(), now=T0, order=order())
    ctx.note("a")
    ctx.note("a")
    ctx.flag(ExceptionCode.NO_TRACKING, "same")
    ctx.flag(ExceptionCode.NO_TRACKING, "same")
    decision = ctx.decision(None)
    assert decision.notes == ("a",)
    assert [i.message for i in decision.issues] == ["same"]


def test_cancelled_link_with_a_live_view_does_nothing_more() -> None:
    m = held_memory(state=LinkState.CANCELLED)
    assert run(m, observed(order(), view())).actions == ()
