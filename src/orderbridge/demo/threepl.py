"""The demo's 3PL scenes: orders Amazon MCF and ShipBob ship, and cancellation requests
for orders a 3PL holds.

The merchant's Shopify order routing sends these orders to the 3PL's location (the demo
moves each one's fulfilment order there while it is still held), the seller's own
Shopify->3PL app creates the 3PL order under the Shopify order id (the demo plays that
app through the 3PL's API), and the warehouse accepts, picks and ships through the control
API. OrderBridge does the rest: its poller finds the 3PL's tracking and the engine writes it
to Shopify and pushes it to TikTok; the cancellation desk stops a Planning MCF order at
Amazon, then in Shopify, then approves on TikTok, and leaves a Processing one pending.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from orderbridge.adapters.amazon_mcf import (
    CreateItem,
    CreateOrder,
    DestinationAddress,
    ShippingSpeed,
)
from orderbridge.adapters.db import links, orders, transaction
from orderbridge.adapters.retry import Runtime
from orderbridge.adapters.shipbob import NewOrder, NewProduct, Recipient, RecipientAddress
from orderbridge.devkit import SandboxError, amazon_mcf_client, shipbob_client
from orderbridge.engine.policy_store import set_policy

if TYPE_CHECKING:
    from orderbridge.demo.story import Scenario
    from orderbridge.demo.world import DemoWorld

__all__ = ["MCF", "SHIPBOB", "ThreePLDesk", "tracking_once"]

MCF: Final = "amazon_mcf"
SHIPBOB: Final = "shipbob"
LOCATION_NAMES: Final = {MCF: "Amazon MCF (FBA network)", SHIPBOB: "ShipBob warehouse"}


def _numbers(order: dict[str, Any]) -> list[str]:
    return [str(n) for f in order.get("fulfillments") or [] for n in f.get("tracking_numbers") or []]


async def tracking_once(demo: DemoWorld, scenario: Scenario) -> str | None:
    """The 3PL's tracking number is on one Shopify fulfilment and one TikTok package (None: it is)."""
    if not scenario.fulfilments:
        return "the 3PL shipped nothing"
    number = scenario.fulfilments[0][1]
    mirrors = await demo.control.shopify_orders(source_identifier=scenario.order_id)
    shopify = [n for m in mirrors for n in _numbers(m)]
    tiktok = [str(p.get("tracking_number")) for p in await demo.control.tiktok_packages(scenario.order_id)]
    if shopify != [number]:
        return f"Shopify tracking {shopify or 'none'}, expected {number} once"
    if tiktok != [number]:
        return f"TikTok tracking {tiktok or 'none'}, expected {number} once"
    return None


def mcf_status_is(wanted: str) -> Callable[[DemoWorld, Scenario], Any]:
    """A check: the scenario's MCF order has status ``wanted``."""
    async def check(demo: DemoWorld, scenario: Scenario) -> str | None:
        if not scenario.threepl_ref:
            return "no MCF order"
        try:
            found = await demo.control.call("GET", f"/amazon_mcf/orders/{scenario.threepl_ref}")
        except SandboxError:
            return "no MCF order"
        status = str(found["fulfillmentOrder"]["fulfillmentOrderStatus"])
        return None if status.lower() == wanted.lower() else f"Amazon MCF {status}, expected {wanted}"
    return check


