"""The executor against the TikTok and Shopify sandboxes over real HTTP.

Each action runs twice: the second run must be a SUCCESS without a second remote mutation
(the Shopify sandbox counts mutations; TikTok calls are counted on the call recorder).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest

from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.shopify.translate import to_order_view
from orderbridge.adapters.tiktok import CancellationFilter
from orderbridge.adapters.tiktok.translate import to_domain_cancellation, to_domain_order
from orderbridge.devkit import shopify_client
from orderbridge.domain.actions import (
    Action,
    AddTags,
    ApproveCancellation,
    CancelShopifyOrder,
    CancelThreePLOrder,
    CreateShopifyOrder,
    FetchShippingProviders,
    PlaceHold,
    PushTracking,
    RecordNote,
    RecordPayment,
    ReleaseHold,
    RemoveUnits,
    RestoreTax,
    SearchExistingShopifyOrder,
    ShopifyCancelReason,
    UpdateShopifyAddress,
)
from orderbridge.domain.decide.core import decide
from orderbridge.domain.exceptions import Issue
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import Observed, ShopifyOrderView, SkuResolution, SkuState
from orderbridge.domain.order import TikTokOrder, TikTokStatus
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.domain.policy import Policy
from orderbridge.engine.executor.core import ActionExecutor, ExecutionContext
from orderbridge.errors import AuthError

from .conftest import Kit

HOUR = 3600
POLICY = Policy(tiktok_shop_id="sandbox-shop")
UPS_NUMBER = "1Z999AA10100000004"  # a valid check digit


@dataclass
class Story:
    """One order's life driven by decide() and the executor, as the worker would."""

    kit: Kit
    executor: ActionExecutor = field(default_factory=ActionExecutor)
    memory: LinkMemory = field(default_factory=LinkMemory)
    order: TikTokOrder | None = None
    view: ShopifyOrderView | None = None
    skus: dict[str, SkuResolution] = field(default_factory=dict)
    shopify: ShopifyClient | None = None
    last_issues: tuple[Issue, ...] = ()

    async def place(self, **order: Any) -> str:
        placed = await self.kit.control.place_order(**order)
        await self.refresh()
        return str(placed["id"]) if self.order is None else self.order.id

    async def refresh(self, order_id: str | None = None) -> None:
        wanted = order_id or (self.order.id if self.order else None)
        if wanted is None:
            [latest] = (await self.kit.tiktok.search_orders(page_size=1)).orders
            wanted = latest.id
        raw = await self.kit.tiktok.get_order(wanted)
        assert raw is not None
        self.order = to_domain_order(raw)
        for item in self.order.line_items:
            if item.sku_id not in self.skus:
                variants = await self.kit.shopify.find_variants_by_sku(item.seller_sku)
                if len(variants) == 1:
                    self.skus[item.sku_id] = SkuResolution(
                        state=SkuState.MAPPED, variant_id=variants[0].id
                    )
        if self.memory.shopify_order_id:
            snapshot = await self.kit.shopify.get_order(self.memory.shopify_order_id)
            self.view = to_order_view(snapshot, our_app_holds_handle=POLICY.hold_handle)

    def ctx(self) -> ExecutionContext:
        assert self.order is not None
        return ExecutionContext(
            tiktok=self.kit.tiktok,
            shopify=self.shopify or self.kit.shopify,
            policy=POLICY,
            location_id=None,
            order=self.order,
            view=self.view,
            memory=self.memory,
            now=self.kit.world.clock.now,
        )

    def decide(self) -> tuple[Action, ...]:
        observed = Observed(
            tiktok=self.order,
            shopify=self.view,
            skus=self.skus,
            providers=self.executor.providers,
        )
        decision = decide(self.memory, observed, POLICY, self.kit.world.clock.now())
        self.memory = decision.memory
        self.last_issues = decision.issues
        return decision.actions

    async def run(self, action: Action) -> Outcome:
        outcome = await self.executor.execute(action, self.ctx())
        self.memory = apply_outcome(self.memory, action, outcome)
        return outcome

    async def twice(self, action: Action) -> tuple[Outcome, Outcome, Counter[str]]:
        """Run ``action``, refresh the truth, run it again: the mutations of the second run."""
        first = await self.run(action)
        await self.refresh()
        before = await self.mutations()
        second = await self.run(action)
        after = await self.mutations()
        return first, second, after - before

    async def mutations(self) -> Counter[str]:
        counts = await self.kit.control.mutation_counts()
        total: Counter[str] = Counter()
        for fields in counts["per_shop"].values():
            total.update(fields)
        total.update(
            f"tiktok:{c.operation}"
            for c in self.kit.recorder.calls
            if c.api == "tiktok" and c.method == "POST" and "search" not in c.operation
        )
        return total


