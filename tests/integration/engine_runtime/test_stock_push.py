"""Shopify's stock pushed to TikTok, through the web intake, the pusher and both sandboxes,
on both databases (the harness's ``migrated_db_url``).

Shopify's ``inventory_levels/update`` deliveries are taken from the sandbox's delivery log
(signed by the sandbox) and posted to the web app, as Shopify would post them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from orderbridge.adapters.db import sku_links, transaction
from orderbridge.adapters.db import stock as stock_db
from orderbridge.adapters.db.tables import inbox as inbox_table
from orderbridge.devkit import SandboxError
from orderbridge.domain.stock_push import PROMOTION_LOCKED_CODE
from orderbridge.engine.connect import find_connection
from orderbridge.engine.policy_store import set_policy, show_policy
from orderbridge.engine.stock_push import CLAIM_FOR, ProductOutcome, StockPusher
from orderbridge.engine.stock_sync import read_shopify_stock, stock_diff, stock_sync
from orderbridge.errors import ConfigurationError
from orderbridge.web.app import create_app

from .conftest import Harness

SKU = "MW-SET-NAT"
HOOK_URI = "http://127.0.0.1:9/webhooks/shopify"


@dataclass
class Rig:
    h: Harness
    app: httpx.AsyncClient
    pusher: StockPusher
    seen: set[int] = field(default_factory=set)

    def link(self) -> sku_links.SkuLinkRow:
        with transaction(self.h.services.db, write=False) as conn:
            [variant] = sku_links.variants_by_sku(conn, self.h.connection.id, SKU)
            [link] = [row for row in sku_links.list_sku_links(conn, self.h.connection.id)
                      if row.shopify_variant_id == variant.variant_id]
        return link

    async def deliver_shopify_hooks(self) -> int:
        """Post every new inventory_levels/update delivery to the web app; how many."""
        posted = 0
        for row in await self.h.control.deliveries(sandbox="shopify", topic="inventory_levels/update"):
            if row["id"] in self.seen or row.get("duplicate_of"):
                continue
            self.seen.add(row["id"])
            full = await self.h.control.delivery(row["id"])
            answer = await self.app.post("/webhooks/shopify", content=full["body"].encode(),
                                         headers=full["headers"])
            assert answer.status_code == 200, answer.text
            posted += 1
        return posted

    async def push(self) -> list[ProductOutcome]:
        done: list[ProductOutcome] = []
        while True:
            outcomes = await self.pusher.run_once()
            if not outcomes:
                return done
            done.extend(outcomes)

    async def tiktok_stock(self, sku_id: str | None = None) -> int:
        wanted = sku_id or self.link().tiktok_sku_id
        for product in await self.h.control.tiktok_products(self.h.connection.tiktok_shop_id):
            for sku in product["skus"]:
                if sku["id"] == wanted:
                    return sum(int(i["quantity"]) for i in sku["inventory"])
        raise AssertionError("SKU not on TikTok")

    def rows(self) -> list[stock_db.StockRow]:
        with transaction(self.h.services.db, write=False) as conn:
            return stock_db.list_rows(conn, self.h.connection.id)


@pytest.fixture
async def rig(harness: Harness) -> AsyncIterator[Rig]:
    h = harness
    set_policy(h.services, h.connection, "stock", '{"debounce_seconds": 1}')
    shopify = h.services.shopify_client(h.connection)
    await shopify.create_webhook_subscription("INVENTORY_LEVELS_UPDATE", HOOK_URI)
    pusher = StockPusher(db=h.services.db, clock=h.services.clock, cipher=h.services.cipher,
                         tiktok_for=h.services.tiktok_client, shopify_for=h.services.shopify_client)
    transport = httpx.ASGITransport(app=create_app(h.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as app:
        yield Rig(h, app, pusher)


async def test_a_store_sale_reaches_tiktok_at_once_then_once_a_window(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.set_shopify_available(link.shopify_variant_id, 7)
    assert await rig.deliver_shopify_hooks() == 1
    [row] = rig.rows()
    assert row.tiktok_sku_id == link.tiktok_sku_id
    assert row.due_at == h.now()  # never pushed: at once
    [outcome] = await rig.push()
    assert outcome.pushed[link.tiktok_sku_id] == {"": 7}  # with the product's other SKUs
    assert await rig.tiktok_stock() == 7
    [row] = rig.rows()
    assert row.due_at is None
    assert row.pushed == {"": 7}
    assert row.problem_kind is None
    # Two more changes within the window (1 s): one push, a window after the last.
    for units in (6, 5):
        await h.control.set_shopify_available(link.shopify_variant_id, units)
    assert await rig.deliver_shopify_hooks() == 2
    assert await rig.push() == []
    await h.control.advance(1)
    [outcome] = await rig.push()
    assert outcome.pushed[link.tiktok_sku_id] == {"": 5}
    assert await rig.tiktok_stock() == 5


async def test_unmirrored_tiktok_orders_and_the_buffer_are_held_back(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    set_policy(h.services, h.connection, "stock", '{"debounce_seconds": 0, "buffer_units": 1}')
    await h.control.set_shopify_available(link.shopify_variant_id, 10)
    await rig.deliver_shopify_hooks()
    await rig.push()
    assert await rig.tiktok_stock() == 9
    # Two TikTok orders the engine has not mirrored: TikTok took 2, Shopify still says 10.
    for _ in range(2):
        await h.place(items=[{"seller_sku": SKU, "units": 1}])
    await h.control.set_shopify_available(link.shopify_variant_id, 8)  # the store sold 2 itself
    await rig.deliver_shopify_hooks()
    await rig.push()
    assert await rig.tiktok_stock() == 8 - 2 - 1


async def test_a_promotion_lock_is_a_visible_problem_not_a_retry_loop(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.tiktok_stock_lock(h.connection.tiktok_shop_id, link.tiktok_sku_id, PROMOTION_LOCKED_CODE)
    before = await rig.tiktok_stock()
    await h.control.set_shopify_available(link.shopify_variant_id, 3)
    await rig.deliver_shopify_hooks()
    await h.control.advance(1)
    [outcome] = await rig.push()
    assert outcome.problems[link.tiktok_sku_id].code == PROMOTION_LOCKED_CODE
    [row] = rig.rows()
    assert row.problem_kind == "promotion_locked"
    assert row.due_at is None
    assert await rig.tiktok_stock() == before
    await h.control.advance(3600)
    assert await rig.push() == []
    # The promotion ends; the next change pushes and clears the problem.
    await h.control.tiktok_stock_lock(h.connection.tiktok_shop_id, link.tiktok_sku_id, None)
    await h.control.set_shopify_available(link.shopify_variant_id, 4)
    await rig.deliver_shopify_hooks()
    await h.control.advance(1)
    await rig.push()
    [row] = rig.rows()
    assert row.problem_kind is None
    assert await rig.tiktok_stock() == 4


async def test_live_burst_never_sells_more_than_the_stock(rig: Rig) -> None:
    """50 units; 200 TikTok buyers and 10 store sales interleaved on the sandbox clock, the
    engine mirroring orders and the pusher running between them: at most 50 sold."""
    h, link = rig.h, rig.link()
    stock = 50
    set_policy(h.services, h.connection, "stock", '{"debounce_seconds": 0.5}')
    await h.control.set_shopify_available(link.shopify_variant_id, stock)
    await rig.deliver_shopify_hooks()
    await h.control.advance(0.5)
    await rig.push()
    assert await rig.tiktok_stock() == stock
    tiktok_sold, store_sold, placed = 0, 0, []
    for buyer in range(200):
        try:
            placed.append(await h.place(items=[{"seller_sku": SKU, "units": 1}]))
            tiktok_sold += 1
        except SandboxError:
            pass  # TikTok refuses: out of stock
        if buyer % 20 == 10:
            try:
                await h.control.merchant_sale(h.connection.shopify_domain, SKU, 1)
                store_sold += 1
            except SandboxError:
                pass  # the store refuses beyond its stock
        if buyer % 5 == 4:  # every few buyers the engine and the pusher catch up
            h.mark_due(*placed[-5:])
            await h.settle()
            await rig.deliver_shopify_hooks()
            await h.control.advance(0.5)
            await rig.push()
    assert tiktok_sold + store_sold <= stock, (tiktok_sold, store_sold)
    assert tiktok_sold > 0
    assert store_sold > 0
    h.mark_due(*placed)
    await h.settle()
    await rig.deliver_shopify_hooks()
    await h.control.advance(1)
    await rig.push()
    available = await h.control.inventory(link.shopify_variant_id)
    assert await rig.tiktok_stock() == max(sum(available["available"].values()), 0)


async def test_diff_then_sync_then_no_diff(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.set_shopify_available(link.shopify_variant_id, 9)  # not delivered: a lost webhook
    tiktok, shopify = h.services.tiktok_client(h.connection), h.services.shopify_client(h.connection)
    diffs = await stock_diff(h.services.db, h.connection, tiktok, shopify, h.now())
    mine = [d for d in diffs if d.diff.sku_id == link.tiktok_sku_id]
    assert [(d.diff.expected, d.diff.tiktok, d.seller_sku) for d in mine] == [(9, await rig.tiktok_stock(), SKU)]
    seen: list[tuple[int, int]] = []
    found, products = await stock_sync(h.services.db, h.connection, tiktok, shopify, rig.pusher, h.now(),
                                       lambda done, total: seen.append((done, total)))
    assert found == diffs
    assert products == len({d.product_id for d in diffs})
    assert seen[0] == (0, products)
    assert seen[-1] == (products, products)
    assert await rig.tiktok_stock() == 9
    assert await stock_diff(h.services.db, h.connection, tiktok, shopify, h.now()) == []


async def test_the_stock_policy_is_shown_with_defaults_and_validated(rig: Rig) -> None:
    h = rig.h
    shown = show_policy(find_connection(h.services, h.connection.name))
    assert shown["stock"]["enabled"] is True
    assert shown["stock"]["debounce_seconds"] == 1
    with pytest.raises(ConfigurationError, match="buffer_percent"):
        set_policy(h.services, h.connection, "stock", '{"buffer_percent": 150}')
    stored = set_policy(h.services, h.connection, "stock", '{"enabled": false}')
    assert stored["stock"] == {"enabled": False}
    # Disabled: a change makes nothing due.
    link = rig.link()
    await h.control.set_shopify_available(link.shopify_variant_id, 3)
    await rig.deliver_shopify_hooks()
    assert rig.rows() == []


async def test_shared_stock_is_its_own_kind_of_problem(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.tiktok_stock_lock(h.connection.tiktok_shop_id, link.tiktok_sku_id, 12052394)
    await h.control.set_shopify_available(link.shopify_variant_id, 3)
    await rig.deliver_shopify_hooks()
    [outcome] = await rig.push()
    assert outcome.problems[link.tiktok_sku_id].code == 12052394
    [row] = rig.rows()
    assert row.problem_kind == "shared_inventory"
    assert row.problem_message is not None
    assert "shares its stock" in row.problem_message


async def test_a_tiktok_outage_is_retried_with_back_off(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.add_fault("tiktok", "*inventory/update*", error_rate=1.0)
    await h.control.set_shopify_available(link.shopify_variant_id, 6)
    await rig.deliver_shopify_hooks()
    [outcome] = await rig.push()
    assert link.tiktok_sku_id in outcome.retried
    [row] = rig.rows()
    assert row.attempts == 1
    assert row.problem_kind is None
    assert row.due_at == h.now() + timedelta(seconds=5)
    await h.control.clear_faults()
    await h.control.advance(5)
    await rig.push()
    [row] = rig.rows()
    assert row.attempts == 0
    assert row.due_at is None
    assert await rig.tiktok_stock() == 6


async def test_mapped_locations_are_summed_into_the_named_warehouse(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    [warehouse] = {i["warehouse_id"] for p in await h.control.tiktok_products(h.connection.tiktok_shop_id)
                   for s in p["skus"] for i in s["inventory"]}
    second = await h.control.add_shopify_location(h.connection.shopify_domain)
    levels = await h.control.inventory(link.shopify_variant_id)
    first = next(iter(levels["available"]))
    mapping = {"warehouses": {warehouse: [first, second]}, "buffer_percent": 10, "debounce_seconds": 0}
    set_policy(h.services, h.connection, "stock", json.dumps(mapping))
    await h.control.set_shopify_available(link.shopify_variant_id, 15)
    await rig.deliver_shopify_hooks()
    [outcome] = await rig.push()
    assert outcome.pushed[link.tiktok_sku_id] == {warehouse: 13}  # 15 less 10 % rounded up
    assert await rig.tiktok_stock() == 13
    tiktok, shopify = h.services.tiktok_client(h.connection), h.services.shopify_client(h.connection)
    fresh = find_connection(h.services, h.connection.name)
    diffs = await stock_diff(h.services.db, fresh, tiktok, shopify, h.now())
    assert link.tiktok_sku_id not in {d.diff.sku_id for d in diffs}


async def test_shopify_stock_is_read_by_location_in_pages(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.set_shopify_available(link.shopify_variant_id, 21)
    shopify = h.services.shopify_client(h.connection)
    [location] = await shopify.locations()
    small = [(item, level.available) async for item, level in shopify.iter_location_levels(location.id, page_size=2)]
    assert len(small) > 2  # several pages
    assert dict(small) == {item: by_loc[location.id] for item, by_loc in (await read_shopify_stock(shopify)).items()}
    assert dict(small)[str(link.shopify_inventory_item_id)] == 21


async def test_a_link_without_its_tiktok_product_is_a_problem_not_silence(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    with transaction(h.services.db) as conn:
        sku_links.upsert_sku_link(conn, h.connection.id, "ghost-sku", link.shopify_variant_id, now=h.now(),
                                  shopify_inventory_item_id=link.shopify_inventory_item_id)
    await h.control.set_shopify_available(link.shopify_variant_id, 2)
    await rig.deliver_shopify_hooks()
    outcomes = await rig.push()
    ghost = next(o for o in outcomes if o.product_id is None)
    assert "skus import" in ghost.problems["ghost-sku"].message
    assert {r.tiktok_sku_id: r.problem_kind for r in rig.rows()}["ghost-sku"] == "rejected"
    assert await rig.tiktok_stock(link.tiktok_sku_id) == 2  # the real SKU of the same item was pushed


async def test_an_inventory_webhook_without_its_item_is_kept_with_the_error(rig: Rig) -> None:
    h = rig.h
    body = json.dumps({"location_id": 1, "available": 3}).encode()
    secret = str(h.services.settings.shopify_client_secret)
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Topic": "inventory_levels/update", "X-Shopify-Hmac-Sha256": signature,
               "X-Shopify-Shop-Domain": h.connection.shopify_domain, "X-Shopify-Event-Id": "ev-no-item",
               "X-Shopify-Webhook-Id": "wh-no-item", "Content-Type": "application/json"}
    answer = await rig.app.post("/webhooks/shopify", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert rig.rows() == []
    with transaction(h.services.db, write=False) as conn:
        row = conn.execute(select(inbox_table).where(
            inbox_table.c.event_id == "inventory_levels/update:ev-no-item")).one()
    assert "inventory_item_id" in (row.error or "")
    assert row.body == body  # kept as it came
    bad = await rig.app.post("/webhooks/shopify", content=body, headers={**headers, "X-Shopify-Hmac-Sha256": "x"})
    assert bad.status_code == 401


async def test_a_pusher_that_died_mid_claim_gives_its_skus_back(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.set_shopify_available(link.shopify_variant_id, 8)
    await rig.deliver_shopify_hooks()
    with transaction(h.services.db) as conn:  # a pusher claims, then its process is killed
        claimed = stock_db.claim_due(conn, now=h.now(), claim_for=CLAIM_FOR)
    assert link.tiktok_sku_id in {c.tiktok_sku_id for c in claimed}
    fresh = StockPusher(db=h.services.db, clock=h.services.clock, cipher=h.services.cipher,
                        tiktok_for=h.services.tiktok_client, shopify_for=h.services.shopify_client)
    assert await fresh.run_once() == []  # still claimed
    assert await fresh.next_due_time() == h.now() + CLAIM_FOR
    await h.control.advance(CLAIM_FOR.total_seconds())
    [outcome] = await fresh.run_once()
    assert outcome.pushed[link.tiktok_sku_id] == {"": 8}


async def test_every_linked_sku_is_reconciled_at_start_then_every_day(rig: Rig) -> None:
    h, link = rig.h, rig.link()
    await h.control.set_shopify_available(link.shopify_variant_id, 11)  # no webhook delivered
    marked = await rig.pusher.reconcile_if_due()
    assert marked == len(rig.rows()) > 1  # every linked SKU
    await rig.push()
    assert await rig.tiktok_stock() == 11
    assert await rig.pusher.reconcile_if_due() == 0  # done for today
    await h.control.advance(23 * 3600)
    assert await rig.pusher.reconcile_if_due() == 0
    await h.control.advance(3600)
    assert await rig.pusher.reconcile_if_due() == marked
    set_policy(h.services, h.connection, "stock", '{"reconcile_hours": 0}')
    await h.control.advance(48 * 3600)
    assert await rig.pusher.reconcile_if_due() == 0
