"""The Shopify sandbox answers API versions as Shopify does (https://shopify.dev/docs/api/usage/versioning).

It serves 2026-10; a stable version past its "accessible until" date (the 16th of its month a
year on, 15:00 UTC, per https://shopify.dev/changelog/release-notes/2026-10) falls forward and
is answered with the served version, named in X-Shopify-API-Version; a version it does not
emulate is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orderbridge.sandbox.shopify.versions import SERVED, accessible_until, answering_version
from tests.unit.sandbox_shopify.conftest import SHOP, Env

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_accessible_until_follows_the_release_notes() -> None:
    assert accessible_until("2026-10") == datetime(2027, 10, 16, 15, tzinfo=UTC)
    assert accessible_until("2025-07") == datetime(2026, 7, 16, 15, tzinfo=UTC)
    assert accessible_until("2026-02") is None
    assert accessible_until("unstable") is None


@pytest.mark.parametrize(("requested", "at", "answer"), [
    ("2026-10", NOW, "2026-10"),
    ("2025-10", NOW, "2026-10"),                                  # retired 2026-10-16: falls forward
    ("2025-10", datetime(2026, 10, 16, 14, 59, tzinfo=UTC), None),  # still Shopify's to serve
    ("2025-10", datetime(2026, 10, 16, 15, tzinfo=UTC), "2026-10"),
    ("2026-07", NOW, None),                                       # supported, not emulated
    ("2027-01", NOW, None),                                       # release candidate
    ("unstable", NOW, None),
    ("2025-13", NOW, None),
])
def test_answering_version(requested: str, at: datetime, answer: str | None) -> None:
    assert SERVED == "2026-10"
    assert answering_version(requested, at) == answer


async def test_the_header_names_the_version_that_answered(env: Env) -> None:
    env.clock.set(NOW)
    headers = {"X-Shopify-Access-Token": env.token}
    for requested in ("2026-10", "2025-10"):
        response = await env.client.post(f"/{SHOP}/admin/api/{requested}/graphql.json",
                                         json={"query": "{ shop { myshopifyDomain } }"}, headers=headers)
        assert response.status_code == 200
        assert response.headers["X-Shopify-API-Version"] == "2026-10"
        assert response.json()["data"]["shop"]["myshopifyDomain"] == SHOP
    response = await env.client.post(f"/{SHOP}/admin/api/2026-07/graphql.json",
                                     json={"query": "{ shop { myshopifyDomain } }"}, headers=headers)
    assert response.status_code == 404
