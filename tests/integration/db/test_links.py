"""Order links: creation, due marking, claims, optimistic saves, leases, timers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from orderbridge.adapters.db import LeaseLost, link_leases, links, transaction

from .conftest import T0

LEASE = 60.0


def _claim(
    engine: Engine, owner: str, at: datetime = T0, limit: int = 10
) -> list[links.LinkRow]:
    with transaction(engine) as conn:
        return link_leases.claim_due_links(conn, owner, at, limit=limit, lease_seconds=LEASE)


def test_get_or_create_is_idempotent(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        link, created = links.get_or_create_link(conn, shop, "576000000000000001", T0)
        again, created_again = links.get_or_create_link(
            conn, shop, "576000000000000001", T0 + timedelta(hours=1)
        )
    assert created
    assert not created_again
    assert again == link
    assert link.state == links.INITIAL_STATE
    assert link.memory == {}
    assert link.next_due_at == T0
    assert link.first_seen_at == T0
    assert link.version == 1


def test_mark_due_only_moves_earlier(migrated_engine: Engine, shop: int) -> None:
    later, earlier = T0 + timedelta(hours=2), T0 + timedelta(hours=1)
    with transaction(migrated_engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "A", T0, due_at=later)
        assert links.mark_due(conn, T0 + timedelta(hours=3), ids=[link.id]) == 0
        assert links.mark_due(conn, earlier, connection_id=shop, tiktok_order_ids=["A", "zz"]) == 1
        assert links.mark_due(conn, later, ids=[link.id]) == 0
        got = links.get_link(conn, link.id)
    assert got is not None
    assert got.next_due_at == earlier
    assert got.version == link.version  # a hint is not a state change
    with transaction(migrated_engine) as conn, pytest.raises(ValueError, match="connection_id"):
        links.mark_due(conn, T0, tiktok_order_ids=["A"])


def test_mark_due_by_shopify_order(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        _link, _ = links.get_or_create_link(conn, shop, "A", T0, due_at=T0 + timedelta(days=1))
    [claimed] = _claim(migrated_engine, "w1", at=T0 + timedelta(days=1))
    with transaction(migrated_engine) as conn:
        link_leases.save_link(
            conn, claimed, "w1", now=T0, release=True, shopify_order_id="gid://shopify/Order/9",
            next_due_at=T0 + timedelta(days=3),
        )
        assert links.mark_due(conn, T0 + timedelta(days=2), connection_id=shop,
                              shopify_order_ids=["gid://shopify/Order/9"]) == 1
        [found] = links.find_links_by_shopify_order(conn, shop, "gid://shopify/Order/9")
    assert found.next_due_at == T0 + timedelta(days=2)


def test_ensure_due_creates_missing_and_hurries_existing(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "A", T0, due_at=T0 + timedelta(hours=5))
        created = links.ensure_due(conn, shop, ["A", "B", "B", "C"], T0, T0)
        a = links.find_link(conn, shop, "A")
        b = links.find_link(conn, shop, "B")
    assert sorted(created) == ["B", "C"]
    assert a is not None
    assert a.next_due_at == T0
    assert b is not None
    assert b.next_due_at == T0


def test_claim_orders_by_priority_then_due_and_respects_limit(
    migrated_engine: Engine, shop: int
) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "late", T0, due_at=T0 - timedelta(minutes=1))
        links.get_or_create_link(conn, shop, "early", T0, due_at=T0 - timedelta(minutes=9))
        links.get_or_create_link(conn, shop, "urgent", T0, priority=10)
        links.get_or_create_link(conn, shop, "future", T0, due_at=T0 + timedelta(seconds=1))
    first = _claim(migrated_engine, "w1", limit=2)
    assert [link.tiktok_order_id for link in first] == ["urgent", "early"]
    rest = _claim(migrated_engine, "w2")
    assert [link.tiktok_order_id for link in rest] == ["late"]
    assert _claim(migrated_engine, "w3") == []
    for link in first + rest:
        assert link.lease_expires_at == T0 + timedelta(seconds=LEASE)
        assert link.next_due_at == link.lease_expires_at
        assert link.version == 2


def test_expired_lease_is_reclaimed_and_old_holder_loses(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
    [mine] = _claim(migrated_engine, "w1")
    assert _claim(migrated_engine, "w2", at=T0 + timedelta(seconds=LEASE - 1)) == []
    [theirs] = _claim(migrated_engine, "w2", at=T0 + timedelta(seconds=LEASE))
    assert theirs.id == mine.id
    assert theirs.lease_owner == "w2"
    with transaction(migrated_engine) as conn, pytest.raises(LeaseLost, match="w2"):
        link_leases.save_link(conn, mine, "w1", now=T0, state="created")
    with transaction(migrated_engine) as conn:
        assert not link_leases.release_lease(conn, mine, "w1", next_due_at=None)
        saved = link_leases.save_link(conn, theirs, "w2", now=T0, state="created", release=True)
    assert saved.state == "created"
    assert saved.lease_owner is None


def test_save_with_stale_version_fails(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
    [link] = _claim(migrated_engine, "w1")
    with transaction(migrated_engine) as conn:
        saved = link_leases.save_link(conn, link, "w1", now=T0, memory={"step": 1})
    assert saved.version == link.version + 1
    with transaction(migrated_engine) as conn, pytest.raises(LeaseLost, match="version"):
        link_leases.save_link(conn, link, "w1", now=T0, memory={"step": 2})
    with transaction(migrated_engine) as conn:
        again = link_leases.save_link(conn, saved, "w1", now=T0, memory={"step": 2}, attempts=3,
                                last_error="boom", tiktok_snapshot={"status": "AWAITING_SHIPMENT"})
    assert again.memory == {"step": 2}
    assert again.attempts == 3
    assert again.tiktok_snapshot == {"status": "AWAITING_SHIPMENT"}


def test_hint_during_lease_survives_the_save(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
        links.get_or_create_link(conn, shop, "B", T0)
    a, b = _claim(migrated_engine, "w1")
    hint_at = T0 + timedelta(seconds=5)
    with transaction(migrated_engine) as conn:
        links.mark_due(conn, hint_at, ids=[a.id])
        # the hint does not steal the leased link
        assert link_leases.claim_due_links(conn, "w2", hint_at, limit=5, lease_seconds=LEASE) == []
        assert links.next_due_time(conn) == a.lease_expires_at
        saved_a = link_leases.save_link(conn, a, "w1", now=hint_at, release=True,
                                  next_due_at=T0 + timedelta(hours=1))
        saved_b = link_leases.save_link(conn, b, "w1", now=hint_at, release=True,
                                  next_due_at=T0 + timedelta(hours=1))
        assert links.next_due_time(conn) == hint_at
    assert saved_a.next_due_at == hint_at
    assert saved_b.next_due_at == T0 + timedelta(hours=1)


def test_hint_survives_release_and_renewal(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
    [a] = _claim(migrated_engine, "w1")
    with transaction(migrated_engine) as conn:
        renewed = link_leases.renew_lease(conn, a, "w1", T0 + timedelta(seconds=30), lease_seconds=LEASE)
        assert renewed.lease_expires_at == T0 + timedelta(seconds=90)
        assert renewed.next_due_at == renewed.lease_expires_at
        links.mark_due(conn, T0 + timedelta(seconds=31), ids=[a.id])
        renewed = link_leases.renew_lease(conn, renewed, "w1", T0 + timedelta(seconds=40), lease_seconds=LEASE)
        assert renewed.next_due_at == T0 + timedelta(seconds=31)
        assert link_leases.release_lease(conn, renewed, "w1", next_due_at=None)
        got = links.get_link(conn, a.id)
    assert got is not None
    assert got.next_due_at == T0 + timedelta(seconds=31)
    assert got.lease_owner is None
    with transaction(migrated_engine) as conn, pytest.raises(LeaseLost):
        link_leases.renew_lease(conn, renewed, "w1", T0, lease_seconds=LEASE)


def test_release_without_hint_sets_the_timer(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "A", T0)
    [a] = _claim(migrated_engine, "w1")
    with transaction(migrated_engine) as conn:
        assert link_leases.release_lease(conn, a, "w1", next_due_at=None)
        assert links.next_due_time(conn) is None
        got = links.get_link(conn, a.id)
    assert got is not None
    assert got.next_due_at is None


def test_next_due_time(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        assert links.next_due_time(conn) is None
        links.get_or_create_link(conn, shop, "A", T0, due_at=T0 + timedelta(hours=2))
        links.get_or_create_link(conn, shop, "B", T0, due_at=T0 + timedelta(hours=1))
        due = links.next_due_time(conn)
        assert links.next_due_time(conn, connection_id=shop + 1) is None
    assert due == T0 + timedelta(hours=1)
    assert due is not None
    assert due.tzinfo is not None


def test_listing_and_counts(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn:
        for i in range(3):
            links.get_or_create_link(conn, shop, f"o{i}", T0 + timedelta(minutes=i))
        links.get_or_create_link(conn, shop, "held", T0, state="on_hold")
        newest = links.list_links(conn, connection_id=shop, limit=2)
        held = links.list_links(conn, states=["on_hold"])
        counts = links.count_by_state(conn, connection_id=shop)
    assert [link.tiktok_order_id for link in newest] == ["o2", "o1"]
    assert [link.tiktok_order_id for link in held] == ["held"]
    assert counts == {"new": 3, "on_hold": 1}
