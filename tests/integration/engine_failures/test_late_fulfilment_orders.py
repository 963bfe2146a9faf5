"""A fulfilment order Shopify makes after our hold (split, moved) gets the hold within seconds.

lifecycle.md: "A fulfilment order that appears later (split, moved) gets it too." The new
fulfilment order carries no hold (a hold belongs to the fulfilment order it was placed on),
so the merchant could ship it before TikTok's window ends. The engine subscribes to
``fulfillment_orders/split`` and ``fulfillment_orders/moved``; the webhook names the
original fulfilment order, which the link's memory knows, so the link is due at once — not
at the periodic re-check 15 minutes later. The clock is frozen: only seconds pass here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from orderbridge.adapters.db import order_exceptions, transaction
from orderbridge.adapters.db.tables import inbox

from .conftest import (
    HOUR,
    Stack,
    carries_our_hold,
    open_fulfillment_orders,
    shop_order_of,
    wait_until,
)

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]
SEED = 5
ITEMS = [{"seller_sku": "MW-SET-NAT", "units": 2}, {"seller_sku": "BOWL-WHT", "units": 1}]
# Engine-clock seconds the new fulfilment order may wait for its hold.
WITHIN_SECONDS = 5.0


async def _held_story(s: Stack) -> tuple[str, dict[str, Any]]:
    """An order paid at checkout, mirrored and held; returns it and its one fulfilment order."""
    order_id = await s.place(items=ITEMS)
    await s.advance(60)
    await s.advance(60)  # the fulfilment orders appear, the hold goes on

    async def held() -> str | None:
        fos = open_fulfillment_orders(await shop_order_of(s, order_id))
        return None if fos and all(carries_our_hold(fo) for fo in fos) else f"not held yet\n  {s.story(order_id)}"

    await wait_until(held, 20, "the hold")
    await s.settle()  # the pass after the hold, which sets the next look far ahead
    [fo] = open_fulfillment_orders(await shop_order_of(s, order_id))
    return order_id, fo


def _fo_topics(s: Stack) -> list[str]:
    with transaction(s.services.db, write=False) as conn:
        return [str(t) for t in conn.execute(select(inbox.c.topic).where(
            inbox.c.topic.like("fulfillment_orders/%")).order_by(inbox.c.id)).scalars()]


async def _split(s: Stack, fo: dict[str, Any], _shop: str) -> str:
    line = next(ln for ln in fo["line_items"] if ln["remaining"] >= 2)
    answer = await s.control.split_fulfillment_order(fo["id"], [{"line_item_id": line["id"], "quantity": 1}])
    return str(answer["fulfillment_order_id"])


async def _move(s: Stack, fo: dict[str, Any], shop: str) -> str:
    east = await s.control.add_shopify_location(shop, "East Warehouse")
    line = next(ln for ln in fo["line_items"] if ln["remaining"] >= 2)
    answer = await s.control.move_fulfillment_order(fo["id"], east, [{"line_item_id": line["id"], "quantity": 1}])
    return str(answer["fulfillment_order_id"])


CHANGES = {"split": (_split, "fulfillment_orders/split"), "moved": (_move, "fulfillment_orders/moved")}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_a_fulfilment_order_made_after_the_hold_is_held_within_seconds(
        stack_factory: StackFactory, change: str) -> None:
    make, topic = CHANGES[change]
    async with stack_factory(seed=SEED) as s:
        order_id, fo = await _held_story(s)
        link = s.link(order_id)
        assert link is not None
        assert link.state == "created_held", s.story(order_id)
        assert link.next_due_at is not None
        # Nothing else would look at the order for minutes: only the webhook can explain a
        # hold on the new fulfilment order within seconds.
        assert link.next_due_at.replace(tzinfo=s.now().tzinfo) - s.now() > timedelta(minutes=5), s.story(order_id)

        changed_at = s.now()
        new_id = await make(s, fo, s.connection.shopify_domain)
        assert new_id != fo["id"]  # made without a hold (tests/unit/sandbox_shopify/test_split_move.py)

        await s.control.advance(WITHIN_SECONDS)

        # The clock stays frozen while we wait (real time) for the delivery and the pass: a
        # delivery still in flight is not "quiet" yet, whatever the machine's load.
        async def arrived() -> str | None:
            return None if topic in await asyncio.to_thread(_fo_topics, s) else f"no {topic} in the inbox"

        async def all_held() -> str | None:
            fos = open_fulfillment_orders(await shop_order_of(s, order_id))
            return None if all(carries_our_hold(f) for f in fos) else f"not every fulfilment order held\n  {s.story(order_id)}"

        await wait_until(arrived, 20, f"the {topic} webhook")
        await wait_until(all_held, 20, "the hold on the new fulfilment order")
        await s.settle()
        assert s.now() - changed_at <= timedelta(seconds=WITHIN_SECONDS)
        shop_order = await shop_order_of(s, order_id)
        fos = {f["id"]: f for f in open_fulfillment_orders(shop_order)}
        assert set(fos) == {fo["id"], new_id}
        assert all(carries_our_hold(f) for f in fos.values()), s.story(order_id)
        assert all(len([h for h in f["holds"] if h["handle"] == "orderbridge"]) == 1 for f in fos.values())
        link = s.link(order_id)
        assert link is not None
        assert link.state == "created_held"
        with transaction(s.services.db, write=False) as conn:
            codes = [e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)]
        assert "HOLD_RELEASED_BY_HAND" not in codes, s.story(order_id)

        # The release (its timer, an hour after payment) releases every fulfilment order.
        await s.advance(HOUR + 20 * 60)
        link = s.link(order_id)
        assert link is not None
        assert link.state == "released", s.story(order_id)
        shop_order = await shop_order_of(s, order_id)
        assert {f["id"] for f in open_fulfillment_orders(shop_order)} == {fo["id"], new_id}
        assert not [h for f in shop_order["fulfillment_orders"] for h in f["holds"]]
        assert shop_order["financial_status"].upper() == "PAID"
