"""The executor's outcome mapping, with stand-in clients (the sandboxes test the real ones)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from orderbridge.adapters.shopify import ShopifyClient, UserErrorItem, UserErrors
from orderbridge.adapters.shopify.models import OrderSnapshot
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.domain.actions import (
    CancelShopifyOrder,
    CancelThreePLOrder,
    HoldReason,
    PlaceHold,
    RecordPayment,
    ReleaseHold,
    ShopifyCancelReason,
)
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import ShopifyFulfillmentOrder, ShopifyHold, ShopifyOrderView
from orderbridge.domain.order import TikTokOrder, TikTokStatus
from orderbridge.domain.outcome import OutcomeStatus
from orderbridge.domain.policy import Policy
from orderbridge.engine.executor.core import ActionExecutor, ExecutionContext
from orderbridge.errors import AuthError, NotFound, RateLimited, RemoteTimeout

NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
ORDER = "gid://shopify/Order/1"
FO = "gid://shopify/FulfillmentOrder/1"


class Raising:
    """A client whose every method raises ``error`` (and records that it was called)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        async def method(*_args: Any, **_kw: Any) -> Any:
            self.calls.append(name)
            raise self.error

        return method


def ctx(shopify: Any, view: ShopifyOrderView | None = None) -> ExecutionContext:
    return ExecutionContext(
        tiktok=cast(TikTokClient, Raising(AssertionError("no TikTok call expected"))),
        shopify=cast(ShopifyClient, shopify),
        policy=Policy(),
        location_id=None,
        order=TikTokOrder(id="576000000000000001", status=TikTokStatus.ON_HOLD),
        view=view,
        memory=LinkMemory(shopify_order_id=ORDER),
        now=lambda: NOW,
    )


CANCEL = CancelShopifyOrder(
    shopify_order_id=ORDER, reason=ShopifyCancelReason.CUSTOMER, staff_note="x"
)


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (
            UserErrors([UserErrorItem("INVALID", ("orderId",), "Nope.")]),
            OutcomeStatus.REJECTED,
            "[INVALID]",
        ),
        (NotFound("gone", api="shopify", operation="OrderCancel"), OutcomeStatus.REJECTED, "gone"),
        (RateLimited("slow down", api="shopify"), OutcomeStatus.UNKNOWN, "slow down"),
        (RemoteTimeout("no answer", api="shopify"), OutcomeStatus.UNKNOWN, "no answer"),
        (RuntimeError("boom"), OutcomeStatus.UNKNOWN, "RuntimeError: boom"),
    ],
)
async def test_errors_map_to_outcomes(error: Exception, status: OutcomeStatus, words: str) -> None:
    outcome = await ActionExecutor().execute(CANCEL, ctx(Raising(error)))
    assert outcome.status is status
    assert words in outcome.message
    assert outcome.at == NOW


async def test_auth_errors_are_raised() -> None:
    with pytest.raises(AuthError):
        await ActionExecutor().execute(CANCEL, ctx(Raising(AuthError("revoked"))))


async def test_already_done_user_errors_are_success() -> None:
    error = UserErrors([UserErrorItem("TAKEN", None, "taken")], already_done_codes={"TAKEN"})
    outcome = await ActionExecutor().execute(CANCEL, ctx(Raising(error)))
    assert outcome.status is OutcomeStatus.SUCCESS


async def test_an_already_cancelled_order_is_success() -> None:
    error = UserErrors([UserErrorItem("INVALID", None, "Order has already been cancelled.")])
    outcome = await ActionExecutor().execute(CANCEL, ctx(Raising(error)))
    assert outcome.status is OutcomeStatus.SUCCESS


async def test_checks_before_calling() -> None:
    shopify = Raising(AssertionError("must not be called"))
    held = ShopifyOrderView(
        id=ORDER,
        cancelled_at=NOW,
        financial_status="PAID",
        total_outstanding=Decimal("0"),
        fulfillment_orders=(
            ShopifyFulfillmentOrder(id=FO, holds=(ShopifyHold(id="h1", handle="orderbridge"),)),
        ),
    )
    bare = ShopifyOrderView(id=ORDER, fulfillment_orders=(ShopifyFulfillmentOrder(id=FO),))
    executor = ActionExecutor()
    cases = [
        (CANCEL, held, "already cancelled"),
        (
            RecordPayment(shopify_order_id=ORDER, amount=Decimal("9.99")),
            held,
            "nothing outstanding",
        ),
        (
            PlaceHold(
                fulfillment_order_ids=(FO,), handle="orderbridge", reason=HoldReason.OTHER, notes=""
            ),
            held,
            "already held",
        ),
        (ReleaseHold(fulfillment_order_id=FO, hold_ids=("h1",)), bare, "already gone"),
    ]
    for action, view, words in cases:
        outcome = await executor.execute(action, ctx(shopify, view))
        assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
        assert words in outcome.message
    assert shopify.calls == []
    placed = await executor.execute(cases[2][0], ctx(shopify, held))
    assert placed.ids == {"hold_ids": "h1"}


async def test_no_threepl_client_is_an_explicit_rejection() -> None:
    outcome = await ActionExecutor().execute(
        CancelThreePLOrder(threepl_order_id="MCF-1"), ctx(Raising(AssertionError()))
    )
    assert outcome.status is OutcomeStatus.REJECTED
    assert outcome.message.startswith("no 3PL configured")


def test_seller_cancel_reason_is_a_tiktok_key_fitting_the_status() -> None:
    from orderbridge.domain.order import TikTokStatus
    from orderbridge.engine.executor.tiktok import seller_cancel_reason

    assert seller_cancel_reason("seller_cancel_reason_wrong_price", TikTokStatus.AWAITING_SHIPMENT) == (
        "seller_cancel_reason_wrong_price")
    free_text = "The seller cancelled the order in Shopify"
    assert seller_cancel_reason(free_text, TikTokStatus.ON_HOLD) == "seller_cancel_reason_out_of_stock"
    assert seller_cancel_reason(free_text, TikTokStatus.UNPAID) == "seller_cancel_unpaid_reason_out_of_stock"


class StaleOrder:
    """A Shopify client whose order now asks ``outstanding`` (a payment must not be sent)."""

    def __init__(self, outstanding: str) -> None:
        self.outstanding = outstanding
        self.calls: list[str] = []

    async def get_order(self, order_id: str, **_kw: Any) -> Any:
        self.calls.append("get_order")
        money = {"shopMoney": {"amount": self.outstanding, "currencyCode": "USD"}}
        return OrderSnapshot.from_raw({"id": order_id, "name": "#1001", "displayFinancialStatus": "PENDING",
                                       "totalOutstandingSet": money})

    async def create_manual_payment(self, *_args: Any, **_kw: Any) -> Any:
        raise AssertionError("no payment of another amount than decided")


async def test_a_payment_is_not_sent_when_the_outstanding_amount_moved() -> None:
    """Writing the address made Shopify recalculate the tax after the decision read the order:
    the fresh read shows another outstanding amount, so nothing is paid (decide again)."""
    client = StaleOrder("9.27")
    stale = ShopifyOrderView(id=ORDER, total_outstanding=Decimal("9.99"))
    out = await ActionExecutor().execute(
        RecordPayment(shopify_order_id=ORDER, amount=Decimal("9.99")), ctx(client, stale)
    )
    assert out.status is OutcomeStatus.UNKNOWN
    assert "9.27" in out.message
    assert "9.99" in out.message
    assert out.ids["stale"] == "true"  # the worker decides again at once, no back-off
    assert client.calls == ["get_order"]
