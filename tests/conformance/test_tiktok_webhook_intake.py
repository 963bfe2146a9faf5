"""TikTok's documented webhook examples through the engine's intake, on SQLite and PostgreSQL.

Each example (tests/data/tiktok_webhook_examples.json, every type cited by its page under
https://partner.tiktokshop.com/docv2/page/) is signed as TikTok signs and posted: the intake
answers 200 with an empty body, stores it once (a redelivery of the same bytes, with or
without ``tts_notification_id``, is a duplicate) and makes due the orders it names.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orderbridge.adapters.db import links, transaction
from orderbridge.bootstrap import Services
from tests.conformance.examples import WEBHOOKS, encode, variants
from tests.integration.web.conftest import NOW
from tests.integration.web.test_tiktok_webhooks import inbox_rows, make_connection, post

SPECS = [pytest.param(spec, id=spec["name"]) for spec in WEBHOOKS["types"]]


@pytest.mark.parametrize("spec", SPECS)
async def test_every_variant_is_accepted_once(services: Services, client: httpx.AsyncClient,
                                              spec: dict[str, Any]) -> None:
    shop_id = spec["example"]["shop_id"]
    cid = make_connection(services, shop_id)
    # Delivered now: the intake distrusts a notification sent over a day ago (the examples'
    # own timestamps are from TikTok's documentation years back).
    bodies = [encode(body | {"timestamp": int(NOW.timestamp())}) for _label, body in variants(spec)]
    for body in bodies:
        first = await post(client, body)
        assert (first.status_code, first.content) == (200, b"")
        again = await post(client, body)  # TikTok's retry: the same bytes
        assert (again.status_code, again.content) == (200, b"")
    rows = inbox_rows(services)
    # One row per notification: by its id, or by the body's digest where it has none.
    expected = {json.loads(body).get("tts_notification_id") or body for body in bodies}
    assert len(rows) == len(expected)
    assert all(row.error is None for row in rows), [row.error for row in rows]
    keys = {row.event_id for row in rows}
    assert {k for k in expected if isinstance(k, str)} <= keys
    with transaction(services.db, write=False) as conn:
        for order_id in spec["orders"]:
            assert links.find_link(conn, cid, order_id) is not None
        if not spec["orders"] and spec["type"] != 6:  # 6 disconnects; no link either way
            assert links.find_link(conn, cid, "576486316948490001") is None
