"""Retention and shop/redact leave no buyer data behind (issue 8), on both databases.

- The engine's own retention pass (``engine/retention.py``, started by ``orderbridge run``)
  clears the snapshots of orders closed longer than ``retention_days`` and deletes inbox
  entries handled longer ago, and nothing younger.
- ``shop/redact`` over real HTTP leaves no copy of a buyer's data in any table, and on
  SQLite none in the database file or its write-ahead log either.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import String, cast, func, make_url, or_, select, update

from orderbridge.adapters.db import ConnectionStatus, connections, events, inbox, links, transaction
from orderbridge.adapters.db.tables import events as events_table
from orderbridge.adapters.db.tables import inbox as inbox_table
from orderbridge.adapters.db.tables import order_exceptions, order_links
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import Role, run
from orderbridge.engine.retention import Retention, snapshots_expired
from tests.integration.web.conftest import NOW
from tests.integration.web.test_shopify_webhooks import DOMAIN, deliver

DAY = timedelta(days=1)
MARKER = "Jane Q. Buyer-7731"


def _unix(when: datetime) -> int:
    return int(when.timestamp())


def _connection(services: Services, status: ConnectionStatus = ConnectionStatus.ACTIVE) -> int:
    with transaction(services.db) as conn:
        row = connections.create_connection(conn, services.cipher, name="c1", tiktok_shop_id="7495",
                                            shopify_domain=DOMAIN, now=NOW - 90 * DAY)
        conn.execute(update(connections.t).where(connections.t.c.id == row.id).values(status=status.value))
    return row.id


def _link(services: Services, cid: int, order: str, *, status: str, state: str = "released",
          closed: datetime | None = None, updated: datetime | None = None) -> int:
    """A link first seen 90 days ago with buyer data in both snapshots."""
    snapshot = {"id": order, "status": status, "recipient_address": {"name": MARKER},
                "update_time": _unix(closed or NOW - 90 * DAY)}
    with transaction(services.db) as conn:
        link, _ = links.get_or_create_link(conn, cid, order, NOW - 90 * DAY)
        conn.execute(update(order_links).where(order_links.c.id == link.id).values(
            state=state, tiktok_status=status, tiktok_snapshot=snapshot, next_due_at=None,
            shopify_snapshot={"shippingAddress": {"name": MARKER}}, updated_at=updated or NOW - DAY))
    return link.id


def _snapshots(services: Services, link_id: int) -> tuple[Any, Any]:
    with transaction(services.db, write=False) as conn:
        link = links.get_link(conn, link_id)
        assert link is not None
        return link.tiktok_snapshot, link.shopify_snapshot


def _store(services: Services, event_id: str, handled: datetime) -> None:
    with transaction(services.db) as conn:
        inbox.store(conn, "tiktok", event_id, received_at=handled, body=MARKER.encode())
        conn.execute(update(inbox_table).where(inbox_table.c.event_id == event_id).values(processed_at=handled))


def _inbox_ids(services: Services) -> list[str]:
    with transaction(services.db, write=False) as conn:
        return sorted(conn.execute(select(inbox_table.c.event_id)).scalars())


async def test_the_retention_pass_deletes_only_what_is_past_retention(services: Services) -> None:
    cid = _connection(services)
    completed_long_ago = _link(services, cid, "1", status="COMPLETED", closed=NOW - 31 * DAY)
    cancelled_long_ago = _link(services, cid, "2", status="CANCELLED", state="cancelled", closed=NOW - 40 * DAY)
    completed_lately = _link(services, cid, "3", status="COMPLETED", closed=NOW - 29 * DAY)
    open_order = _link(services, cid, "4", status="IN_TRANSIT")
    done = _link(services, cid, "5", status="DELIVERED", state="done", updated=NOW - 31 * DAY)
    _store(services, "old", NOW - 31 * DAY)
    _store(services, "recent", NOW - 29 * DAY)
    with transaction(services.db) as conn:  # never handled (an OAuth state's record): by arrival
        inbox.store(conn, "oauth", "state:old", received_at=NOW - 31 * DAY, body=b"code")
        inbox.store(conn, "oauth", "state:recent", received_at=NOW - DAY, body=b"code")

    report = await Retention(services, "test-owner").run_once()

    assert report is not None
    assert (report.inbox_deleted, report.snapshots_cleared) == (2, 3)
    for link_id in (completed_long_ago, cancelled_long_ago, done):
        assert _snapshots(services, link_id) == (None, None)
    for link_id in (completed_lately, open_order):
        assert MARKER in json.dumps(_snapshots(services, link_id))
    assert _inbox_ids(services) == ["recent", "state:recent"]
    with transaction(services.db, write=False) as conn:
        [note] = events.timeline(conn, completed_long_ago)
    assert "Buyer data deleted" in note.summary
    # One pass per interval across processes: another owner finds the lease taken.
    assert await Retention(services, "other-process").run_once() is None


async def test_the_retention_period_is_a_setting(services: Services) -> None:
    cid = _connection(services)
    lately = _link(services, cid, "3", status="COMPLETED", closed=NOW - 6 * DAY)
    _store(services, "six-days", NOW - 6 * DAY)
    short = replace(services, settings=services.settings.model_copy(update={"retention_days": 5.0}))
    report = await Retention(short, "test-owner").run_once()
    assert report is not None
    assert (report.inbox_deleted, report.snapshots_cleared) == (1, 1)
    assert _snapshots(services, lately) == (None, None)
    assert snapshots_expired("COMPLETED", NOW - 6 * DAY, NOW, timedelta(days=5))
    assert not snapshots_expired("IN_TRANSIT", NOW - 60 * DAY, NOW, timedelta(days=5))
    assert not snapshots_expired("COMPLETED", None, NOW, timedelta(days=5))


async def test_orderbridge_run_purges_by_itself(services: Services) -> None:
    """The running engine (``--role worker``) does the retention pass with no one asking."""
    cid = _connection(services, ConnectionStatus.DISCONNECTED)  # nothing to poll
    link_id = _link(services, cid, "1", status="COMPLETED", closed=NOW - 31 * DAY)
    stop = asyncio.Event()
    engine = asyncio.create_task(run(services, Role.WORKER, stop))
    try:
        for _ in range(200):
            if _snapshots(services, link_id) == (None, None):
                break
            await asyncio.sleep(0.05)
        assert _snapshots(services, link_id) == (None, None)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(engine, timeout=30)


def _copies_in_tables(services: Services) -> int:
    """Rows of any table that holds buyer data and still mention the buyer."""
    found = 0
    with transaction(services.db, write=False) as conn:
        for table, columns in ((order_links, ("tiktok_snapshot", "shopify_snapshot")),
                               (inbox_table, ("body", "headers")), (events_table, ("data",)),
                               (order_exceptions, ("data",))):
            if table is inbox_table:  # bytes: compare in Python (no portable bytes LIKE)
                found += sum(MARKER.encode() in bytes(b) or MARKER in json.dumps(h)
                             for b, h in conn.execute(select(table.c.body, table.c.headers)))
                continue
            found += int(conn.execute(select(func.count()).select_from(table).where(
                or_(*(cast(table.c[c], String).like(f"%{MARKER}%") for c in columns)))).scalar_one())
    return found


def _file_copies(services: Services) -> int:
    path = Path(make_url(services.settings.database_url).database or "")
    return sum(p.read_bytes().count(MARKER.encode())
               for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_shop_redact_leaves_no_copy_of_the_buyers_data(services: Services, live: httpx.AsyncClient) -> None:
    cid = _connection(services)
    link_id = _link(services, cid, "1", status="AWAITING_SHIPMENT")
    with transaction(services.db) as conn:
        conn.execute(update(order_links).where(order_links.c.id == link_id).values(
            shopify_order_id="gid://shopify/Order/1001"))
        events.append(conn, link_id, "warning", "address flagged", {"name": MARKER}, at=NOW)
    order = {"id": 1001, "shipping_address": {"name": MARKER}}
    customer = {"shop_domain": DOMAIN, "customer": {"id": 1, "email": f"{MARKER}@example.com"},
                "orders_requested": [1001]}
    assert (await deliver(live, "orders/updated", order, event_id="o1")).status_code == 200
    assert (await deliver(live, "customers/data_request", customer, event_id="d1")).status_code == 200
    # A delivery we could not read, stored without a connection, names the buyer too.
    assert (await deliver(live, "orders/updated", {}, event_id="bad", body=f'{{"n":"{MARKER}"'.encode())
            ).status_code == 400
    assert _copies_in_tables(services) >= 4
    with transaction(services.db) as conn:  # uninstalled (how is app/uninstalled's business)
        conn.execute(update(connections.t).where(connections.t.c.id == cid)
                     .values(status=ConnectionStatus.DISCONNECTED.value))

    redact = await deliver(live, "shop/redact", {"shop_id": 9, "shop_domain": DOMAIN}, event_id="r1")

    assert redact.status_code == 200
    assert _copies_in_tables(services) == 0
    if services.settings.is_sqlite:
        assert _file_copies(services) == 0  # not in freed pages, not in the write-ahead log
    with transaction(services.db, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(order_links)).scalar_one() == 1  # ids kept