class ThreePLDesk:
    """The merchant's 3PL set-up, the seller's Shopify->3PL app and the warehouses."""

    def __init__(self, demo: DemoWorld, say: Callable[[str], None]) -> None:
        self.demo, self.say = demo, say
        self.locations: dict[str, str] = {}
        runtime = Runtime.on(demo.services.clock)
        self.mcf = amazon_mcf_client(demo.info, demo.control.http, runtime=runtime)
        self.shipbob = shipbob_client(demo.info, demo.control.http, runtime=runtime)

    async def set_up(self) -> None:
        """Two Shopify locations (the 3PLs'), named in policy ``threepl_locations``."""
        shop = self.demo.connection.shopify_domain
        for threepl, name in LOCATION_NAMES.items():
            self.locations[threepl] = await self.demo.control.add_shopify_location(shop, name)
        mapping = {gid.rsplit("/", 1)[-1]: threepl for threepl, gid in self.locations.items()}
        set_policy(self.demo.services, self.demo.connection, "threepl_locations", json.dumps(mapping))
        set_policy(self.demo.services, self.demo.connection, "threepl_reference", "shopify_order_id")
        self.say(f"the merchant's Shopify routes 3PL orders to locations {mapping} (policy threepl_locations); "
                 "the seller's 3PL app files them under the Shopify order id (threepl_reference)")

    async def route(self, scenario: Scenario) -> None:
        """The merchant's order routing assigns the (held) order to its 3PL's location."""
        [order] = await self.demo.control.shopify_orders(source_identifier=scenario.order_id)
        for fo in order.get("fulfillment_orders") or []:
            if str(fo.get("status", "")).upper() in ("OPEN", "ON_HOLD"):
                await self.demo.control.move_fulfillment_order(str(fo["id"]), self.locations[scenario.threepl])
        scenario.threepl_ref = str(order["admin_graphql_api_id"]).rsplit("/", 1)[-1]
        self.say(f"{scenario.order_id} ({scenario.key}): Shopify {order['name']} assigned to "
                 f"{LOCATION_NAMES[scenario.threepl]}")

    async def send(self, scenario: Scenario, sku: str) -> None:
        """The seller's Shopify->3PL app creates the 3PL order under the Shopify order id."""
        ref = scenario.threepl_ref
        if scenario.threepl == MCF:
            await self.mcf.create_order(CreateOrder(
                seller_fulfillment_order_id=ref, displayable_order_id=ref,
                displayable_order_date=self.demo.now(), displayable_order_comment="Thank you for your order",
                shipping_speed_category=ShippingSpeed.STANDARD,
                destination_address=DestinationAddress(name="Ada Buyer", address_line1="1 Main St",
                                                       city="Austin", state_or_region="TX",
                                                       postal_code="73301", country_code="US"),
                items=[CreateItem(seller_sku=sku, seller_fulfillment_order_item_id=f"{ref}-1", quantity=1)]))
        else:
            created = await self.shipbob.create_order(NewOrder(
                reference_id=ref, order_number=ref, shipping_method="Standard",
                recipient=Recipient(name="Ada Buyer", address=RecipientAddress(
                    address1="1 Main St", city="Austin", state="TX", country="US", zip_code="73301")),
                products=[NewProduct(reference_id=sku, name=sku, quantity=1)]))
            scenario.threepl_id = str(created.id)
        self.say(f"the seller's 3PL app sends {ref} to {LOCATION_NAMES[scenario.threepl]}")

    async def warehouse(self, scenario: Scenario, *steps: str, number: str = "") -> None:
        """The warehouse acts (accept, pick); ``ship`` ships with tracking, recorded as the fulfilment."""
        ident = scenario.threepl_ref if scenario.threepl == MCF else scenario.threepl_id
        for step in steps:
            if step != "ship":
                await self.demo.control.warehouse(scenario.threepl, ident, step)
                continue
            if scenario.threepl == MCF:  # Amazon's own carrier and number (TBA...)
                shipped = await self.demo.control.warehouse(MCF, ident, "ship", {})
                company, number = "Amazon Logistics", str(shipped["package"]["trackingNumber"])
            else:
                company = "USPS"
                await self.demo.control.warehouse(SHIPBOB, ident, "ship",
                                                  {"carrier": company, "tracking_number": number})
            scenario.fulfilments.append((company, number, None))
        self.say(f"{LOCATION_NAMES[scenario.threepl]}: {scenario.threepl_ref} {', '.join(steps)}"
                 + (f" ({scenario.fulfilments[-1][0]} {scenario.fulfilments[-1][1]})" if "ship" in steps else ""))

    def desk(self, scenario: Scenario) -> None:
        """Narrate what the cancellation desk shows for the order (its open CANCEL_REQUEST_*)."""
        with transaction(self.demo.services.db, write=False) as conn:
            link = links.find_link(conn, self.demo.connection.id, scenario.order_id)
            rows = [] if link is None else orders.exceptions_of(conn, [link.id])
        for row in rows:
            if row.status == "open" and row.code.startswith("CANCEL_REQUEST_"):
                self.say(f"{scenario.order_id} ({scenario.key}) on the cancellation desk: {row.code}: {row.message}")

    async def statuses(self, cast: list[Scenario]) -> None:
        """Narrate each 3PL order's status now."""
        for scenario in cast:
            if scenario.threepl == MCF and scenario.threepl_ref:
                found = await self.demo.control.call("GET", f"/amazon_mcf/orders/{scenario.threepl_ref}")
                status = found["fulfillmentOrder"]["fulfillmentOrderStatus"]
            elif scenario.threepl == SHIPBOB and scenario.threepl_id:
                status = (await self.demo.control.call("GET", f"/shipbob/orders/{scenario.threepl_id}"))["status"]
            else:
                continue
            self.say(f"{LOCATION_NAMES[scenario.threepl]}: {scenario.threepl_ref} ({scenario.key}) is now {status}")
