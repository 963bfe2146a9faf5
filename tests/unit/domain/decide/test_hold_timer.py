"""Placing the hold sets no quick look-again timer: the engine keeps the decision's timer
after a successful hold, so it must be the release (or the periodic re-check), never a
Shopify read seconds later that memory makes pointless."""

from __future__ import annotations

from datetime import timedelta

from orderbridge.domain.actions import PlaceHold
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.policy import DEFAULT_RETRY_SOON, Policy
from tests.unit.domain.factories import (
    T0,
    first,
    fo,
    held_memory,
    minutes,
    observed,
    order,
    run,
    view,
)


def test_placing_the_hold_waits_for_the_release_not_retry_soon() -> None:
    m = held_memory(held_fulfillment_order_ids=(), first_seen_awaiting_at=T0 - minutes(10))
    fos = (fo("fo1", held=False), fo("fo2", held=False))
    o = order(paid_time=T0 - minutes(50))  # paid + 1 h = T0 + 10 min
    d = run(m, observed(o, view(fulfillment_orders=fos)))
    assert first(d, PlaceHold).fulfillment_order_ids == ("fo1", "fo2")
    assert d.next_due_at == T0 + minutes(10)
    assert d.next_due_at != T0 + DEFAULT_RETRY_SOON


def test_placing_the_hold_of_an_unpaid_order_waits_for_the_periodic_recheck() -> None:
    m = held_memory(held_fulfillment_order_ids=())
    d = run(m, observed(order(TikTokStatus.UNPAID), view(fulfillment_orders=(fo("fo1", held=False),))),
            policy=Policy(open_recheck=timedelta(minutes=15)))
    assert first(d, PlaceHold).fulfillment_order_ids == ("fo1",)
    assert d.next_due_at == T0 + minutes(15)
