"""Shopify's order webhook topics the engine subscribes to, through the intake, on SQLite
and PostgreSQL: each example (tests/data/shopify_webhook_examples.json, each topic cited by
its page under https://shopify.dev/docs/api/webhooks) is signed as Shopify signs it and
makes the linked order due; a redelivery (same X-Shopify-Event-Id) changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderbridge.bootstrap import Services
from tests.integration.web.conftest import NOW
from tests.integration.web.test_shopify_webhooks import LATER, deliver, due, inbox_rows, setup_link

DATA = Path(__file__).resolve().parents[1] / "data" / "shopify_webhook_examples.json"
TOPICS: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))["topics"]


@pytest.mark.parametrize("spec", [pytest.param(t, id=t["topic"]) for t in TOPICS])
async def test_documented_topic_marks_its_order_due(services: Services, client: httpx.AsyncClient,
                                                    spec: dict[str, Any]) -> None:
    _, link_id = setup_link(services, f"gid://shopify/Order/{spec['order']}")
    assert due(services, link_id) == LATER
    first = await deliver(client, spec["topic"], spec["payload"], event_id="ev-1")
    assert first.status_code == 200
    assert due(services, link_id) == NOW
    again = await deliver(client, spec["topic"], spec["payload"], event_id="ev-1")
    assert again.status_code == 200
    rows = inbox_rows(services)
    assert len(rows) == 1
    assert rows[0].error is None
