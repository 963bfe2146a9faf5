"""The dashboard's queries on both databases: scope, keyset paging (also through a search of
the stored data), filters, and the health figures, on bulk-seeded orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from orderbridge.adapters.db import TokenCipher, connections, transaction
from orderbridge.adapters.db.board import (
    OrderQuery,
    exception_groups,
    order_detail,
    order_page,
    overview,
)
from orderbridge.adapters.db.board_health import connection_health
from orderbridge.adapters.db.seed import insert_exceptions, insert_links
from tests.integration.db.conftest import T0


def _seed(engine: Engine, cipher: TokenCipher, shop: int, n: int) -> tuple[int, list[int], list[int]]:
    """``n`` orders on ``shop`` and on a second connection, one a minute; every third one
    released with a tracking number, every fifth with an open exception."""
    with transaction(engine) as conn:
        other = connections.create_connection(conn, cipher, name="other", tiktok_shop_id="7000000002",
                                              shopify_domain="other.myshopify.com", now=T0).id

        def row(cid: int, i: int) -> dict[str, Any]:
            released = i % 3 == 0
            return {"connection_id": cid, "tiktok_order_id": f"57{cid}{i:06d}", "first_seen_at": T0 + timedelta(minutes=i),
                    "state": "released" if released else "new",
                    "memory": {"packages": [{"tracking_number": "1ZSHARED"}]} if released else {},
                    "tiktok_snapshot": {"line_items": [{"seller_sku": f"SKU-{i % 2}"}]}}

        mine = insert_links(conn, [row(shop, i) for i in range(n)], now=T0)
        theirs = insert_links(conn, [row(other, i) for i in range(n)], now=T0)
        insert_exceptions(conn, [{"link_id": i, "code": "UNMAPPED_SKU", "message": "m"} for i in mine[::5] + theirs[::5]],
                          now=T0)
    return other, mine, theirs


def _all(conn: Any, query: OrderQuery, scope: Any) -> list[int]:
    seen: list[int] = []
    after: str | None = None
    while True:
        page = order_page(conn, replace(query, after=after), scope)
        seen += [line.id for line in page.lines]
        if page.after is None:
            return seen
        after = page.after


def test_every_query_keeps_to_the_scope(migrated_engine: Engine, cipher: TokenCipher, shop: int) -> None:
    other, mine, theirs = _seed(migrated_engine, cipher, shop, 30)
    only_mine = frozenset({shop})
    with transaction(migrated_engine, write=False) as conn:
        assert _all(conn, OrderQuery(limit=7), only_mine) == mine[::-1]
        assert sorted(_all(conn, OrderQuery(limit=7), None)) == sorted(mine + theirs)
        assert _all(conn, OrderQuery(), frozenset()) == []
        assert _all(conn, OrderQuery(connection_id=other), only_mine) == []
        assert order_detail(conn, theirs[0], only_mine) is None
        assert order_detail(conn, mine[0], only_mine) is not None
        assert [c.id for c in overview(conn, only_mine)] == [shop]
        assert overview(conn, frozenset()) == []
        [group] = exception_groups(conn, only_mine)
        assert {e.link_id for e, _ in group.items} == set(mine[::5])
        assert connection_health(conn, frozenset()) == {}


def test_searches_and_filters_page_by_key(migrated_engine: Engine, cipher: TokenCipher, shop: int) -> None:
    _other, mine, _theirs = _seed(migrated_engine, cipher, shop, 30)
    scope = frozenset({shop})
    with transaction(migrated_engine, write=False) as conn:
        exact = order_page(conn, OrderQuery(search=f"57{shop}000007"), scope)
        assert [line.id for line in exact.lines] == [mine[7]]
        # A value of the stored data: the scan pages by key like the list, cursor and all.
        assert _all(conn, OrderQuery(search="1ZSHARED", limit=4), scope) == mine[::3][::-1]
        assert _all(conn, OrderQuery(search="SKU-1", limit=4), scope) == mine[1::2][::-1]
        assert _all(conn, OrderQuery(search="SKU", limit=4), scope) == []  # whole values only
        assert _all(conn, OrderQuery(search='"x%_\\', limit=4), scope) == []  # quoted, escaped
        assert _all(conn, OrderQuery(exception_code="ANY", limit=4), scope) == mine[::5][::-1]
        assert _all(conn, OrderQuery(state="released", limit=4), scope) == mine[::3][::-1]
        window = OrderQuery(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20), limit=3)
        assert _all(conn, window, scope) == mine[10:20][::-1]
        pinned = OrderQuery(link_ids=frozenset({mine[2], mine[4]}), state="new")
        assert _all(conn, pinned, scope) == [mine[4], mine[2]]
        assert _all(conn, OrderQuery(link_ids=frozenset()), scope) == []
        assert order_page(conn, OrderQuery(after="not a cursor", limit=2), scope).lines[0].id == mine[-1]
