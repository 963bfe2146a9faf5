"""The demo's story: a realistic mix of TikTok orders played through the control API.

Buyers and TikTok act through the TikTok sandbox's control routes; the merchant acts in
Shopify (fulfils with carriers and tracking numbers, adds a variant); the operator links an
unmapped SKU. The engine is never called directly: webhooks, its timers and its polls do
everything. Each scenario says how it must end (``Scenario.expect_*``).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from orderbridge.demo.threepl import MCF, SHIPBOB, ThreePLDesk, mcf_status_is, tracking_once
from orderbridge.demo.world import DemoWorld
from orderbridge.devkit import tracking_number
from orderbridge.domain.carriers import Carrier
from orderbridge.engine.skus import import_catalogues, link_sku

__all__ = ["Scenario", "play", "scenarios"]

MINUTE: Final = 60.0
HOUR: Final = 3600.0
# Catalogue SKUs both sides have exactly once (random extra orders draw from these).
MAPPED_SKUS: Final = ("MW-SET-NAT", "MW-SET-BLK", "BOWL-WHT", "BOWL-GRN", "MATCHA-CER-30",
                      "MATCHA-CUL-100", "SCOOP-BMB")
PUERTO_RICO: Final = {"name": "Ana Rivera", "address_line1": "151 Calle San Francisco", "city": "San Juan",
                      "county": "San Juan", "state": "Puerto Rico", "state_code": "PR", "postal_code": "00901",
                      "phone_number": "(+1)7875550123"}
# The merchant's own name for the SKU TikTok calls WHISK-HOLDER (so only an explicit link finds it).
WHISK_HOLDER_VARIANT_SKU: Final = "HOLDER-CERAMIC-WHT"

Say = Callable[[str], None]
# A scenario's own check: None when it holds, else what differs.
Check = Callable[[DemoWorld, "Scenario"], Awaitable[str | None]]


@dataclass
class Scenario:
    """One order of the story and how it must end."""

    key: str
    label: str
    order: dict[str, Any]
    expect_tiktok: str
    expect_shopify: str  # none | held | released | fulfilled | cancelled
    expect_open: frozenset[str] = frozenset()  # exception codes open at the end
    expect_raised: frozenset[str] = frozenset()  # raised at some point (any status now)
    expect_packages: int = 0
    order_id: str = ""
    fulfilments: list[tuple[str, str, list[str] | None]] = field(default_factory=list)
    checks: tuple[tuple[str, Check], ...] = ()  # (what is shown, the check) beyond the states above
    threepl: str = ""  # amazon_mcf | shipbob: the 3PL that ships it
    threepl_ref: str = ""  # the reference of its 3PL order (the Shopify order name)
    threepl_id: str = ""  # the 3PL's own id (ShipBob's order id)


def _items(*skus: str, units: int = 1) -> list[dict[str, Any]]:
    return [{"seller_sku": sku, "units": units} for sku in skus]


def scenarios(extra: int, seed: int) -> list[Scenario]:
    """The scripted mix plus ``extra`` random paid orders (deterministic for ``seed``)."""
    rng = random.Random(seed)
    story = [
        Scenario("paid", "paid at checkout", {"items": _items("MW-SET-NAT", "BOWL-WHT")}, "DELIVERED", "fulfilled",
                 expect_packages=1),
        Scenario("unpaid-then-paid", "unpaid, paid 30 min later", {"items": _items("MATCHA-CER-30"),
                 "payment": "pending"}, "DELIVERED", "fulfilled", expect_packages=1),
        Scenario("never-paid", "never paid (TikTok cancels after 24 h)", {"items": _items("BOWL-GRN"),
                 "payment": "pending"}, "CANCELLED", "cancelled"),
        Scenario("cancel-in-window", "buyer cancels in the remorse hour", {"items": _items("SCOOP-BMB")},
                 "CANCELLED", "cancelled"),
        Scenario("cancel-request", "buyer asks to cancel after release", {"items": _items("MW-SET-BLK")},
                 "CANCELLED", "cancelled"),
        Scenario("split", "split shipment (USPS + UPS)", {"items": _items("MW-SET-NAT", units=2)
                 + _items("MATCHA-CUL-100")}, "DELIVERED", "fulfilled", expect_packages=2),
        Scenario("unmapped-sku", "unmapped SKU, linked later", {"items": _items("WHISK-HOLDER")}, "DELIVERED",
                 "fulfilled", expect_raised=frozenset({"UNMAPPED_SKU"}), expect_packages=1),
        Scenario("ambiguous-sku", "SKU on two Shopify variants", {"items": _items("DUP-SKU")},
                 "AWAITING_SHIPMENT", "held", expect_open=frozenset({"AMBIGUOUS_SKU"})),
        Scenario("sample", "free sample ($0)", {"items": _items("MATCHA-CER-30"), "sample": True}, "DELIVERED",
                 "fulfilled", expect_packages=1),
        Scenario("tiktok-shipped", "TikTok ships it", {"items": _items("BOWL-WHT"), "shipping_type": "TIKTOK"},
                 "AWAITING_SHIPMENT", "none", expect_open=frozenset({"TIKTOK_SHIPPED"})),
        Scenario("puerto-rico", "ships to Puerto Rico", {"items": _items("MW-SET-BLK"),
                 "recipient_address": PUERTO_RICO}, "AWAITING_SHIPMENT", "held",
                 expect_open=frozenset({"UNSUPPORTED_DESTINATION"})),
        Scenario("mcf", "shipped by Amazon MCF", {"items": _items("MW-SET-NAT")}, "DELIVERED", "fulfilled",
                 expect_packages=1, threepl=MCF, checks=(("MCF tracking once in Shopify and TikTok", tracking_once),)),
        Scenario("shipbob", "shipped by ShipBob", {"items": _items("BOWL-WHT")}, "DELIVERED", "fulfilled",
                 expect_packages=1, threepl=SHIPBOB,
                 checks=(("ShipBob tracking once in Shopify and TikTok", tracking_once),)),
        Scenario("mcf-cancel-stopped", "cancel request, MCF still Planning", {"items": _items("MW-SET-BLK")},
                 "CANCELLED", "cancelled", expect_raised=frozenset({"CANCEL_REQUEST_STOPPING"}), threepl=MCF,
                 checks=(("stopped at Amazon MCF", mcf_status_is("Cancelled")),)),
        Scenario("mcf-cancel-late", "cancel request, MCF already Processing", {"items": _items("MW-SET-NAT")},
                 "DELIVERED", "fulfilled", expect_raised=frozenset({"CANCEL_REQUEST_BLOCKED"}), expect_packages=1,
                 threepl=MCF, checks=(("MCF tracking once in Shopify and TikTok", tracking_once),)),
    ]
    for n in range(extra):
        skus = rng.sample(MAPPED_SKUS, rng.randint(1, 3))
        story.append(Scenario(f"extra-{n + 1}", "random paid order", {"items": _items(*skus, units=rng.randint(1, 2)),
                              "delivery_option": rng.choice(["Economy", "Standard", "Express"])},
                              "DELIVERED", "fulfilled", expect_packages=1))
    return story


class Story:
    """Plays the scenarios on a ``DemoWorld``; ``say`` narrates each step."""

    def __init__(self, demo: DemoWorld, cast: list[Scenario], say: Say, seed: int) -> None:
        self.demo, self.cast, self.say = demo, cast, say
        self.by_key = {s.key: s for s in cast}
        self.rng = random.Random(seed)
        self.serial = 22319742849

    def _number(self, carrier: Carrier) -> str:
        self.serial += 7919
        return tracking_number(carrier, self.serial)

    async def _shopify_order(self, scenario: Scenario) -> dict[str, Any]:
        [order] = await self.demo.control.shopify_orders(source_identifier=scenario.order_id)
        found: dict[str, Any] = order
        return found

    async def fulfil(self, scenario: Scenario, carrier: Carrier, skus: list[str] | None = None) -> None:
        """The merchant fulfils (all, or the lines of ``skus``) with a fresh tracking number."""
        order = await self._shopify_order(scenario)
        lines = None
        if skus is not None:
            lines = [{"line_item_id": str(li["admin_graphql_api_id"]), "quantity": li["quantity"]}
                     for li in order["line_items"] if li.get("sku") in skus and li.get("current_quantity", 1)]
        company = "USPS" if carrier is Carrier.USPS else "UPS"
        number = self._number(carrier)
        await self.demo.control.fulfil(str(order["admin_graphql_api_id"]), company, number, lines)
        scenario.fulfilments.append((company, number, skus))
        what = f" ({', '.join(skus)})" if skus else ""
        self.say(f"merchant fulfils {order['name']}{what} in Shopify: {company} {number}")

    async def tiktok(self, scenario: Scenario, action: str, note: str) -> None:
        await self.demo.control.tiktok_action(scenario.order_id, action)
        self.say(f"{scenario.order_id} ({scenario.key}): {note}")

    async def link_whisk_holder(self) -> None:
        """The merchant adds the product in Shopify; the operator links the TikTok SKU to it."""
        shop = self.demo.connection.shopify_domain
        added = await self.demo.control.call("POST", f"/shopify/shops/{shop}/variants", {
            "sku": WHISK_HOLDER_VARIANT_SKU, "title": "Ceramic Whisk Holder - White", "price": "9.99",
            "available": 50})
        await import_catalogues(self.demo.services, self.demo.connection)
        report = link_sku(self.demo.services, self.demo.connection.id, "WHISK-HOLDER", str(added["variant_id"]))
        self.say(f"operator links TikTok SKU WHISK-HOLDER to Shopify variant {added['variant_id']} "
                 f"({WHISK_HOLDER_VARIANT_SKU}); resumed: {', '.join(report.orders_resumed) or 'none'}")

    async def carriers(self) -> None:
        """The carriers deliver what they collected before, and collect what waits for them."""
        moved = {"collected": 0, "delivered": 0}
        for scenario in (sc for sc in self.cast if sc.fulfilments):
            status = (await self.demo.control.tiktok_order(scenario.order_id))["status"]
            action = {"AWAITING_COLLECTION": "collected", "IN_TRANSIT": "delivered"}.get(status)
            if action:
                await self.demo.control.tiktok_action(scenario.order_id, action)
                moved[action] += 1
        self.say(f"the carriers deliver {moved['delivered']} orders and collect {moved['collected']}")

    async def at(self, offset: float, *, step: float) -> None:
        """Advance the story clock to T0 + ``offset`` seconds."""
        await self.demo.tick(offset - self.elapsed(), step=step)

    def elapsed(self) -> float:
        return (self.demo.now() - self.start).total_seconds()

    async def run(self, checkpoint: Callable[[], Awaitable[None]]) -> None:
        d, s = self.demo, self.by_key
        self.start = d.now()
        desk = ThreePLDesk(d, self.say)
        at_3pl = [sc for sc in self.cast if sc.threepl]
        await desk.set_up()
        for scenario in self.cast:
            placed = await d.control.place_order(**scenario.order)
            scenario.order_id = str(placed["id"])
        self.say(f"buyers place {len(self.cast)} orders on TikTok")
        await self.at(2 * MINUTE, step=5)
        await checkpoint()
        for scenario in at_3pl:
            await desk.route(scenario)
        await self.tiktok(s["cancel-in-window"], "buyer_cancel", "the buyer cancels inside the remorse hour")
        await self.at(30 * MINUTE, step=300)
        await self.tiktok(s["unpaid-then-paid"], "pay", "the buyer pays, 30 minutes late")
        await self.at(HOUR + 10 * MINUTE, step=300)
        await checkpoint()
        await self.link_whisk_holder()
        for scenario in at_3pl:
            await desk.send(scenario, str(scenario.order["items"][0]["seller_sku"]))
        await self.at(HOUR + 15 * MINUTE, step=60)
        await desk.warehouse(s["mcf"], "accept", "pick", "ship")
        await desk.warehouse(s["shipbob"], "accept", "ship", number=self._number(Carrier.USPS))
        await desk.warehouse(s["mcf-cancel-stopped"], "accept")
        await desk.warehouse(s["mcf-cancel-late"], "accept", "pick")
        for scenario in self.cast:
            if scenario.key in ("paid", "sample", "unmapped-sku") or scenario.key.startswith("extra-"):
                await self.fulfil(scenario, self.rng.choice([Carrier.USPS, Carrier.UPS])
                                  if scenario.key.startswith("extra-") else Carrier.USPS)
        await self.fulfil(s["split"], Carrier.USPS, ["MW-SET-NAT"])
        await self.tiktok(s["cancel-request"], "buyer_cancel", "the buyer asks to cancel (after the windows: a request)")
        await self.at(HOUR + 30 * MINUTE, step=300)  # the 3PL poll has seen them
        for key in ("mcf-cancel-stopped", "mcf-cancel-late"):
            await self.tiktok(s[key], "buyer_cancel", "the buyer asks to cancel (Amazon MCF holds it)")
        await d.settle()
        desk.desk(s["mcf-cancel-late"])
        await self.at(HOUR + 45 * MINUTE, step=300)
        await self.fulfil(s["unpaid-then-paid"], Carrier.UPS)
        await self.fulfil(s["split"], Carrier.UPS, ["MATCHA-CUL-100"])
        await desk.warehouse(s["mcf-cancel-late"], "ship")
        await self.at(2 * HOUR, step=300)
        await checkpoint()
        await desk.statuses(at_3pl)
        await self.carriers()
        await self.at(8 * HOUR, step=1800)
        await self.carriers()
        await self.at(23 * HOUR + 30 * MINUTE, step=HOUR)
        await self.carriers()
        await self.at(23 * HOUR + 35 * MINUTE, step=300)
        await checkpoint()
        await self.at(24 * HOUR + 20 * MINUTE, step=300)
        self.say("24 hours after checkout TikTok cancels the order that was never paid")


async def play(demo: DemoWorld, cast: list[Scenario], say: Say, checkpoint: Callable[[], Awaitable[None]],
               seed: int) -> None:
    """Play the whole story (about 24 h of story time)."""
    await Story(demo, cast, say, seed).run(checkpoint)
