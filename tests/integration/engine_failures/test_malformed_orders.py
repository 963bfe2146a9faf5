"""Bad data from TikTok over the real HTTP path: only its own order suffers.

The sandbox has no control route that corrupts an order, so the TikTok sandbox's own
``order_json`` is wrapped (in this process, where the sandbox runs) to answer, for chosen
orders, an unknown status, a missing field or a wrong type. Everything else is real: the
webhook through the web app, the signed Get Order Detail over HTTP, the client's parsing,
the batch re-read order by order, ``decide()``. (tests/integration/engine_runtime covers
the same two cases by patching after the client has parsed.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from orderbridge.adapters.db import order_exceptions, transaction
from orderbridge.sandbox.tiktok import api as tiktok_api

from .conftest import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


def _unknown_status(order: dict[str, Any]) -> None:
    order["status"] = "TELEPORTED"


def _missing_field(order: dict[str, Any]) -> None:
    del order["payment"]


def _wrong_type(order: dict[str, Any]) -> None:
    order["line_items"] = "three matcha sets"


BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown_status": _unknown_status, "missing_field": _missing_field, "wrong_type": _wrong_type,
}


@pytest.fixture
def corrupt(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Callable[[dict[str, Any]], None]]]:
    """order id -> how the TikTok sandbox breaks that order in its API answers."""
    broken: dict[str, Callable[[dict[str, Any]], None]] = {}
    real = tiktok_api.order_json

    def order_json(order: Any, now: Any, **kwargs: Any) -> dict[str, Any]:
        data = real(order, now, **kwargs)
        if data["id"] in broken:
            broken[data["id"]](data)
        return data

    monkeypatch.setattr(tiktok_api, "order_json", order_json)
    return broken


async def test_bad_orders_from_tiktok_get_an_exception_and_the_others_carry_on(
    stack_factory: StackFactory, corrupt: dict[str, Callable[[dict[str, Any]], None]]
) -> None:
    async with stack_factory(seed=21) as s:
        good = [await s.place() for _ in range(2)]
        bad = {name: await s.place() for name in BREAKAGES}
        for name, order_id in bad.items():
            corrupt[order_id] = BREAKAGES[name]
        good.append(await s.place())
        await s.advance(120)
        for order_id in good:
            assert len(await s.shopify_orders(order_id)) == 1, s.story(order_id)
            link = s.link(order_id)
            assert link is not None
            assert link.state == "created_held", s.story(order_id)
        for name, order_id in bad.items():
            link = s.link(order_id)
            assert link is not None, name
            with transaction(s.services.db, write=False) as conn:
                codes = {e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)}
            assert not await s.shopify_orders(order_id), f"{name}: {s.story(order_id)}"
            assert codes & {"ORDER_UNREADABLE", "UNKNOWN_STATUS"}, f"{name}: {codes}\n{s.story(order_id)}"

        # TikTok answers properly again: the bad orders go on by themselves (back-off timers).
        corrupt.clear()
        await s.advance(30 * 60)
        for order_id in [*good, *bad.values()]:
            assert len(await s.shopify_orders(order_id)) == 1, s.story(order_id)
