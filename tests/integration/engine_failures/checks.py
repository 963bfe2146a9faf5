"""The invariants of lifecycle.md, checked against the sandboxes' state and the engine's DB.

``orderbridge.invariants`` checks the six; the rest is what each story expects. Each failure names the order
and shows its timeline.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from orderbridge.adapters.db.tables import inbox
from orderbridge.invariants import check_invariants as lifecycle_invariants

from .conftest import Stack, paid_time

REMORSE: timedelta = timedelta(hours=1)


def _gid(value: str) -> str:
    return value if value.startswith("gid://") else f"gid://shopify/Order/{value}"


async def check_invariants(
    stack: Stack,
    *,
    cancelled: set[str] = frozenset(),  # type: ignore[assignment]
    tracked: dict[str, str] | None = None,
) -> None:
    """lifecycle.md's invariants (``orderbridge.invariants``), then what this story expects of
    each placed order: one Shopify order, no release before paid + 1 h, exactly the expected
    cancellations mirrored, the merchant's number pushed once; the inbox holds each
    delivered event once."""
    report = await lifecycle_invariants(stack.control, stack.services, stack.connection.id, now=stack.now())
    problems: list[str] = [] if report.passed else ["\n".join(report.lines())]
    for order_id in stack.placed:
        shop_orders = await stack.shopify_orders(order_id)
        tiktok = await stack.control.tiktok_order(order_id)
        story = stack.timeline(order_id)
        if len(shop_orders) != 1:
            problems.append(f"{len(shop_orders)} Shopify orders\n  {stack.story(order_id)}")
            continue
        shop = await stack.control.shopify_order(str(shop_orders[0]["id"]))
        # 2. no early release: every release of our hold at or after paid_time + 1 h.
        paid = paid_time(tiktok)
        for event in story:
            early = paid is None or event.at < paid + REMORSE
            if event.summary.startswith("release_hold: success") and early:
                    problems.append(f"released at {event.at} before paid {paid} + 1 h\n  {stack.story(order_id)}")
        # 3. cancellations mirrored, and only those.
        tiktok_cancelled = tiktok["status"] == "CANCELLED"
        shop_cancelled = bool(shop.get("cancelled_at"))
        if (order_id in cancelled) != tiktok_cancelled:
            problems.append(f"TikTok status {tiktok['status']}, expected cancelled={order_id in cancelled}")
        if tiktok_cancelled != shop_cancelled:
            problems.append(f"TikTok {tiktok['status']} but Shopify cancelled_at={shop.get('cancelled_at')}"
                            f"\n  {stack.story(order_id)}")
        # 4. tracking: one package with the merchant's number, pushed by one successful action.
        pushes = [e for e in story if e.summary.startswith("push_tracking: success")]
        if tracked is not None and order_id in tracked:
            # The control route lists every package (its order_id parameter is not a filter).
            packages = await stack.control.tiktok_packages()
            numbers = [p["tracking_number"] for p in packages if order_id in p["orders"]]
            if numbers != [tracked[order_id]] or len(pushes) != 1:
                problems.append(f"packages {numbers}, {len(pushes)} successful pushes, expected one of "
                                f"{tracked[order_id]}\n  {stack.story(order_id)}")
        elif pushes:
            problems.append(f"tracking pushed for an order nobody fulfilled\n  {stack.story(order_id)}")
        if problems and not problems[-1].startswith(order_id):
            problems[-1] = f"order {order_id}: {problems[-1]}"
    problems.extend(inbox_problems(stack))
    assert not problems, "invariants broken:\n" + "\n".join(problems)


def delivery_key(stack: Stack, delivery: Any) -> tuple[str, str]:
    """The inbox key (source, event id) the engine stores a delivery under."""
    if delivery.stream == "tiktok":  # the notification id, or the body's digest without one
        notification = json.loads(delivery.body).get("tts_notification_id")
        return ("tiktok", str(notification) if notification else
                "sha256:" + hashlib.sha256(delivery.body).hexdigest())
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    return ("shopify", f"{headers['x-shopify-topic']}:{headers['x-shopify-event-id']}")


def delivery_keys(stack: Stack) -> list[tuple[str, str]]:
    """Every delivery's inbox key, per sandbox in the order the deliveries were created."""
    return [delivery_key(stack, d) for dispatcher in (stack.world.tiktok.dispatcher,
                                                      stack.world.shopify.dispatcher)
            for d in sorted(dispatcher.deliveries, key=lambda d: d.id) if d.duplicate_of is None]


def delivered_keys(stack: Stack) -> tuple[Counter[tuple[str, str]], int]:
    """Inbox keys of every delivered webhook (with repeats), and how many were redeliveries
    of an event already delivered."""
    keys: Counter[tuple[str, str]] = Counter()
    for dispatcher in (stack.world.tiktok.dispatcher, stack.world.shopify.dispatcher):
        for delivery in dispatcher.deliveries:
            if delivery.status == "delivered":
                keys[delivery_key(stack, delivery)] += 1
    repeats = sum(n - 1 for n in keys.values())
    return keys, repeats


def inbox_problems(stack: Stack) -> list[str]:
    """Nothing delivered is lost, nothing delivered twice is stored twice."""
    keys, _ = delivered_keys(stack)
    rows: list[Any] = stack._read(lambda c: c.execute(select(inbox.c.source, inbox.c.event_id)).all())
    stored = Counter((str(s), str(e)) for s, e in rows)
    out = [f"inbox holds {k} {n} times" for k, n in stored.items() if n != 1]
    missing = sorted(set(keys) - set(stored))
    if missing:
        out.append(f"delivered but not in the inbox: {missing[:10]}")
    return out


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
