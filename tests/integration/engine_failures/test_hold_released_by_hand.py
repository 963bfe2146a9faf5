"""A hold released by hand in Shopify is noticed within seconds, not at the 15-minute re-check.

lifecycle.md: "If someone releases our hold by hand before we would, respect it (a person
decided)" and raise HOLD_RELEASED_BY_HAND. The engine subscribes to
``fulfillment_orders/hold_released``; Shopify sends it when a fulfilment order's last hold
goes, naming only the fulfilment order, which the link's memory knows. So the link is due at
once. Everything arrives over real HTTP (signed by the sandbox, verified by the web app);
the clock is frozen and moves by seconds only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from orderbridge.adapters.db import order_exceptions, transaction
from orderbridge.adapters.db.tables import inbox

from .conftest import Stack, carries_our_hold, open_fulfillment_orders, shop_order_of, wait_until

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
SEED = 7
TOPIC = "fulfillment_orders/hold_released"
# Engine-clock seconds the engine may take to notice (the re-check is 15 minutes away).
WITHIN_SECONDS = 5.0


def _deliveries(s: Stack) -> list[tuple[str, dict[str, Any]]]:
    with transaction(s.services.db, write=False) as conn:
        return [(str(r.event_id), dict(r.headers)) for r in conn.execute(
            select(inbox.c.event_id, inbox.c.headers).where(inbox.c.topic == TOPIC).order_by(inbox.c.id))]


def _codes(s: Stack, order_id: str) -> list[str]:
    link = s.link(order_id)
    assert link is not None
    with transaction(s.services.db, write=False) as conn:
        return [e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)]


async def test_a_hold_released_by_hand_is_noticed_within_seconds(stack_factory: StackFactory) -> None:
    async with stack_factory(seed=SEED) as s:
        order_id = await s.place()
        await s.advance(60)
        await s.advance(60)  # the fulfilment order appears, the hold goes on

        async def held() -> str | None:
            fos = open_fulfillment_orders(await shop_order_of(s, order_id))
            return None if fos and all(carries_our_hold(fo) for fo in fos) else f"not held yet\n  {s.story(order_id)}"

        await wait_until(held, 20, "the hold")
        await s.settle()
        [fo] = open_fulfillment_orders(await shop_order_of(s, order_id))
        link = s.link(order_id)
        assert link is not None
        assert link.state == "created_held", s.story(order_id)
        assert link.next_due_at is not None
        # Nothing else would look at the order for minutes (the release is an hour away):
        # only the webhook can explain noticing it within seconds.
        assert link.next_due_at.replace(tzinfo=s.now().tzinfo) - s.now() > timedelta(minutes=5), s.story(order_id)
        assert _deliveries(s) == []
        assert "HOLD_RELEASED_BY_HAND" not in _codes(s, order_id)

        # The merchant presses "Release fulfillment" in Shopify's admin.
        released_at = s.now()
        answer = await s.control.release_by_hand(fo["id"])
        assert answer["status"] == "OPEN"
        await s.control.advance(WITHIN_SECONDS)

        # The clock stays frozen while we wait (real time) for the delivery and the pass.
        async def arrived() -> str | None:
            return None if await asyncio.to_thread(_deliveries, s) else f"no {TOPIC} in the inbox"

        async def noticed() -> str | None:
            codes = await asyncio.to_thread(_codes, s, order_id)
            return None if "HOLD_RELEASED_BY_HAND" in codes else f"not noticed yet\n  {s.story(order_id)}"

        await wait_until(arrived, 20, f"the {TOPIC} webhook")
        await wait_until(noticed, 20, "HOLD_RELEASED_BY_HAND")
        await s.settle()
        assert s.now() - released_at <= timedelta(seconds=WITHIN_SECONDS)

        [(_event, headers)] = _deliveries(s)
        assert headers["x-shopify-shop-domain"] == s.connection.shopify_domain
        story = s.story(order_id)
        assert f"Shopify webhook {TOPIC}" in story
        assert "Our hold was released by hand: respected, not placed again." in story
        # Respected: the hold is not placed again.
        [after] = open_fulfillment_orders(await shop_order_of(s, order_id))
        assert after["id"] == fo["id"]
        assert not carries_our_hold(after), story
        link = s.link(order_id)
        assert link is not None
        assert link.state == "created_held", story
