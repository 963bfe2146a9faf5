"""Reading TikTok's whole catalogue through Search Products' 10,000-result cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderbridge.adapters.tiktok import ProductFilter
from orderbridge.adapters.tiktok.models import ProductPage
from orderbridge.engine.stock_sync import SEARCH_RESULT_CAP, read_tiktok_stock

NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)


class Catalogue:
    """Search Products as TikTok answers it: filtered by update time, paged by 100, and
    only the first 10,000 matches reachable (later pages come back empty)."""

    def __init__(self, count: int) -> None:
        self.updated = {f"p{i}": NOW - timedelta(minutes=i) for i in range(count)}
        self.calls = 0

    async def search_products(self, filters: ProductFilter | None = None, *, page_size: int = 100,
                              page_token: str | None = None) -> ProductPage:
        self.calls += 1
        assert filters is not None
        assert filters.update_time_ge is not None
        assert filters.update_time_le is not None
        ge, le = int(filters.update_time_ge.timestamp()), int(filters.update_time_le.timestamp())
        matches = sorted(p for p, at in self.updated.items() if ge <= int(at.timestamp()) <= le)
        reachable = matches[:SEARCH_RESULT_CAP]
        offset = int(page_token or 0)
        page = reachable[offset:offset + page_size]
        nxt = offset + page_size
        return ProductPage.model_validate({
            "products": [{"id": p, "skus": [{"id": f"s-{p}", "inventory": [{"warehouse_id": "W", "quantity": 3}]}]}
                         for p in page],
            "next_page_token": str(nxt) if nxt < len(reachable) else "", "total_count": len(matches)})


async def test_a_small_catalogue_is_one_window() -> None:
    catalogue = Catalogue(250)
    found, pages = await read_tiktok_stock(catalogue, NOW)
    assert len(found) == 250
    assert found["s-p7"] == {"W": 3}
    assert pages == 3


async def test_more_than_the_cap_is_read_in_halved_windows() -> None:
    catalogue = Catalogue(SEARCH_RESULT_CAP + 150)
    found, pages = await read_tiktok_stock(catalogue, NOW)
    assert len(found) == SEARCH_RESULT_CAP + 150  # nothing lost past the 10,000th result
    assert pages == catalogue.calls
