"""Logs and metrics of the running engine: 5xx on orderCreate are logged with the order id
(JSON lines), and ``/metrics`` over real HTTP counts the mirrored order and the calls."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

import pytest
import structlog

from orderbridge.adapters.db import operators, transaction
from orderbridge.adapters.db.operators import Role
from orderbridge.logs import configure_logging

from .conftest import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buf = io.StringIO()
    configure_logging("info", "json", stream=buf)
    yield buf
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _sample(text: str, name: str, **labels: str) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
            head, value = line.rsplit(" ", 1)
            got = head[len(name):].strip("{}")
            if ",".join(sorted(got.split(","))) == want or (not labels and not got):
                return float(value)
    return None


async def test_two_5xx_on_order_create_are_logged_and_counted(
        stack_factory: StackFactory, json_logs: io.StringIO) -> None:
    async with stack_factory(seed=11) as s:
        await s.control.add_fault("shopify", "orderCreate", error_rate=1.0, limit=2)
        order_id = await s.place()
        for _ in range(8):  # the back-off after each failure comes due
            await s.settle()
            if len(await s.shopify_orders(order_id)) == 1:
                break
            await s.control.advance(60)
        assert len(await s.shopify_orders(order_id)) == 1, s.story(order_id)

        events: list[dict[str, Any]] = [json.loads(line) for line in json_logs.getvalue().splitlines()]
        failed = [e for e in events if e["event"] == "api_call_failed" and e["operation"] == "OrderCreate"]
        assert len(failed) == 2, failed
        for event in failed:
            assert event["tiktok_order_id"] == order_id
            assert event["connection_id"] == s.connection.id
            assert event["status"] >= 500
            assert event["request_id"]
        outcomes = [e for e in events if e["event"] == "action_outcome"
                    and e.get("tiktok_order_id") == order_id]
        assert {e["outcome"] for e in outcomes} >= {"success"}
        assert any(e["event"] == "decision" and e.get("tiktok_order_id") == order_id for e in events)
        text = json_logs.getvalue()
        assert "access_token" not in text
        assert "X-Shopify-Access-Token" not in text

        url = f"http://127.0.0.1:{s.services.settings.port}/metrics"
        assert (await s.http.get(url)).status_code == 401  # the private surface
        now = s.services.clock.now()
        with transaction(s.services.db) as conn:
            viewer = operators.add_user(conn, "prometheus", Role.VIEWER, now=now)
            token, _ = operators.create_token(conn, viewer, "scrape", now=now,
                                              expires_at=now + timedelta(days=1))
        response = await s.http.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        body = response.text
        state = s.link(order_id).state  # type: ignore[union-attr]
        assert _sample(body, "orderbridge_orders", connection_id=str(s.connection.id), state=state) == 1.0
        assert _sample(body, "orderbridge_api_calls_total", api="shopify", operation="OrderCreate",
                       outcome="server_error") == 2.0
        assert (_sample(body, "orderbridge_api_calls_total", api="shopify", operation="OrderCreate",
                        outcome="ok") or 0) >= 1.0
        assert (_sample(body, "orderbridge_api_call_duration_seconds_count", api="shopify",
                        operation="OrderCreate") or 0) >= 3.0
        assert _sample(body, "orderbridge_metrics_database_up") == 1.0
        assert _sample(body, "orderbridge_inbox_depth") == 0.0
        assert (_sample(body, "orderbridge_worker_pass_duration_seconds_count") or 0) >= 1.0
        assert _sample(body, "orderbridge_shopify_budget_maximum_points",
                       shop=s.connection.shopify_domain) is not None
