"""Backfill links what already exists in Shopify and queues the rest (both databases).

A seller switching from another connector: some TikTok orders already have a Shopify order
(SKU IQ's tags carry the TikTok order id), one even twice. ``backfill`` must link the
oldest of them (never create another), start the link held while TikTok has not cleared
the order to ship, and queue the orders with no Shopify order so the engine creates them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orderbridge.engine.poller import BACKFILL_SEARCH_HOLD, backfill

from .conftest import HOUR, Harness

CREATE = """mutation($order: OrderCreateOrderInput!) {
  orderCreate(order: $order) { order { id name } userErrors { field message } }
}"""


async def _other_connector_order(h: Harness, tiktok_id: str) -> str:
    """What another connector made in Shopify for ``tiktok_id`` (its own mutation, its tags)."""
    shop = h.info["shopify"]["shops"][0]
    url = h.info["shopify"]["graphql_url_template"].format(shop=shop["domain"],
                                                          version=h.info["shopify"]["api_version"])
    order: dict[str, Any] = {
        "lineItems": [{"title": "Merino set", "quantity": 1,
                       "priceSet": {"shopMoney": {"amount": "20.00", "currencyCode": "USD"}}}],
        "tags": ["skuiq", "tiktokpos", tiktok_id],
    }
    answer = await h.http.post(url, json={"query": CREATE, "variables": {"order": order}},
                               headers={"X-Shopify-Access-Token": shop["access_token"]})
    answer.raise_for_status()
    created = answer.json()["data"]["orderCreate"]
    assert not created["userErrors"], created
    return str(created["order"]["id"])


async def _creates(h: Harness) -> int:
    counts = await h.control.mutation_counts()
    return int(counts["per_shop"][h.connection.shopify_domain].get("orderCreate", 0))


async def test_backfill_links_the_oldest_existing_order_and_queues_the_rest(harness: Harness) -> None:
    h = harness
    start = h.now() - timedelta(minutes=1)
    adopted = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    twice = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    fresh = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    theirs = await _other_connector_order(h, adopted)
    await h.advance(5, settle=False)
    first_of_two = await _other_connector_order(h, twice)
    await h.advance(5, settle=False)
    await _other_connector_order(h, twice)  # a duplicate the other connector made later
    await h.advance(120, settle=False)  # Shopify's search index catches up
    creates_before = await _creates(h)

    report = await backfill(h.services, h.connection, start, None)

    assert (report.seen, report.created_links, report.linked_existing) == (3, 3, 2)
    for tiktok_id, shopify_id in ((adopted, theirs), (twice, first_of_two)):
        link = h.link(tiktok_id)
        assert link.shopify_order_id == shopify_id
        assert link.state == "created_held"  # TikTok has not cleared it to ship yet
    assert h.link(fresh).shopify_order_id is None

    await h.advance(BACKFILL_SEARCH_HOLD.total_seconds() + 60)
    await h.advance(HOUR + 20 * 60)
    assert await _creates(h) - creates_before == 1  # only the order nobody made
    assert h.link(fresh).shopify_order_id
    for tiktok_id, shopify_id in ((adopted, theirs), (twice, first_of_two)):
        assert h.link(tiktok_id).shopify_order_id == shopify_id
        assert h.link(tiktok_id).state == "released", h.link(tiktok_id).last_error
