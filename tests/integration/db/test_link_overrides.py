"""Writes to a link no worker holds (an operator's override, the backfill's adoption): the
version check and the save are the worker's own (``links.save_link``), on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from orderbridge.adapters.db import LeaseLost, link_overrides, links, transaction

from .conftest import T0

LEASE = 60.0


def _new(engine: Engine, shop: int, **kwargs: Any) -> links.LinkRow:
    with transaction(engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "576000000000000001", T0, **kwargs)
    return link


def _claim(engine: Engine, owner: str, at: datetime = T0) -> list[links.LinkRow]:
    with transaction(engine) as conn:
        return links.claim_due_links(conn, owner, at, limit=10, lease_seconds=LEASE)


def test_an_unleased_link_is_saved_once_and_left_unleased(migrated_engine: Engine, shop: int) -> None:
    link = _new(migrated_engine, shop, due_at=T0 + timedelta(hours=1))
    now = T0 + timedelta(minutes=5)
    with transaction(migrated_engine) as conn:
        saved = link_overrides.save_unleased(conn, link, "person", now=now, memory={"retry": True})
    assert saved is not None
    assert saved.memory == {"retry": True}
    assert saved.version == link.version + 1
    assert saved.updated_at == now
    assert (saved.lease_owner, saved.lease_expires_at) == (None, None)
    assert saved.next_due_at == T0 + timedelta(hours=1)  # only what the changes name moves


def test_a_leased_link_or_a_stale_version_is_refused(migrated_engine: Engine, shop: int) -> None:
    link = _new(migrated_engine, shop)
    [held] = _claim(migrated_engine, "w1")
    with transaction(migrated_engine) as conn:
        assert link_overrides.save_unleased(conn, held, "person", now=T0, memory={"x": 1}) is None
    after_lease = T0 + timedelta(seconds=LEASE)
    with transaction(migrated_engine) as conn:  # the lease ran out, but this is the old version
        assert link_overrides.save_unleased(conn, link, "person", now=after_lease, memory={"x": 1}) is None
        unchanged = links.get_link(conn, link.id)
    assert unchanged is not None
    assert (unchanged.version, unchanged.memory, unchanged.lease_owner) == (held.version, {}, "w1")


def test_an_expired_lease_is_no_hold_and_its_holder_loses(migrated_engine: Engine, shop: int) -> None:
    _new(migrated_engine, shop)
    [held] = _claim(migrated_engine, "w1")
    later = T0 + timedelta(seconds=LEASE + 1)
    with transaction(migrated_engine) as conn:
        saved = link_overrides.save_unleased(conn, held, "person", now=later, memory={"x": 1})
    assert saved is not None
    assert saved.version == held.version + 1
    assert saved.lease_owner is None
    with transaction(migrated_engine) as conn, pytest.raises(LeaseLost):
        links.save_link(conn, held, "w1", now=later, memory={"x": 2})  # the presumed-dead worker
    with transaction(migrated_engine) as conn:
        assert links.get_link(conn, held.id) == saved


def test_adopting_points_an_untouched_link_at_the_existing_order(migrated_engine: Engine, shop: int) -> None:
    link = _new(migrated_engine, shop, due_at=T0 + timedelta(minutes=10))
    now = T0 + timedelta(minutes=1)
    with transaction(migrated_engine) as conn:
        assert link_overrides.adopt_existing(conn, link.id, "gid://shopify/Order/1", "#1001",
                                             {"state": "released"}, state="released", now=now)
        adopted = links.get_link(conn, link.id)
        # Once linked, it is no longer untouched: a second adoption changes nothing.
        assert not link_overrides.adopt_existing(conn, link.id, "gid://shopify/Order/2", "#1002", {},
                                                 state="released", now=now)
        assert not link_overrides.adopt_existing(conn, link.id + 1000, "gid://shopify/Order/2", "#1002", {},
                                                 state="released", now=now)
        assert links.get_link(conn, link.id) == adopted
    assert adopted is not None
    assert (adopted.shopify_order_id, adopted.shopify_order_name, adopted.state) == (
        "gid://shopify/Order/1", "#1001", "released")
    assert adopted.memory == {"state": "released"}
    assert adopted.version == link.version + 1
    assert adopted.next_due_at == now
    assert adopted.lease_owner is None


def test_a_worker_holding_the_link_keeps_it_from_adoption(migrated_engine: Engine, shop: int) -> None:
    link = _new(migrated_engine, shop)
    [held] = _claim(migrated_engine, "w1")
    with transaction(migrated_engine) as conn:
        assert not link_overrides.adopt_existing(conn, link.id, "gid://shopify/Order/1", "#1001", {},
                                                 state="released", now=T0)
        assert links.get_link(conn, link.id) == held