def only(actions: tuple[Action, ...], kind: type[Any]) -> Any:
    [found] = [a for a in actions if isinstance(a, kind)]
    return found


async def created(story: Story, **order: Any) -> CreateShopifyOrder:
    await story.place(**order)
    create = only(story.decide(), CreateShopifyOrder)
    outcome = await story.run(create)
    assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
    await story.refresh()
    return create


async def held(story: Story) -> None:
    await story.kit.control.advance(2)  # Shopify builds fulfilment orders a moment later
    await story.refresh()
    hold = only(story.decide(), PlaceHold)
    outcome = await story.run(hold)
    assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
    await story.refresh()


async def test_create_totals_to_the_cent_and_is_not_repeated(kit: Kit) -> None:
    story = Story(kit)
    create = await created(
        story,
        items=[
            {"seller_sku": "MW-SET-NAT", "units": 2, "seller_discount": "2.50"},
            {"seller_sku": "BOWL-WHT", "units": 1, "platform_discount": "3.00"},
        ],
        shipping_fee_platform_discount="2.00",
        buyer_message="Gift - please no invoice in box",
    )
    assert story.order is not None
    assert story.view is not None
    snapshot = await kit.shopify.get_order(story.view.id)
    # The total as Shopify keeps it (the sandbox's own record; the engine's read leaves
    # totals out: what orderCreate answered carries them).
    stored = await kit.control.shopify_order(story.view.id)
    assert Decimal(stored["total_price"]) == story.order.payment.total_amount
    assert create.money.expected_total == story.order.payment.total_amount
    assert snapshot.display_financial_status == "PENDING"
    assert snapshot.source_identifier == story.order.id
    assert f"tiktok-{story.order.id}" in snapshot.tags
    assert snapshot.note == "Gift - please no invoice in box"
    assert {li.custom_attributes[0].key for li in snapshot.line_items} == {"tiktok_sku_id"}
    assert {v.tiktok_sku_id for v in story.view.line_items} == {
        i.sku_id for i in story.order.line_items
    }

    again = await story.run(create)
    assert again.status is OutcomeStatus.SUCCESS
    assert again.ids["shopify_order_id"] == story.view.id
    counts = await story.mutations()
    assert counts["orderCreate"] == 1

    await kit.control.advance(5)  # Shopify's search index lags behind new orders
    found = await story.run(
        SearchExistingShopifyOrder(source_identifier=story.order.id, tag=f"tiktok-{story.order.id}")
    )
    assert found.status is OutcomeStatus.SUCCESS
    assert found.ids["shopify_order_id"] == story.view.id
    nothing = await story.run(
        SearchExistingShopifyOrder(
            source_identifier="576000000000009999", tag="tiktok-576000000000009999"
        )
    )
    assert nothing.status is OutcomeStatus.SUCCESS
    assert "shopify_order_id" not in nothing.ids


