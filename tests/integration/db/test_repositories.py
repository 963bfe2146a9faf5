"""The small repositories: inbox, jobs, leases, timeline, exceptions, connections,
cursors, SKU links and catalog, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db import (
    AlreadyExists,
    EventKind,
    LeaseLost,
    TokenCipher,
    alerts,
    connections,
    cursors,
    events,
    generate_key,
    inbox,
    jobs,
    leases,
    links,
    order_exceptions,
    sku_links,
    transaction,
)
from orderbridge.adapters.db.tables import connections as connections_table
from orderbridge.adapters.db.tables import order_links as order_links_table
from orderbridge.errors import ConfigurationError

from .conftest import T0


def test_inbox_store_dedupe_and_processing(migrated_engine: Engine) -> None:
    body = b'{"type":1,"data":{"order_id":"576"}}'
    with transaction(migrated_engine) as conn:
        assert inbox.store(conn, "tiktok", "e1", received_at=T0, body=body,
                           headers={"Authorization": "sig"}, topic="ORDER_STATUS_CHANGE")
        assert not inbox.store(conn, "tiktok", "e1", received_at=T0, body=b"other")
        assert inbox.store(conn, "shopify", "e1", received_at=T0 + timedelta(seconds=1), body=b"")
        assert inbox.pending_count(conn) == 2
        first, second = inbox.unprocessed(conn, 10)
        assert [e.source for e in inbox.unprocessed(conn, 10, source="shopify")] == ["shopify"]
    assert first.body == body
    assert first.headers == {"Authorization": "sig"}
    assert first.received_at == T0
    assert first.processed_at is None
    with transaction(migrated_engine) as conn:
        assert inbox.mark_processed(conn, [first.id], T0) == 1
        assert inbox.mark_processed(conn, [second.id], T0, error="unknown shop") == 1
        assert inbox.mark_processed(conn, [], T0) == 0
        assert inbox.unprocessed(conn, 10) == []
        assert inbox.purge_before(conn, T0, limit=5) == 0  # handled at T0: not before T0
        assert inbox.purge_before(conn, T0 + timedelta(days=1), limit=1) == 1  # a batch at a time
        assert inbox.purge_before(conn, T0 + timedelta(days=1)) == 1


def test_jobs_lifecycle(migrated_engine: Engine) -> None:
    with transaction(migrated_engine) as conn:
        job = jobs.enqueue(conn, "poll", "shop-1", now=T0, due_at=T0 + timedelta(minutes=5),
                           payload={"stream": "orders"})
        again = jobs.enqueue(conn, "poll", "shop-1", now=T0, due_at=T0 + timedelta(minutes=9))
        assert again.id == job.id
        assert again.next_due_at == T0 + timedelta(minutes=5)
        assert again.payload == {"stream": "orders"}
        sooner = jobs.enqueue(conn, "poll", "shop-1", now=T0, payload={"stream": "all"})
        assert sooner.next_due_at == T0
        assert sooner.payload == {"stream": "all"}
        assert jobs.claim_due_jobs(conn, "w", T0, limit=5, lease_seconds=60, kinds=["other"]) == []
        [claimed] = jobs.claim_due_jobs(conn, "w", T0, limit=5, lease_seconds=60)
        assert jobs.next_job_due_time(conn) == T0 + timedelta(seconds=60)
        retried = jobs.retry_job(conn, claimed, "w", now=T0, error="503",
                                 next_due_at=T0 + timedelta(seconds=30))
        assert retried.attempts == 1
        assert retried.last_error == "503"
        assert retried.lease_owner is None
        with pytest.raises(LeaseLost):
            jobs.complete_job(conn, claimed, "w", now=T0)
        [claimed] = jobs.claim_due_jobs(conn, "w", T0 + timedelta(seconds=30), limit=5, lease_seconds=60)
        renewed = jobs.renew_job_lease(conn, claimed, "w", T0 + timedelta(seconds=40), lease_seconds=60)
        assert renewed.lease_expires_at == T0 + timedelta(seconds=100)
        # enqueued while running: the hint survives completion
        jobs.enqueue(conn, "poll", "shop-1", now=T0, due_at=T0 + timedelta(seconds=50))
        done = jobs.complete_job(conn, renewed, "w", now=T0, next_due_at=T0 + timedelta(hours=1))
        assert done.next_due_at == T0 + timedelta(seconds=50)
        assert done.attempts == 0
        assert done.last_error is None
        [claimed] = jobs.claim_due_jobs(conn, "w", T0 + timedelta(seconds=50), limit=5, lease_seconds=60)
        idle = jobs.complete_job(conn, claimed, "w", now=T0, payload={"cursor": 3})
        assert idle.next_due_at is None
        assert idle.payload == {"cursor": 3}
        assert jobs.next_job_due_time(conn) is None
        assert [j.key for j in jobs.list_jobs(conn, kind="poll")] == ["shop-1"]
        assert jobs.get_job(conn, "poll", "shop-1") == idle
        with pytest.raises(LeaseLost):
            jobs.renew_job_lease(conn, claimed, "w", T0, lease_seconds=1)
        assert jobs.delete_job(conn, "poll", "shop-1")
        assert jobs.get_job(conn, "poll", "shop-1") is None


def test_leases(migrated_engine: Engine) -> None:
    with transaction(migrated_engine) as conn:
        assert leases.acquire(conn, "poller", "a", T0, seconds=30)
        assert leases.acquire(conn, "poller", "a", T0 + timedelta(seconds=1), seconds=30)
        assert not leases.acquire(conn, "poller", "b", T0 + timedelta(seconds=30), seconds=30)
        assert leases.holder(conn, "poller", T0 + timedelta(seconds=30)) == "a"
        assert not leases.renew(conn, "poller", "b", T0, seconds=30)
        assert leases.renew(conn, "poller", "a", T0 + timedelta(seconds=30), seconds=30)
        assert leases.acquire(conn, "poller", "b", T0 + timedelta(seconds=60), seconds=30)
        assert leases.holder(conn, "poller", T0 + timedelta(seconds=60)) == "b"
        assert not leases.release(conn, "poller", "a")
        assert leases.release(conn, "poller", "b")
        assert leases.holder(conn, "poller", T0) is None


def test_timeline(migrated_engine: Engine, shop: int) -> None:
    call = ApiCall(api="shopify", operation="orderCreate", method="POST", path="/graphql.json",
                   started_at=T0 + timedelta(seconds=2), duration_ms=123.4, status=200, ok=True,
                   request_id="req-9", details={"when": datetime(2026, 1, 1, tzinfo=UTC)})
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)
        events.append(conn, link.id, EventKind.DECISION, "create and hold", {"why": "paid"},
                      at=T0 + timedelta(seconds=1), connection_id=shop)
        events.append(conn, link.id, EventKind.EVENT, "webhook", at=T0, connection_id=shop)
        events.append_api_calls(conn, [call], link_id=link.id, connection_id=shop)
        events.append(conn, None, EventKind.NOTE, "shop-level", at=T0, connection_id=shop)
        entries = events.timeline(conn, link.id)
        newest = events.recent(conn, connection_id=shop, limit=1)
    assert [e.kind for e in entries] == ["event", "decision", "api_call"]
    api = entries[2]
    assert api.remote_request_id == "req-9"
    assert api.duration_ms == 123
    assert api.summary == "shopify orderCreate: ok"
    assert api.data is not None
    assert api.data["details"] == {"when": "2026-01-01 00:00:00+00:00"}
    assert newest[0].kind == "api_call"


def test_exceptions(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)
        first, opened = order_exceptions.raise_exception(
            conn, link.id, "UNMAPPED_SKU", "error", "SKU X is not linked", {"sku": "X"},
            "link_sku", now=T0)
        again, opened_again = order_exceptions.raise_exception(
            conn, link.id, "UNMAPPED_SKU", "error", "SKUs X, Y are not linked",
            {"sku": ["X", "Y"]}, "link_sku", now=T0 + timedelta(minutes=1))
        assert opened
        assert not opened_again
        assert again.id == first.id
        assert again.data == {"sku": ["X", "Y"]}
        assert again.created_at == T0
        order_exceptions.raise_exception(conn, link.id, "TOTALS_MISMATCH", "warning", "off by 1c",
                                         now=T0)
        order_exceptions.raise_exception(conn, link.id, "NO_TRACKING", "error", "none", now=T0)
        assert [e.code for e in order_exceptions.open_exceptions(conn, connection_id=shop)] == [
            "UNMAPPED_SKU", "TOTALS_MISMATCH", "NO_TRACKING"]
        assert order_exceptions.resolve(conn, link.id, "UNMAPPED_SKU", now=T0)
        assert not order_exceptions.resolve(conn, link.id, "UNMAPPED_SKU", now=T0)
        assert order_exceptions.resolve_all_except(conn, link.id, ["NO_TRACKING"], now=T0) == [
            "TOTALS_MISMATCH"]
        [left] = order_exceptions.open_exceptions(conn, link_id=link.id)
        assert left.code == "NO_TRACKING"
        assert order_exceptions.dismiss(conn, left.id, now=T0)
        assert order_exceptions.open_exceptions(conn, codes=["NO_TRACKING"]) == []
        # a new occurrence after resolution opens a new row
        reopened, opened = order_exceptions.raise_exception(
            conn, link.id, "UNMAPPED_SKU", "error", "again", now=T0)
        assert opened
        assert reopened.id != first.id


def test_exceptions_resolved_by_code_list_and_all(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)
        other, _ = links.get_or_create_link(conn, shop, "B", T0)
        for code in ("ORDER_UNREADABLE", "PROCESSING_ERROR", "UNMAPPED_SKU"):
            order_exceptions.raise_exception(conn, link.id, code, "error", code, now=T0)
        order_exceptions.raise_exception(conn, other.id, "PROCESSING_ERROR", "error", "x", now=T0)
        assert order_exceptions.resolve_codes(conn, link.id, [], now=T0) == 0
        closed = order_exceptions.resolve_codes(
            conn, link.id, ["ORDER_UNREADABLE", "PROCESSING_ERROR", "NO_TRACKING"], now=T0)
        assert closed == 2
        assert [e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)] == ["UNMAPPED_SKU"]
        # another link's exception of the same code stays open
        assert [e.code for e in order_exceptions.open_exceptions(conn, link_id=other.id)] == [
            "PROCESSING_ERROR"]
        assert order_exceptions.resolve_all_except(conn, link.id, [], now=T0) == ["UNMAPPED_SKU"]
        assert order_exceptions.open_exceptions(conn, link_id=link.id) == []


def test_api_calls_recorded_in_one_batch_in_order(migrated_engine: Engine, shop: int) -> None:
    calls = [
        ApiCall(api="tiktok", operation=f"op{i}", method="GET", path="/x", started_at=T0 + timedelta(seconds=i),
                duration_ms=10.6 * i, status=200 if i != 1 else 429, ok=i != 1, code="429" if i == 1 else None,
                request_id=f"req-{i}", details={"i": i})
        for i in range(3)
    ]
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)
        events.append_api_calls(conn, [], link_id=link.id, connection_id=shop)
        events.append_api_calls(conn, calls, link_id=link.id, connection_id=shop)
        events.append_api_calls(conn, calls[:1], link_id=None, connection_id=shop)
        entries = events.timeline(conn, link.id)
        shop_level = [e for e in events.recent(conn, connection_id=shop) if e.link_id is None]
    assert [e.summary for e in entries] == ["tiktok op0: ok", "tiktok op1: failed (429)", "tiktok op2: ok"]
    assert [e.remote_request_id for e in entries] == ["req-0", "req-1", "req-2"]
    assert [e.duration_ms for e in entries] == [0, 11, 21]
    assert all(e.kind == "api_call" and e.connection_id == shop for e in entries)
    assert entries[1].data is not None
    assert entries[1].data["details"] == {"i": 1}
    assert [e.summary for e in shop_level] == ["tiktok op0: ok"]


def test_connections_store_ciphertext_only(migrated_engine: Engine, cipher: TokenCipher) -> None:
    expires = T0 + timedelta(days=7)
    with transaction(migrated_engine) as conn:
        made = connections.create_connection(
            conn, cipher, name="brand", tiktok_shop_id="7001", shopify_domain="b.myshopify.com",
            now=T0, tiktok_access_token="TTP_access", tiktok_access_token_expires_at=expires,
            tiktok_refresh_token="TTP_refresh", shopify_token="shpat_abc",
            shopify_scopes=["read_orders", "write_orders"], policy={"create_at": "paid"},
        )
        raw = conn.execute(select(connections_table).where(connections_table.c.id == made.id)).one()
    assert made.tiktok_access_token == "TTP_access"
    assert made.shopify_token == "shpat_abc"
    assert made.shopify_scopes == ("read_orders", "write_orders")
    assert made.tiktok_access_token_expires_at == expires
    stored = " ".join(str(v) for v in raw)
    for secret in ("TTP_access", "TTP_refresh", "shpat_abc"):
        assert secret not in stored
    assert "shpat_abc" not in repr(made)

    with transaction(migrated_engine) as conn:
        with pytest.raises(AlreadyExists):
            connections.create_connection(conn, cipher, name="brand", tiktok_shop_id="7002",
                                          shopify_domain="c.myshopify.com", now=T0)
        updated = connections.update_connection(
            conn, cipher, made.id, now=T0 + timedelta(hours=1), tiktok_access_token="TTP_new",
            status="paused", shopify_token=None)
        assert connections.update_connection(conn, cipher, 999_999, now=T0, name="x") is None
        assert updated is not None
        assert updated.tiktok_access_token == "TTP_new"
        assert updated.shopify_token is None
        assert updated.status == "paused"
        assert connections.get_connection(conn, cipher, made.id) == updated
        assert connections.find_connection(conn, cipher, tiktok_shop_id="7001") == updated
        assert connections.find_connection(conn, cipher, shopify_domain="b.myshopify.com") == updated
        assert connections.find_connection(conn, cipher, name="nope") is None
        assert connections.list_connections(conn, cipher, status="active") == []
        assert [c.id for c in connections.list_connections(conn, cipher)] == [made.id]
        with pytest.raises(ConfigurationError, match="ORDERBRIDGE_SECRET_KEY"):
            connections.get_connection(conn, TokenCipher(generate_key()), made.id)


def test_cursors(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        assert cursors.get_cursor(conn, shop, "orders") is None
        cursors.set_cursor(conn, shop, "orders", T0, now=T0)
        cursors.set_cursor(conn, shop, "orders", T0 + timedelta(minutes=5), now=T0)
        cursors.set_cursor(conn, shop, "cancellations", T0, now=T0)
        assert cursors.get_cursor(conn, shop, "orders") == T0 + timedelta(minutes=5)
        assert cursors.get_cursor(conn, shop, "cancellations") == T0


def test_sku_links_and_catalog(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        sku_links.upsert_sku_link(conn, shop, "tt-1", "gid://shopify/ProductVariant/1", now=T0)
        relinked = sku_links.upsert_sku_link(
            conn, shop, "tt-1", "gid://shopify/ProductVariant/2", now=T0, source="sku",
            seller_sku="MUG-RED", shopify_inventory_item_id="gid://shopify/InventoryItem/2")
        assert relinked.shopify_variant_id.endswith("/2")
        assert relinked.source == "sku"
        found = sku_links.get_sku_links(conn, shop, ["tt-1", "tt-missing", "tt-1"])
        assert list(found) == ["tt-1"]
        assert [x.tiktok_sku_id for x in sku_links.list_sku_links(conn, shop)] == ["tt-1"]
        assert sku_links.delete_sku_link(conn, shop, "tt-1")
        assert not sku_links.delete_sku_link(conn, shop, "tt-1")

        assert sku_links.replace_shopify_variants(conn, shop, [
            {"variant_id": "v1", "sku": "MUG"}, {"variant_id": "v2", "sku": "MUG"},
            {"variant_id": "v3", "sku": "CAP", "title": "Cap"}], now=T0) == 3
        assert [v.variant_id for v in sku_links.variants_by_sku(conn, shop, "MUG")] == ["v1", "v2"]
        sku_links.replace_shopify_variants(conn, shop, [{"variant_id": "v3", "sku": "CAP"}], now=T0)
        assert sku_links.variants_by_sku(conn, shop, "MUG") == []
        sku_links.replace_tiktok_skus(conn, shop, [{"sku_id": "s1", "seller_sku": "CAP"}], now=T0)
        [tt] = sku_links.tiktok_skus_by_seller_sku(conn, shop, "CAP")
        assert tt.sku_id == "s1"
        assert tt.updated_at == T0


def test_alerts_once_per_threshold(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)
        assert alerts.record_alert(conn, link.id, "24h", sent_at=T0)
        assert not alerts.record_alert(conn, link.id, "24h", sent_at=T0 + timedelta(hours=1))
        assert alerts.record_alert(conn, link.id, "12h", sent_at=T0)
        assert alerts.sent_thresholds(conn, link.id) == {"24h", "12h"}


def test_foreign_keys_cascade(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0)
        events.append(conn, link.id, "note", "x", at=T0, connection_id=shop)
        alerts.record_alert(conn, link.id, "4h", sent_at=T0)
        conn.execute(delete(connections_table).where(connections_table.c.id == shop))
        assert conn.execute(select(order_links_table)).first() is None
        assert events.timeline(conn, link.id) == []
