"""An order closed longer than ``retention_days`` is still watched (returns) until it is
done, but the worker no longer keeps its buyer data: each look leaves its snapshots empty
(``link_work`` with ``retention.snapshots_expired``), on both databases."""

from __future__ import annotations

from dataclasses import replace

from orderbridge.devkit import usps_number
from orderbridge.engine.worker import Reconciler

from .conftest import Harness

RETENTION_DAYS = 0.01  # 864 s: the sandbox clock passes it in two steps


async def test_a_completed_order_past_retention_keeps_no_snapshot(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    await h.control.fulfil(shopify_id, "USPS", usps_number(22319742857))
    h.mark_due(order_id)
    await h.settle()
    for step in ("collected", "delivered", "completed"):
        await h.control.tiktok_action(order_id, step)
    short = replace(h.services, settings=h.services.settings.model_copy(
        update={"retention_days": RETENTION_DAYS}))
    worker = Reconciler(short, "retention-worker", batch=50)
    h.mark_due(order_id)
    await h.settle(worker)
    fresh = h.link(order_id)
    assert fresh.tiktok_status == "COMPLETED"
    assert fresh.tiktok_snapshot is not None  # just closed: kept
    assert fresh.shopify_snapshot is not None

    await h.advance(RETENTION_DAYS * 86_400 + 60, settle=False)
    h.mark_due(order_id)
    await h.settle(worker)

    link = h.link(order_id)
    assert link.state == "released"  # still watched
    assert (link.tiktok_snapshot, link.shopify_snapshot) == (None, None)