async def test_hold_address_payment_release_each_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 2}])
    await kit.control.advance(2)
    await story.refresh()
    assert story.view is not None
    assert story.view.fulfillment_orders

    hold = only(story.decide(), PlaceHold)
    first, second, extra = await story.twice(hold)
    assert first.status is second.status is OutcomeStatus.SUCCESS
    assert first.ids["hold_ids"] == second.ids["hold_ids"]
    assert not extra
    assert story.view is not None
    assert all(fo.holds_with(POLICY.hold_handle) for fo in story.view.fulfillment_orders)

    await kit.control.advance(HOUR + 5)  # the remorse window ends: AWAITING_SHIPMENT
    await story.refresh()
    assert story.order is not None
    assert story.order.status is TikTokStatus.AWAITING_SHIPMENT
    actions = story.decide()
    address = only(actions, UpdateShopifyAddress)
    first, second, extra = await story.twice(address)
    assert first.status is second.status is OutcomeStatus.SUCCESS
    assert not extra

    # Writing the address made Shopify recalculate the tax (the store collects none): the
    # tax TikTok collected is added back once, before any payment.
    restore = only(story.decide(), RestoreTax)
    first, second, extra = await story.twice(restore)
    assert first.status is second.status is OutcomeStatus.SUCCESS
    assert second.message == "the total already equals the plan's"
    assert not extra

    payment = only(story.decide(), RecordPayment)
    assert payment.amount == story.order.payment.total_amount
    first, second, extra = await story.twice(payment)
    assert first.status is second.status is OutcomeStatus.SUCCESS
    assert second.message == "nothing outstanding"
    assert not extra
    assert story.view is not None
    assert story.view.financial_status == "PAID"

    release = only(story.decide(), ReleaseHold)
    first, second, extra = await story.twice(release)
    assert first.status is second.status is OutcomeStatus.SUCCESS
    assert not extra
    assert story.view is not None
    assert not any(fo.holds_with(POLICY.hold_handle) for fo in story.view.fulfillment_orders)
    assert story.decide() == ()  # released: the merchant's fulfilment takes over


async def released(story: Story) -> None:
    """Created, held, the window over, and released through decide() as the worker would."""
    await held(story)
    await story.kit.control.advance(HOUR + 5)
    await story.refresh()
    for _ in range(4):
        actions = story.decide()
        if not actions:
            return
        for action in actions:
            outcome = await story.run(action)
            if outcome.status is OutcomeStatus.UNKNOWN and isinstance(action, RecordPayment):
                break  # the address made Shopify recalculate the tax: decide again, as the worker does
            assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
        await story.refresh()
    raise AssertionError("the release did not settle")


async def test_remove_units_then_cancel_with_its_job(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 2}])
    await held(story)
    assert story.order is not None
    assert story.view is not None
    [line] = story.view.line_items
    remove = RemoveUnits(
        shopify_order_id=story.view.id,
        line_item_id=line.id,
        quantity=1,
        tiktok_line_ids=(story.order.line_items[0].id,),
    )
    first, second, extra = await story.twice(remove)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert not extra
    assert story.view.line_items[0].current_quantity == 1

    cancel = CancelShopifyOrder(
        shopify_order_id=story.view.id,
        reason=ShopifyCancelReason.CUSTOMER,
        staff_note="Cancelled on TikTok (BUYER): changed my mind",
    )
    first, second, extra = await story.twice(cancel)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["job_id"].startswith("gid://shopify/Job/")
    assert second.ids["job_id"] == first.ids["job_id"]  # the running job, not a new one
    assert not extra
    assert story.memory.state is LinkState.CANCELLING
    assert story.memory.cancel_job_id == first.ids["job_id"]  # durable: a restart knows it
    assert story.memory.cancel_job_pending(kit.world.clock.now())

    await kit.control.advance(5)  # the job finishes
    await story.refresh()
    assert story.view is not None
    assert story.view.cancelled_at is not None
    before = await story.mutations()
    third = await story.run(cancel)
    assert third.status is OutcomeStatus.SUCCESS
    assert third.message == "already cancelled"
    assert await story.mutations() == before


async def test_providers_then_tracking_pushed_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    await released(story)
    assert story.view is not None
    assert story.order is not None
    await kit.control.fulfil(story.view.id, "UPS", UPS_NUMBER)
    await story.refresh()

    fetch = only(story.decide(), FetchShippingProviders)
    fetched = await story.run(fetch)
    assert fetched.status is OutcomeStatus.SUCCESS
    assert any(name == "UPS" for _, name in story.executor.providers[fetch.delivery_option_id])

    push = only(story.decide(), PushTracking)
    assert push.line_ids == tuple(i.id for i in story.order.line_items)
    first, second, extra = await story.twice(push)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["package_id"]
    assert second.ids["package_id"] == first.ids["package_id"]
    assert not extra  # no second mark-as-shipped
    packages = await kit.control.tiktok_packages(story.order.id)
    assert len(packages) == 1
    assert story.order.status is TikTokStatus.AWAITING_COLLECTION


