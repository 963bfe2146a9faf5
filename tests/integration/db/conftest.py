"""Fixtures for the database adapter's own tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from orderbridge.adapters.db import TokenCipher, connections, generate_key, transaction

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(generate_key())


@pytest.fixture
def shop(migrated_engine: Engine, cipher: TokenCipher) -> int:
    """Id of one stored connection."""
    with transaction(migrated_engine) as conn:
        row = connections.create_connection(
            conn,
            cipher,
            name="acme",
            tiktok_shop_id="7000000001",
            shopify_domain="acme.myshopify.com",
            now=T0,
            shopify_token="shpat_secret",
        )
    return row.id
