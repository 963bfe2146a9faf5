"""Migration 0006 keeps everyone's view: existing viewers and operators are granted every
existing connection (admins need no grant); a connection added later is granted by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from orderbridge.adapters.db import (
    TokenCipher,
    connections,
    generate_key,
    make_engine,
    migrate,
    transaction,
)
from orderbridge.adapters.db.grants import granted_connections
from orderbridge.adapters.db.operators import Role, add_user

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_upgrading_grants_existing_users_every_existing_connection(db_url: str) -> None:
    migrate.upgrade(db_url, "0005")
    engine = make_engine(db_url)
    cipher = TokenCipher(generate_key())
    try:
        with transaction(engine) as conn:
            vera = add_user(conn, "vera", Role.VIEWER, now=T0)
            olive = add_user(conn, "olive", Role.OPERATOR, now=T0)
            ada = add_user(conn, "ada", Role.ADMIN, now=T0)
        with engine.begin() as raw:  # 0005's connections table: no application code may assume more
            for n in (1, 2):
                raw.exec_driver_sql(
                    "INSERT INTO connections (name, tiktok_shop_id, shopify_domain, policy, status, created_at, "
                    f"updated_at) VALUES ('shop-{n}', '70{n}', 's{n}.myshopify.com', '{{}}', 'active', "
                    "'2026-12-01 12:00:00', '2026-12-01 12:00:00')")
        migrate.upgrade(db_url)
        with transaction(engine) as conn:
            ids = {c.id for c in connections.list_connections(conn, cipher)}
            assert len(ids) == 2
            assert granted_connections(conn, vera.id) == ids
            assert granted_connections(conn, olive.id) == ids
            assert granted_connections(conn, ada.id) == frozenset()  # admins see all without grants
            later = connections.create_connection(conn, cipher, name="shop-3", tiktok_shop_id="703",
                                                  shopify_domain="s3.myshopify.com", now=T0).id
            assert later not in granted_connections(conn, vera.id)
        migrate.downgrade(db_url, "0005")
        migrate.upgrade(db_url)
    finally:
        engine.dispose()
