"""Holds, fulfilment requests and fulfilments of the Shopify client (order edits: ``api_edits``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orderbridge.adapters.shopify import ops_fulfillment as ops
from orderbridge.adapters.shopify.builders import FulfillmentLinesSpec, TrackingSpec
from orderbridge.adapters.shopify.models import (
    FulfillmentHoldReason,
    FulfillmentOrderRef,
    FulfillmentResult,
    HoldResult,
)
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.transport import API_NAME, ShopifyTransport
from orderbridge.errors import Rejected

__all__ = ["HOLD_HANDLE_MAX_LENGTH", "FulfillmentApi", "gid_tail", "payload_object", "tracking_input"]

HOLD_HANDLE_MAX_LENGTH = 64  # Shopify's limit on a hold handle


def gid_tail(gid: str) -> str:
    """The numeric part of a global id (``gid://shopify/LineItem/12`` -> ``12``)."""
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def tracking_input(tracking: TrackingSpec) -> dict[str, Any]:
    """A ``FulfillmentTrackingInput``: ``number``/``url`` for one, ``numbers``/``urls`` for more.

    Shopify refuses ``number`` with ``numbers`` (and ``url`` with ``urls``), and a URL
    without a number.
    """
    out: dict[str, Any] = {}
    if tracking.company:
        out["company"] = tracking.company
    numbers, urls = list(tracking.numbers), list(tracking.urls)
    if urls and not numbers:
        raise ValueError("a tracking URL needs a tracking number")
    if len(numbers) == 1 and len(urls) <= 1:
        out["number"] = numbers[0]
        if urls:
            out["url"] = urls[0]
    elif numbers:
        out["numbers"] = numbers
        if urls:
            out["urls"] = urls
    return out


def payload_object(result_payload: Any, key: str, operation: str) -> dict[str, Any]:
    """The object ``key`` of a mutation's payload; ``Rejected`` when the response lacks it."""
    value = result_payload.get(key) if isinstance(result_payload, dict) else None
    if not isinstance(value, dict):
        raise Rejected(f"{operation}: response has no {key}", api=API_NAME, operation=operation)
    return value


class FulfillmentApi(ShopifyTransport):
    """Fulfilment holds, cancellation requests and fulfilments."""

    async def hold_fulfillment_order(
        self,
        fulfillment_order_id: str,
        *,
        handle: str,
        reason: FulfillmentHoldReason | str,
        reason_notes: str | None = None,
        notify_merchant: bool = False,
        external_id: str | None = None,
        priority: int = Priority.CREATE_AND_HOLD,
    ) -> HoldResult:
        """``fulfillmentOrderHold`` with our ``handle``.

        A hold with that handle already there comes back as ``UserErrors`` with
        ``already_done`` true.
        """
        if not handle or len(handle) > HOLD_HANDLE_MAX_LENGTH:
            raise ValueError(f"a hold handle must be 1-{HOLD_HANDLE_MAX_LENGTH} characters")
        hold: dict[str, Any] = {"reason": str(reason), "handle": handle, "notifyMerchant": notify_merchant}
        if reason_notes:
            hold["reasonNotes"] = reason_notes
        if external_id:
            hold["externalId"] = external_id
        result = await self.execute(
            ops.FULFILLMENT_ORDER_HOLD, {"id": fulfillment_order_id, "fulfillmentHold": hold}, priority=priority
        )
        return HoldResult.from_raw(result.payload if isinstance(result.payload, dict) else {})

    async def release_fulfillment_holds(
        self,
        fulfillment_order_id: str,
        hold_ids: Sequence[str],
        *,
        external_id: str | None = None,
        priority: int = Priority.RELEASE,
    ) -> FulfillmentOrderRef:
        """``fulfillmentOrderReleaseHold`` for *our* hold ids only.

        Shopify releases every hold (other apps' too) when ``holdIds`` is omitted, so an
        empty list is refused here.
        """
        if not hold_ids:
            raise ValueError("refusing to release holds without hold ids (that would release all holds)")
        variables: dict[str, Any] = {"id": fulfillment_order_id, "holdIds": list(hold_ids)}
        if external_id:
            variables["externalId"] = external_id
        result = await self.execute(ops.FULFILLMENT_ORDER_RELEASE_HOLD, variables, priority=priority)
        op = ops.FULFILLMENT_ORDER_RELEASE_HOLD.name
        return FulfillmentOrderRef.from_raw(payload_object(result.payload, "fulfillmentOrder", op))

    async def submit_cancellation_request(
        self, fulfillment_order_id: str, *, message: str | None = None, priority: int = Priority.CANCELLATION
    ) -> FulfillmentOrderRef:
        """Ask the fulfilment service (a 3PL app) holding a fulfilment order to cancel it."""
        variables: dict[str, Any] = {"id": fulfillment_order_id}
        if message:
            variables["message"] = message
        result = await self.execute(ops.FULFILLMENT_ORDER_SUBMIT_CANCELLATION_REQUEST, variables, priority=priority)
        op = ops.FULFILLMENT_ORDER_SUBMIT_CANCELLATION_REQUEST.name
        return FulfillmentOrderRef.from_raw(payload_object(result.payload, "fulfillmentOrder", op))

    async def create_fulfillment(
        self,
        lines: Sequence[FulfillmentLinesSpec],
        *,
        tracking: TrackingSpec | None = None,
        notify_customer: bool = False,
        message: str | None = None,
        priority: int = Priority.TRACKING,
        order_ref: str | None = None,
    ) -> FulfillmentResult:
        """``fulfillmentCreate``. Not retried after an unknown outcome (``RemoteTimeout``)."""
        if not lines:
            raise ValueError("a fulfilment needs at least one fulfilment order")
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": spec.fulfillment_order_id,
                    **(
                        {"fulfillmentOrderLineItems": [{"id": i, "quantity": q} for i, q in spec.lines]}
                        if spec.lines
                        else {}
                    ),
                }
                for spec in lines
            ],
            "notifyCustomer": notify_customer,
        }
        if tracking is not None:
            fulfillment["trackingInfo"] = tracking_input(tracking)
        variables: dict[str, Any] = {"fulfillment": fulfillment}
        if message:
            variables["message"] = message
        result = await self.execute(ops.FULFILLMENT_CREATE, variables, priority=priority, order_ref=order_ref)
        return FulfillmentResult.from_raw(payload_object(result.payload, "fulfillment", ops.FULFILLMENT_CREATE.name))
