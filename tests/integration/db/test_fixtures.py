"""The shared database fixtures themselves (tests/conftest.py): reuse is never visible."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from orderbridge.adapters.db import links, make_engine, migrate, transaction
from tests.conftest import PgPool

from .conftest import T0


def test_db_url_alone_is_empty(db_url: str) -> None:
    assert migrate.current(db_url) is None


def test_migrated_engine_is_at_head_and_empty(migrated_engine: Engine) -> None:
    with transaction(migrated_engine, write=False) as conn:
        assert links.list_links(conn) == []
    assert migrate.current(str(migrated_engine.url.render_as_string(hide_password=False))) == (
        migrate.head()
    )


def _exec(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_pool_hands_back_a_clean_database(pg_pool: PgPool, shop_rows: list[str]) -> None:
    name = pg_pool.acquire()
    url = pg_pool.url(name)
    _exec(url, *shop_rows)
    leaked = make_engine(url)
    leaked.connect()  # a test that forgets to close: the pool must still clean up
    pg_pool.release(name)
    assert name in pg_pool.free
    again = pg_pool.acquire()
    assert again == name
    engine = make_engine(pg_pool.url(again))
    try:
        with transaction(engine) as conn:
            assert links.list_links(conn) == []
            conn.exec_driver_sql(shop_rows[0])
            new_id = conn.exec_driver_sql("SELECT max(id) FROM connections").scalar()
        assert new_id == 1  # sequences restart too
    finally:
        engine.dispose()
        pg_pool.release(again)
        leaked.dispose()


@pytest.mark.postgres
def test_pool_drops_a_database_whose_schema_changed(pg_pool: PgPool) -> None:
    name = pg_pool.acquire()
    _exec(pg_pool.url(name), "ALTER TABLE order_links ADD COLUMN extra integer")
    pg_pool.release(name)
    assert name not in pg_pool.free
    assert name not in pg_pool.made
    fresh = pg_pool.acquire()
    engine = make_engine(pg_pool.url(fresh))
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("order_links")}
        assert "extra" not in columns
    finally:
        engine.dispose()
        pg_pool.release(fresh)


@pytest.mark.postgres
def test_pool_drops_a_database_at_another_revision(pg_pool: PgPool) -> None:
    name = pg_pool.acquire()
    _exec(pg_pool.url(name), "UPDATE alembic_version SET version_num = 'elsewhere'")
    pg_pool.release(name)
    assert name not in pg_pool.free


@pytest.fixture
def shop_rows() -> list[str]:
    stamp = T0.isoformat()
    return [
        "INSERT INTO connections (name, tiktok_shop_id, shopify_domain, policy, status,"
        f" created_at, updated_at) VALUES ('a', '1', 'a.myshopify.com', '{{}}', 'active',"
        f" '{stamp}', '{stamp}')"
    ]
