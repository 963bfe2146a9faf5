"""Policy ``route_to``: OrderBridge sends a released order to the 3PL itself.

For sellers with no Shopify->3PL app. Once the order is released (our hold lifted, TikTok
AWAITING_SHIPMENT), one ``CreateThreePLOrder`` goes to the chosen 3PL, under the TikTok order
id as its reference (unique, known before Shopify's ids, and what ``threepl.references``
always tries): the units still to ship by seller SKU, the recipient's address, and the
shipping speed of TikTok's delivery option. The executor looks the reference up before it
creates, so a repeat after a lost answer finds the order; memory records the reference
once it exists, and a 3PL order already found (the poller saw it) counts as routed.
"""

from __future__ import annotations

from enum import StrEnum

from orderbridge.domain.actions import CreateThreePLOrder
from orderbridge.domain.address import to_shipping_address
from orderbridge.domain.decide.common import Ctx
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.policy import RouteTo

__all__ = ["ShippingSpeed", "route", "speed_for"]


class ShippingSpeed(StrEnum):
    """The 3PL service level an order is sent with (Amazon's ``shippingSpeedCategory`` names;
    ShipBob ships by the merchant's shipping method of the same name)."""

    STANDARD = "Standard"  # TikTok Standard (7 business days) and Economy (11)
    EXPEDITED = "Expedited"  # TikTok Express (4 business days)
    PRIORITY = "Priority"  # next day / overnight options


# Words of TikTok's delivery option names (lower case) and the speed they ask for; the
# first match wins, anything else ships Standard. US options: Standard, Express, Economy.
_SPEED_WORDS = (
    ("next day", ShippingSpeed.PRIORITY),
    ("overnight", ShippingSpeed.PRIORITY),
    ("priority", ShippingSpeed.PRIORITY),
    ("express", ShippingSpeed.EXPEDITED),
    ("expedited", ShippingSpeed.EXPEDITED),
)


def speed_for(delivery_option_name: str) -> ShippingSpeed:
    """The shipping speed TikTok's delivery option promises the buyer."""
    name = delivery_option_name.lower()
    return next((speed for word, speed in _SPEED_WORDS if word in name), ShippingSpeed.STANDARD)


def route(ctx: Ctx) -> None:
    """Create the 3PL order of a released order once (see the module docstring)."""
    target, m, order = ctx.policy.route_to, ctx.memory, ctx.order
    if target is RouteTo.NONE or m.threepl_routed or m.released_at is None:
        return
    if order.status is not TikTokStatus.AWAITING_SHIPMENT:
        return  # cancelled, or already shipped some other way: nothing to send
    found = ctx.observed.threepl
    if found is not None and found.provider == target.value:
        ctx.update(threepl_routed=found.reference)
        return
    address, _ = to_shipping_address(order.recipient)
    if address is None:
        return  # the release path already raised why there is no address
    gone = ctx.cancelled_line_ids() | set(m.removed_line_ids)
    units: dict[str, int] = {}
    for line in order.line_items:
        if line.id in gone:
            continue
        # A virtual bundle ships its component SKUs; a unit without a seller SKU goes by its id.
        parts = [(c.seller_sku or c.sku_id, c.sku_count) for c in line.combined_listing_skus] or [
            (line.seller_sku or line.sku_id, 1)
        ]
        for sku, count in parts:
            units[sku] = units.get(sku, 0) + count
    if not units:
        return
    ctx.act(
        CreateThreePLOrder(
            threepl=target.value,
            reference=order.id,
            order_date=order.create_time,
            speed=speed_for(order.delivery_option_name).value,
            address=address,
            items=tuple(units.items()),
        )
    )
