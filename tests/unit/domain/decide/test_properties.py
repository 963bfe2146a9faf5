"""Property tests: decide + apply_outcome against a tiny fake world, random event orders.

The world has TikTok (status progression, payment, cancellations, buyer requests, the
tracking TikTok holds) and Shopify (orders, a search index that lags, fulfilment orders that
appear late, holds, an asynchronous cancel job, merchant fulfilments that may ignore holds).
The executor answers success, rejected or unknown (and an unknown may or may not have
happened). The invariants of lifecycle.md are checked on every action (safety).

Liveness: after the random phase the world drains (TikTok moves on, the executor is
reliable, the merchant ships as soon as the order is released) until quiescence, and the
order must end where lifecycle.md says: a paid, uncancelled order created, paid, released,
fulfilled and its tracking on TikTok; a cancelled one cancelled and restocked in Shopify
(or never created). A ``decide()`` that never acts passes every safety check and fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orderbridge.domain.actions import (
    Action,
    ApproveCancellation,
    CancelShopifyOrder,
    CreateShopifyOrder,
    PlaceHold,
    PushTracking,
    RecordPayment,
    ReleaseHold,
    SearchExistingShopifyOrder,
    UpdateShopifyAddress,
)
from orderbridge.domain.decide.common import Decision
from orderbridge.domain.decide.core import decide
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import (
    Cancellation,
    CancellationStatus,
    CancellationType,
    Observed,
    ShopifyFulfillment,
    ShopifyFulfillmentLine,
    ShopifyFulfillmentOrder,
    ShopifyHold,
    ShopifyOrderView,
)
from orderbridge.domain.order import TikTokStatus, is_at_least
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.domain.policy import REMORSE_WINDOW, Policy
from tests.unit.domain.factories import (
    MASKED,
    PROVIDERS,
    T0,
    UPS,
    mapped,
    order,
    recipient,
    sline,
)

INDEX_LAG = timedelta(seconds=60)  # shorter than the settle period, as in Shopify
POLICY = Policy()
STEPS = [
    timedelta(seconds=1),
    timedelta(seconds=6),
    timedelta(seconds=31),
    timedelta(minutes=5),
    timedelta(minutes=40),
    timedelta(hours=2),
]


@dataclass
class ShopOrder:
    id: str
    created_at: datetime
    fos_at: datetime
    holds: dict[str, str] = field(default_factory=dict)  # fo id -> our hold id
    cancel_done_at: datetime | None = None
    fulfilled: bool = False
    paid: bool = False  # the manual "TikTok Shop" payment was recorded
    address: bool = False  # the recipient was written onto the order
    restocked: bool | None = None  # set by the cancel: whether its units went back to stock


@dataclass
class World:
    now: datetime = T0
    status: TikTokStatus = TikTokStatus.UNPAID
    paid_at: datetime | None = None
    awaiting_at: datetime | None = None
    request: str = ""  # "", "pending", "approved"
    tracking: str = ""
    orders: list[ShopOrder] = field(default_factory=list)
    # invariant bookkeeping
    recreate_allowed: bool = True
    unknown_create_at: datetime | None = None
    pushes: int = 0
    memory: LinkMemory = field(default_factory=LinkMemory)  # the link's memory after the drain

    def linked(self, memory: LinkMemory) -> ShopOrder | None:
        return next((o for o in self.orders if o.id == memory.shopify_order_id), None)

    def observe(self, memory: LinkMemory) -> Observed:
        shown = self.status
        o = order(
            shown,
            ("sku-a", "sku-a"),
            paid_time=self.paid_at,
            recipient=recipient() if is_at_least(shown, TikTokStatus.AWAITING_SHIPMENT) else MASKED,
        )
        if self.tracking:
            o = replace(
                o, line_items=tuple(replace(i, tracking_number=self.tracking) for i in o.line_items)
            )
        cancellations = ()
        if self.request == "pending":
            cancellations = (
                Cancellation(
                    cancel_id="C1",
                    type=CancellationType.BUYER_CANCEL,
                    status=CancellationStatus.PENDING,
                    role="BUYER",
                ),
            )
        shop = self.linked(memory)
        view = None
        if shop is not None:
            fos = ()
            if self.now >= shop.fos_at:
                holds = tuple(ShopifyHold(id=h, handle="orderbridge") for h in shop.holds.values())
                status = "CLOSED" if shop.fulfilled else ("ON_HOLD" if holds else "OPEN")
                fos = (ShopifyFulfillmentOrder(id="fo1", status=status, holds=holds),)
            fulfilments = ()
            if shop.fulfilled:
                fulfilments = (
                    ShopifyFulfillment(
                        id="F1",
                        tracking_company="UPS",
                        tracking_numbers=(UPS[0],),
                        line_items=(ShopifyFulfillmentLine(line_item_id="SL1", quantity=2),),
                    ),
                )
            cancelled = shop.cancel_done_at is not None and self.now >= shop.cancel_done_at
            view = ShopifyOrderView(
                id=shop.id,
                line_items=(sline("SL1", "sku-a", 2),),
                fulfillment_orders=fos,
                fulfillments=fulfilments,
                financial_status="PAID" if shop.paid else "PENDING",
                total_outstanding=Decimal("0") if shop.paid else Decimal("20.00"),
                has_shipping_address=shop.address,
                cancelled_at=shop.cancel_done_at if cancelled else None,
                cancel_job_pending=shop.cancel_done_at is not None and not cancelled,
            )
        return Observed(
            tiktok=o,
            shopify=view,
            cancellations=cancellations,
            skus=mapped("sku-a"),
            providers=PROVIDERS,
        )

    # --- checks made before an action runs ---

    def check(self, action: Action, memory: LinkMemory) -> None:
        if isinstance(action, CreateShopifyOrder):
            assert self.recreate_allowed, "a second create without a settled empty search"
            self.recreate_allowed = False
        if isinstance(action, ReleaseHold):
            assert is_at_least(self.status, TikTokStatus.AWAITING_SHIPMENT)
            assert self.paid_at is not None
            assert self.awaiting_at is not None
            assert self.now >= max(self.paid_at + REMORSE_WINDOW, self.awaiting_at)
        if isinstance(action, ApproveCancellation):
            shop = self.linked(memory)
            assert shop is not None
            assert not shop.fulfilled
            assert shop.cancel_done_at is not None
            assert self.now >= shop.cancel_done_at
        if isinstance(action, PushTracking):
            assert self.tracking == "", "tracking pushed twice for one package"

    # --- effects ---

    def apply(self, action: Action, memory: LinkMemory) -> dict[str, str]:
        shop = self.linked(memory)
        if isinstance(action, CreateShopifyOrder):
            new = ShopOrder(
                id=f"S{len(self.orders) + 1}",
                created_at=self.now,
                fos_at=self.now + timedelta(seconds=8),
            )
            self.orders.append(new)
            return {"shopify_order_id": new.id}
        if isinstance(action, SearchExistingShopifyOrder):
            found = [o for o in self.orders if o.created_at <= self.now - INDEX_LAG]
            return {"shopify_order_id": found[0].id} if found else {}
        if shop is None:
            return {}
        if isinstance(action, PlaceHold) and self.now >= shop.fos_at and not shop.fulfilled:
            for fo_id in action.fulfillment_order_ids:
                shop.holds[fo_id] = f"h-{fo_id}-{len(shop.holds)}"
        if isinstance(action, ReleaseHold):
            shop.holds.pop(action.fulfillment_order_id, None)
        if isinstance(action, CancelShopifyOrder) and not shop.fulfilled:
            shop.cancel_done_at = shop.cancel_done_at or self.now + timedelta(seconds=10)
            shop.restocked = action.restock if shop.restocked is None else shop.restocked
        if isinstance(action, RecordPayment):
            shop.paid = True
        if isinstance(action, UpdateShopifyAddress):
            shop.address = True
        if isinstance(action, PushTracking):
            self.tracking = action.tracking_number
            self.pushes += 1
            if self.status is TikTokStatus.AWAITING_SHIPMENT:
                self.status = TikTokStatus.AWAITING_COLLECTION
        if isinstance(action, ApproveCancellation):
            self.request = "approved"
            self.status = TikTokStatus.CANCELLED
        return {}

    def execute(self, decision: Decision, data: st.DataObject, reliable: bool) -> LinkMemory:
        memory = decision.memory
        for action in decision.actions:
            event(f"action {action.kind.value}")
            self.check(action, memory)
            how = (
                "ok"
                if reliable
                else data.draw(st.sampled_from(["ok", "ok", "ok", "unknown", "rejected"]))
            )
            if how == "ok" or (how == "unknown" and data.draw(st.booleans())):
                ids = self.apply(action, memory)
            else:
                ids = {}
            status = {
                "ok": OutcomeStatus.SUCCESS,
                "unknown": OutcomeStatus.UNKNOWN,
                "rejected": OutcomeStatus.REJECTED,
            }[how]
            if isinstance(action, CreateShopifyOrder) and how == "rejected":
                self.recreate_allowed = True  # refused: certainly not created
            if isinstance(action, CreateShopifyOrder) and how == "unknown":
                self.unknown_create_at = self.now
            if (
                isinstance(action, SearchExistingShopifyOrder)
                and how == "ok"
                and not ids
                and memory.search_started_at is not None
                and self.now >= memory.search_started_at + POLICY.create_settle_period
            ):
                self.recreate_allowed = True
            memory = apply_outcome(memory, action, Outcome(status=status, at=self.now, ids=ids))
            if how != "ok":
                break
        return memory

    # --- events ---

    def event(self, name: str, memory: LinkMemory) -> None:
        shop = self.linked(memory)
        if name == "progress" and self.status in (TikTokStatus.UNPAID, TikTokStatus.ON_HOLD):
            if self.status is TikTokStatus.UNPAID:
                self.status, self.paid_at = TikTokStatus.ON_HOLD, self.now
            else:
                self.status, self.awaiting_at = TikTokStatus.AWAITING_SHIPMENT, self.now
        elif name == "tiktok_cancel" and self.status in (
            TikTokStatus.UNPAID,
            TikTokStatus.ON_HOLD,
            TikTokStatus.AWAITING_SHIPMENT,
        ):
            self.status = TikTokStatus.CANCELLED
        elif name == "buyer_request" and self.status is TikTokStatus.AWAITING_SHIPMENT:
            self.request = self.request or "pending"
        elif (
            name in ("merchant_ships", "ships_ignoring_hold")
            and shop is not None
            and self.now >= shop.fos_at
            and shop.cancel_done_at is None
            and (not shop.holds or name == "ships_ignoring_hold")
        ):
            shop.fulfilled = True
            shop.holds.clear()


EVENTS = [
    "progress",
    "progress",
    "progress",
    "tiktok_cancel",
    "buyer_request",
    "merchant_ships",
    "ships_ignoring_hold",
    "nothing",
    "nothing",
]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_event_orders_keep_the_invariants(data: st.DataObject) -> None:
    world = World()
    memory = LinkMemory()
    last: Decision | None = None
    for _ in range(data.draw(st.integers(min_value=5, max_value=40))):
        world.event(data.draw(st.sampled_from(EVENTS)), memory)
        last = decide(memory, world.observe(memory), POLICY, world.now)
        memory = world.execute(last, data, reliable=False)
        assert LinkMemory.from_json(memory.to_json()) == memory
        assert len(world.orders) <= 1, "two Shopify orders for one TikTok order"
        world.now += data.draw(st.sampled_from(STEPS))
    last = _drain(world, memory, data)
    assert len(world.orders) <= 1
    shop = world.linked(world.memory)
    issues = {i.code.value for i in last.issues}
    event(f"end {world.status.value} shipped={shop is not None and shop.fulfilled}")
    if world.status is TikTokStatus.CANCELLED and shop is not None:
        assert shop.cancel_done_at is not None or "FULFILLED_BUT_CANCELLED" in issues
    if world.status is not TikTokStatus.CANCELLED and shop is not None and shop.fulfilled:
        assert world.tracking == UPS[0]
        assert world.pushes == 1
    if world.request == "approved":
        assert shop is not None
        assert shop.cancel_done_at is not None
        assert not shop.fulfilled
    _assert_live(world, issues)


# Quiescence: nothing asked for this long, longer than the remorse window, the create
# settle period and the retry of a refused action (each of which is a quiet wait).
DRAIN_STEP = timedelta(minutes=3)
QUIET_STEPS = 30
DRAIN_STEPS = 200  # a bound only: more means decide() never settles


def _drain(world: World, memory: LinkMemory, data: st.DataObject) -> Decision:
    """TikTok moves on, the executor is reliable, the merchant ships once the order is
    released; time passes beyond every retry until nothing is left to do (quiescence)."""
    last = decide(memory, world.observe(memory), POLICY, world.now)
    quiet = 0
    for _ in range(DRAIN_STEPS):
        world.event("progress", memory)
        if memory.state is LinkState.RELEASED:
            world.event("merchant_ships", memory)
        last = decide(memory, world.observe(memory), POLICY, world.now)
        memory = world.execute(last, data, reliable=True)
        quiet = quiet + 1 if not last.actions else 0
        world.now += DRAIN_STEP
        if quiet >= QUIET_STEPS:
            break
    assert quiet >= QUIET_STEPS, f"never quiet: still doing {[a.kind.value for a in last.actions]}"
    world.memory = memory
    return last


def _assert_live(world: World, issues: set[str]) -> None:
    """Liveness: the order ends where lifecycle.md says, not merely somewhere safe."""
    shop = world.linked(world.memory)
    if world.status is TikTokStatus.CANCELLED:
        if shop is None or shop.fulfilled:
            # Never created, or shipped before TikTok cancelled (a person's case).
            assert shop is None or "FULFILLED_BUT_CANCELLED" in issues
            return
        assert shop.cancel_done_at is not None, "TikTok cancelled it; the Shopify order never was"
        assert world.now >= shop.cancel_done_at, "the Shopify cancel job never finished"
        assert shop.restocked, "the Shopify order was cancelled without restocking"
        assert world.memory.state is LinkState.CANCELLED
        return
    # Paid, uncancelled, seller-shipped, mapped SKUs, a domestic address, not masked.
    assert world.paid_at is not None
    assert world.status is not TikTokStatus.UNPAID
    assert shop is not None, "a paid order was never created in Shopify"
    assert shop.address, "the recipient was never written onto the Shopify order"
    assert shop.paid, "the TikTok payment was never recorded in Shopify"
    assert not shop.holds, "our hold was never released"
    assert shop.fulfilled, "the merchant could never ship: the order was never released"
    assert world.tracking == UPS[0], "the tracking never reached TikTok"
    assert world.pushes == 1
    assert is_at_least(world.status, TikTokStatus.AWAITING_COLLECTION)
