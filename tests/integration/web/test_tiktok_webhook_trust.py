"""TikTok webhooks we do not trust (issue 8), over real HTTP on both databases.

TikTok signs a body with the app secret and no expiry, so a genuine body can be replayed at
any time; and one app serves many shops. A webhook naming a shop we have no connection for,
or sent longer ago than ``tiktok_webhook_max_age_seconds``, is stored with the reason (200:
a 4xx would only make TikTok retry) and acted on only through a fresh read.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from orderbridge.adapters.db import ConnectionStatus, connections, events, links, transaction
from orderbridge.bootstrap import Services
from orderbridge.settings import DEFAULT_TIKTOK_WEBHOOK_MAX_AGE_SECONDS
from tests.integration.web.conftest import NOW
from tests.integration.web.test_tiktok_webhooks import envelope, inbox_rows, make_connection, post

ORDER = "576000000000000077"
LATER = NOW + timedelta(days=30)
OLD = int((NOW - timedelta(seconds=DEFAULT_TIKTOK_WEBHOOK_MAX_AGE_SECONDS + 60)).timestamp())


def _link_due(services: Services, cid: int, order: str) -> object:
    with transaction(services.db, write=False) as conn:
        link = links.find_link(conn, cid, order)
        return None if link is None else link.next_due_at


async def test_a_shop_with_no_connection_is_stored_logged_and_not_acted_on(
        services: Services, live: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    cid = make_connection(services)
    with transaction(services.db) as conn:
        links.get_or_create_link(conn, cid, ORDER, NOW, due_at=LATER)
    stranger = "7495999999999999999"
    with caplog.at_level(logging.WARNING, logger="orderbridge.web.intake"):
        answer = await post(live, envelope(1, {"order_id": ORDER}, notification="n-x", shop=stranger))
        deauth = await post(live, envelope(6, {"message": "bye"}, notification="n-x6", shop=stranger))
    assert (answer.status_code, deauth.status_code) == (200, 200)
    rows = inbox_rows(services)
    assert [(r.connection_id, r.error) for r in rows] == [
        (None, f"no connection for TikTok shop {stranger}: not acted on")] * 2
    assert _link_due(services, cid, ORDER) == LATER  # our link of the same order id untouched
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, cid)
        assert row is not None
        assert row.status == ConnectionStatus.ACTIVE
    lines = [r.getMessage() for r in caplog.records if "no connection for TikTok shop" in r.getMessage()]
    assert len(lines) == 2
    assert ORDER in lines[0]


async def test_an_old_order_event_only_re_reads_links_we_hold(
        services: Services, live: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    cid = make_connection(services)
    unknown = "576000000000000078"
    with transaction(services.db) as conn:
        links.get_or_create_link(conn, cid, ORDER, NOW, due_at=LATER)
    with caplog.at_level(logging.WARNING, logger="orderbridge.web.intake"):
        held = await post(live, envelope(1, {"order_id": ORDER, "order_status": "CANCELLED"}, notification="o1",
                                         sent=OLD))
        new = await post(live, envelope(1, {"order_id": unknown}, notification="o2", sent=OLD))
    assert (held.status_code, new.status_code) == (200, 200)
    assert _link_due(services, cid, ORDER) == NOW  # a fresh read, not the payload's word
    assert _link_due(services, cid, unknown) is None  # no link made from a stale event
    rows = inbox_rows(services)
    assert all("h old" in (r.error or "") and "not trusted" in (r.error or "") for r in rows)
    with transaction(services.db, write=False) as conn:
        link = links.find_link(conn, cid, ORDER)
        assert link is not None
        [entry] = events.timeline(conn, link.id)
    assert "re-reading the order" in entry.summary
    assert any(ORDER in r.getMessage() and "not trusted" in r.getMessage() for r in caplog.records)


async def test_an_old_or_future_deauthorisation_leaves_the_connection_alone(
        services: Services, live: httpx.AsyncClient) -> None:
    cid = make_connection(services)
    future = int((NOW + timedelta(days=2)).timestamp())
    assert (await post(live, envelope(6, {"message": "bye"}, notification="d-old", sent=OLD))).status_code == 200
    assert (await post(live, envelope(6, {"message": "bye"}, notification="d-new", sent=future))).status_code == 200
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, cid)
        assert row is not None
        assert row.status == ConnectionStatus.ACTIVE
        warnings = [e.summary for e in events.recent(conn, connection_id=cid)]
    assert sum("SELLER_DEAUTHORIZATION not acted on" in w for w in warnings) == 2
    assert any("in the future" in w for w in warnings)
    # The same event sent within the limit is acted on (the boundary is the setting's).
    recent = int((NOW - timedelta(seconds=DEFAULT_TIKTOK_WEBHOOK_MAX_AGE_SECONDS - 60)).timestamp())
    assert (await post(live, envelope(6, {"message": "bye"}, notification="d-ok", sent=recent))).status_code == 200
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, cid)
        assert row is not None
        assert row.status == ConnectionStatus.DISCONNECTED


async def test_the_age_limit_is_a_setting(services: Services) -> None:
    from dataclasses import replace

    from tests.integration.web.conftest import serve_app

    strict = replace(services, settings=services.settings.model_copy(
        update={"tiktok_webhook_max_age_seconds": 60.0}))
    cid = make_connection(services)
    async with serve_app(strict) as http:
        two_minutes = int((NOW - timedelta(minutes=2)).timestamp())
        assert (await post(http, envelope(1, {"order_id": ORDER}, notification="s1", sent=two_minutes))
                ).status_code == 200
    assert _link_due(services, cid, ORDER) is None
    with transaction(services.db, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(links.t)).scalar() == 0
    [row] = inbox_rows(services)
    assert "limit 0.0166667 h" in (row.error or "")