async def test_approve_a_buyer_cancellation_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    await held(story)
    await kit.control.advance(HOUR + 5)
    await story.refresh()
    assert story.order is not None
    await kit.control.tiktok_action(story.order.id, "buyer_cancel", {"reason": "changed mind"})
    page = await kit.tiktok.search_cancellations(CancellationFilter(order_ids=[story.order.id]))
    [request] = [to_domain_cancellation(c) for c in page.cancellations]
    assert request.deadline is not None

    approve = ApproveCancellation(cancel_id=request.cancel_id, idempotency_key=request.cancel_id)
    first, second, extra = await story.twice(approve)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert second.message == "already approved"
    assert not extra
    assert request.cancel_id in story.memory.cancels_approved


async def test_refusals_are_rejected_with_the_vendors_words(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    assert story.order is not None
    assert story.order.status is TikTokStatus.ON_HOLD
    providers = await kit.tiktok.get_shipping_providers(story.order.delivery_option_id)
    ups = next(p.id for p in providers if p.name == "UPS")
    early = PushTracking(
        tiktok_order_id=story.order.id,
        tracking_number=UPS_NUMBER,
        provider_id=ups,
        line_ids=(story.order.line_items[0].id,),
        source_fulfillment_id="gid://shopify/Fulfillment/1",
    )
    outcome = await story.run(early)
    assert outcome.status is OutcomeStatus.REJECTED
    assert "21011003" in outcome.message  # ON_HOLD: TikTok refuses tracking
    assert story.memory.rejection(early.key) is not None

    threepl = await story.run(CancelThreePLOrder(threepl_order_id="MCF-1"))
    assert threepl.status is OutcomeStatus.REJECTED
    assert "no 3PL configured" in threepl.message


async def test_a_lost_create_response_is_unknown_and_found_by_search(kit: Kit) -> None:
    story = Story(kit, shopify=shopify_client(kit.info, kit.http, timeout=1.0))
    await story.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    create = only(story.decide(), CreateShopifyOrder)
    await kit.control.add_fault("shopify", "orderCreate", drop_response_rate=1, limit=1)
    outcome = await story.run(create)
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.message
    assert story.memory.state is LinkState.CREATE_UNKNOWN
    assert (await story.mutations())["orderCreate"] == 1  # it did happen

    await kit.control.advance(5)  # the search index catches up
    search = only(story.decide(), SearchExistingShopifyOrder)
    found = await story.run(search)
    assert found.status is OutcomeStatus.SUCCESS
    assert found.ids["shopify_order_id"]
    assert story.memory.shopify_order_id == found.ids["shopify_order_id"]
    assert story.memory.state is LinkState.CREATED_HELD


async def test_an_auth_failure_is_raised_for_the_connection(kit: Kit) -> None:
    bad = ShopifyClient(
        shop_domain=kit.shopify.shop_domain,
        access_token="shpat_not_a_real_token",
        http=kit.http,
        api_version=kit.info["shopify"]["api_version"],
        endpoint_template=kit.info["shopify"]["graphql_url_template"],
    )
    story = Story(kit, shopify=bad)
    await story.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    create = only(story.decide(), CreateShopifyOrder)
    with pytest.raises(AuthError):
        await story.executor.execute(create, story.ctx())


async def test_tags_and_notes_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    assert story.view is not None
    tags = AddTags(shopify_order_id=story.view.id, tags=("tiktok-in-transit",))
    first, second, extra = await story.twice(tags)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert not extra
    assert story.view is not None
    assert {"tiktok-in-transit", "TikTok"} <= set(story.view.tags)  # nothing lost

    note = RecordNote(shopify_order_id=story.view.id, note_id="3pl-no-tracking", text="Shipping.")
    outcome = await story.run(note)
    assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
    before = await story.mutations()
    again = await story.executor.execute(note, replace(story.ctx(), memory=LinkMemory()))
    assert again.status is OutcomeStatus.SUCCESS
    assert again.message == "note already on the order"  # read back, not written twice
    assert await story.mutations() == before
    snapshot = await kit.shopify.get_order(story.view.id)
    assert snapshot.note is not None
    assert snapshot.note.endswith("Shipping.")
