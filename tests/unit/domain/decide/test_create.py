"""decide(): creating exactly one Shopify order, per policy and eligibility."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from orderbridge.domain.actions import CreateShopifyOrder, SearchExistingShopifyOrder
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import SkuResolution, SkuState
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.outcome import OutcomeStatus
from orderbridge.domain.policy import (
    CreateAt,
    CustomerNameMode,
    Policy,
    SampleOrders,
    TikTokShippedOrders,
)
from tests.unit.domain.factories import (
    MASKED,
    ORDER_ID,
    SHOPIFY_ID,
    T0,
    codes,
    first,
    kinds,
    minutes,
    observed,
    ok,
    order,
    outcome,
    recipient,
    run,
    view,
)


def test_first_sight_unpaid_creates_pending_with_inventory_claimed() -> None:
    d = run(LinkMemory(), observed(order(TikTokStatus.UNPAID, ("sku-a", "sku-a", "sku-b"))))
    create = first(d, CreateShopifyOrder)
    assert d.memory.state is LinkState.CREATING
    assert d.memory.create_attempted_at == T0
    assert d.memory.create_attempts == 1
    assert create.financial_status == "PENDING"
    assert create.claim_inventory
    assert not create.fulfilled
    assert create.shipping_address is None
    assert [(line.variant_id, line.quantity) for line in create.lines] == [
        ("v-sku-a", 2),
        ("v-sku-b", 1),
    ]
    assert create.lines[0].line_ids == ("L1", "L2")
    assert f"tiktok-{ORDER_ID}" in create.tags
    assert "TikTok" in create.tags
    assert "tiktok-relay-email" in create.tags
    assert create.source_identifier == ORDER_ID
    assert ("tiktok_order_id", ORDER_ID) in create.custom_attributes
    assert create.customer_name == "TikTok Order"
    assert create.processed_at == T0 - minutes(90)
    assert not create.buyer_accepts_marketing
    assert not create.send_receipt
    assert d.memory.first_seen_at == T0
    assert d.memory.first_seen_awaiting_at is None
    assert d.next_due_at is not None
    assert d.next_due_at <= T0 + timedelta(seconds=5)


def test_create_success_links_and_holds_next() -> None:
    d = run(LinkMemory(), observed(order(TikTokStatus.UNPAID)))
    m = ok(d.memory, first(d, CreateShopifyOrder), shopify_order_id=SHOPIFY_ID)
    assert m.state is LinkState.CREATED_HELD
    assert m.shopify_order_id == SHOPIFY_ID


def test_policy_paid_waits_for_payment() -> None:
    policy = Policy(create_at=CreateAt.PAID)
    d = run(LinkMemory(), observed(order(TikTokStatus.UNPAID)), policy=policy)
    assert kinds(d) == []
    assert d.memory.state is LinkState.NEW
    assert d.next_due_at == T0 + policy.open_recheck
    d = run(LinkMemory(), observed(order(TikTokStatus.ON_HOLD)), policy=policy)
    assert kinds(d) == ["create_shopify_order"]


def test_policy_released_creates_when_due_with_address() -> None:
    policy = Policy(create_at=CreateAt.RELEASED, open_recheck=timedelta(hours=2))
    d = run(LinkMemory(), observed(order(TikTokStatus.ON_HOLD)), policy=policy)
    assert kinds(d) == []
    # Paid 30 minutes ago: due at max(paid + 1 h, first seen awaiting shipment).
    recent = order(paid_time=T0 - minutes(30))
    d = run(LinkMemory(), observed(recent), policy=policy)
    assert kinds(d) == []
    assert d.next_due_at == T0 + minutes(30)
    d = run(d.memory, observed(recent), now=T0 + minutes(30), policy=policy)
    create = first(d, CreateShopifyOrder)
    assert create.shipping_address is not None
    assert create.shipping_address.province_code == "CA"
    m = ok(d.memory, create, shopify_order_id=SHOPIFY_ID)
    assert m.state is LinkState.RELEASED
    assert m.released_at == T0
    assert m.address_fingerprint


def test_policy_released_unmapped_sku_is_created_held() -> None:
    policy = Policy(create_at=CreateAt.RELEASED)
    seen = LinkMemory(first_seen_awaiting_at=T0 - minutes(1))
    d = run(seen, observed(order(), skus={}), policy=policy)
    create = first(d, CreateShopifyOrder)
    assert create.shipping_address is None
    assert create.lines[0].variant_id is None
    assert "UNMAPPED_SKU" in codes(d)


def test_policy_released_masked_waits() -> None:
    policy = Policy(create_at=CreateAt.RELEASED)
    seen = LinkMemory(first_seen_awaiting_at=T0 - minutes(1))
    d = run(seen, observed(order(recipient=MASKED)), policy=policy)
    assert kinds(d) == []
    assert d.memory.masked_since == T0


def test_unknown_outcome_searches_until_settled_then_recreates() -> None:
    d = run(LinkMemory(), observed(order()))
    create = first(d, CreateShopifyOrder)
    m = outcome(d.memory, create, OutcomeStatus.UNKNOWN)
    assert m.state is LinkState.CREATE_UNKNOWN
    assert m.search_started_at == T0
    now = T0
    for _ in range(3):
        d = run(m, observed(order()), now=now)
        assert kinds(d) == ["search_existing_shopify_order"]
        search = first(d, SearchExistingShopifyOrder)
        assert search.tag == f"tiktok-{ORDER_ID}"
        m = ok(d.memory, search, at=now)
        # A decision in between the searches waits.
        d = run(m, observed(order()), now=now + timedelta(seconds=10))
        assert kinds(d) == []
        assert d.next_due_at == now + timedelta(seconds=30)
        now += timedelta(seconds=30)
    # Only the search at T0+60s+... after the 2-minute settle lets a re-create happen.
    while kinds(d := run(m, observed(order()), now=now)) == ["search_existing_shopify_order"]:
        m = ok(d.memory, first(d, SearchExistingShopifyOrder), at=now)
        now += timedelta(seconds=30)
    assert kinds(d) == ["create_shopify_order"]
    assert m.last_empty_search_at is not None
    assert m.last_empty_search_at >= T0 + minutes(2)
    assert d.memory.create_attempts == 2


def test_search_found_links_without_recreating() -> None:
    m = LinkMemory(state=LinkState.CREATE_UNKNOWN, search_started_at=T0, create_attempts=1)
    d = run(m, observed(order()))
    m = ok(d.memory, first(d, SearchExistingShopifyOrder), shopify_order_id=SHOPIFY_ID)
    assert m.state is LinkState.CREATED_HELD
    assert m.shopify_order_id == SHOPIFY_ID


def test_stale_creating_is_treated_as_unknown() -> None:
    m = LinkMemory(state=LinkState.CREATING, create_attempted_at=T0 - minutes(1))
    d = run(m, observed(order()))
    assert kinds(d) == ["search_existing_shopify_order"]
    assert d.memory.state is LinkState.CREATE_UNKNOWN
    assert d.memory.search_started_at == T0 - minutes(1)


def test_rejected_create_is_raised_and_retried_later() -> None:
    d = run(LinkMemory(), observed(order()))
    m = outcome(d.memory, first(d, CreateShopifyOrder), OutcomeStatus.REJECTED, message="bad")
    assert m.state is LinkState.NEW
    d = run(m, observed(order()), now=T0 + minutes(1))
    assert kinds(d) == []
    assert "SHOPIFY_REJECTED" in codes(d)
    slow = Policy(open_recheck=timedelta(hours=2))
    assert run(m, observed(order()), now=T0 + minutes(1), policy=slow).next_due_at == (
        T0 + slow.rejected_retry
    )
    d = run(m, observed(order()), now=T0 + minutes(31))
    assert kinds(d) == ["create_shopify_order"]
    d = run(m.retry(), observed(order()), now=T0 + minutes(1))
    assert kinds(d) == ["create_shopify_order"]


def test_create_success_without_id_is_unknown() -> None:
    d = run(LinkMemory(), observed(order()))
    m = ok(d.memory, first(d, CreateShopifyOrder))
    assert m.state is LinkState.CREATE_UNKNOWN


@pytest.mark.parametrize(
    ("shipping", "fulfilment", "kind"),
    [("TIKTOK", "FULFILLMENT_BY_SELLER", "tiktok_shipped"), ("", "FULFILLMENT_BY_TIKTOK", "fbt")],
)
def test_tiktok_shipped_is_skipped_or_imported(shipping: str, fulfilment: str, kind: str) -> None:
    o = order(shipping_type=shipping, fulfillment_type=fulfilment)
    d = run(LinkMemory(), observed(o))
    assert kinds(d) == []
    assert d.memory.state is LinkState.SKIPPED
    issue = next(i for i in d.issues if i.code == "TIKTOK_SHIPPED")
    assert issue.severity == "info"
    assert issue.data["kind"] == kind
    assert d.next_due_at is None
    policy = Policy(tiktok_shipped_orders=TikTokShippedOrders.IMPORT_FULFILLED)
    d = run(LinkMemory(), observed(o), policy=policy)
    create = first(d, CreateShopifyOrder)
    assert create.fulfilled
    assert create.claim_inventory is (kind != "fbt")
    assert ("tiktok-fbt" in create.tags) is (kind == "fbt")
    m = ok(d.memory, create, shopify_order_id=SHOPIFY_ID)
    assert m.state is LinkState.RELEASED
    # Mirrored only: no hold, no tracking back.
    d = run(m, observed(o, view(fulfillment_orders=())), policy=policy)
    assert kinds(d) == []


def test_unknown_shipping_type_is_raised_not_created() -> None:
    d = run(LinkMemory(), observed(order(shipping_type="DRONE", fulfillment_type="")))
    assert kinds(d) == []
    assert "UNKNOWN_SHIPPING_TYPE" in codes(d)


def test_samples_per_policy() -> None:
    o = order(is_sample_order=True)
    d = run(LinkMemory(), observed(o))
    assert "tiktok-sample" in first(d, CreateShopifyOrder).tags
    d = run(LinkMemory(), observed(o), policy=Policy(samples=SampleOrders.SKIP))
    assert kinds(d) == []
    assert d.memory.state is LinkState.SKIPPED


@pytest.mark.parametrize(
    "rec",
    [
        recipient(state="Puerto Rico", postal_code="00901"),
        recipient(city="APO", state="AE", postal_code="09012"),
        recipient(region_code="CA", state="Ontario", postal_code="M5V"),
    ],
)
def test_unsupported_destination_never_created(rec: object) -> None:
    d = run(LinkMemory(), observed(order(recipient=rec)))
    assert kinds(d) == []
    assert "UNSUPPORTED_DESTINATION" in codes(d)


def test_masked_partial_destination_does_not_block_creation() -> None:
    o = order(TikTokStatus.UNPAID, recipient=replace(MASKED, masked=False))
    assert kinds(run(LinkMemory(), observed(o))) == ["create_shopify_order"]


def test_cancelled_before_creation_is_never_created() -> None:
    d = run(LinkMemory(), observed(order(TikTokStatus.CANCELLED)))
    assert kinds(d) == []
    assert d.memory.state is LinkState.CANCELLED
    assert d.next_due_at is None


def test_unmapped_and_ambiguous_create_custom_lines() -> None:
    skus = {"sku-b": SkuResolution(state=SkuState.AMBIGUOUS, candidates=("v1", "v2"))}
    d = run(LinkMemory(), observed(order(units=("sku-a", "sku-b")), skus=skus))
    create = first(d, CreateShopifyOrder)
    assert [line.variant_id for line in create.lines] == [None, None]
    assert create.lines[0].title == "Product sku-a"
    assert create.lines[0].sku == "SKU-A"
    assert create.lines[0].unit_price == Decimal("10.00")
    assert {"UNMAPPED_SKU", "AMBIGUOUS_SKU"} <= codes(d)
    ambiguous = next(i for i in d.issues if i.code == "AMBIGUOUS_SKU")
    assert ambiguous.data["candidates"] == "v1,v2"


def test_customer_name_title_tags_and_attributes() -> None:
    policy = Policy(
        customer_name_mode=CustomerNameMode.RECIPIENT,
        shipping_titles={"Standard Shipping": "Standard"},
        tiktok_shop_id="shop-9",
        extra_tags=("vip", "TikTok"),
        source_name="tiktok-app",
    )
    d = run(LinkMemory(), observed(order(buyer_message="gift wrap")), policy=policy)
    create = first(d, CreateShopifyOrder)
    assert create.customer_name == "Jane Doe"
    assert create.shipping_title == "Standard"
    assert create.tags.count("TikTok") == 1
    assert "vip" in create.tags
    assert ("tiktok_shop_id", "shop-9") in create.custom_attributes
    assert create.note == "gift wrap"
    assert create.source_name == "tiktok-app"


def test_totals_mismatch_is_a_warning_that_never_blocks() -> None:
    o = order()
    o = replace(o, payment=replace(o.payment, total_amount=Decimal("12.00")))
    d = run(LinkMemory(), observed(o))
    assert kinds(d) == ["create_shopify_order"]
    issue = next(i for i in d.issues if i.code == "TOTALS_MISMATCH")
    assert issue.severity == "warning"
    assert issue.data["difference"] == "-2.00"


def test_fetch_failed_changes_nothing() -> None:
    m = LinkMemory(state=LinkState.CREATED_HELD, shopify_order_id=SHOPIFY_ID)
    d = run(m, observed().__class__(tiktok=None))
    assert d.actions == ()
    assert d.memory is m
    assert d.resolved == ()
    assert d.next_due_at == T0 + Policy().search_interval


def test_unknown_status_is_raised_and_nothing_else() -> None:
    o = order(TikTokStatus.UNKNOWN, raw_status="TELEPORTED")
    d = run(LinkMemory(), observed(o))
    assert kinds(d) == []
    assert codes(d) == {"UNKNOWN_STATUS"}
    assert d.resolved == ()
    assert next(iter(d.issues)).data["raw_status"] == "TELEPORTED"
    assert d.next_due_at == T0 + Policy().open_recheck


def test_shopify_view_not_fetched_waits() -> None:
    m = LinkMemory(state=LinkState.CREATED_HELD, shopify_order_id=SHOPIFY_ID)
    d = run(m, observed(order(), None))
    assert kinds(d) == []
    assert d.resolved == ()


def test_shopify_order_gone_is_never_recreated() -> None:
    m = LinkMemory(state=LinkState.CREATED_HELD, shopify_order_id=SHOPIFY_ID)
    d = run(m, observed(order(), view(exists=False)))
    assert kinds(d) == []
    assert d.memory.state is LinkState.GONE
    assert "SHOPIFY_ORDER_GONE" in codes(d)
    assert d.next_due_at is None
    d = run(d.memory, observed(order(), None))
    assert kinds(d) == []
    assert "SHOPIFY_ORDER_GONE" in codes(d)
    d = run(d.memory.dismiss("SHOPIFY_ORDER_GONE"), observed(order(), None))
    assert "SHOPIFY_ORDER_GONE" in {c.value for c in d.resolved}


def test_done_link_is_left_alone() -> None:
    m = LinkMemory(state=LinkState.DONE, shopify_order_id=SHOPIFY_ID)
    d = run(m, observed(order(TikTokStatus.COMPLETED), view()))
    assert kinds(d) == []
    assert d.next_due_at is None
