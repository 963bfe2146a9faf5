"""Catalogue import, resolve_skus and explicit links against the sandbox catalogues."""

import httpx
import pytest
from sqlalchemy import select

from orderbridge.adapters.db import (
    SkuLinkSource,
    connections,
    events,
    links,
    order_exceptions,
    sku_links,
    transaction,
)
from orderbridge.adapters.db.grants import grant_connection
from orderbridge.adapters.db.operators import Role
from orderbridge.adapters.db.tables import shopify_variants, tiktok_skus
from orderbridge.domain.observed import SkuState
from orderbridge.engine.connect import connect_sandbox
from orderbridge.engine.skus import import_catalogues, link_sku, resolve_skus
from orderbridge.errors import ConfigurationError
from orderbridge.web.app import create_app
from tests.integration.web.conftest import SandboxKit, bearer, token_for


async def _imported(sbx: SandboxKit) -> tuple[int, dict[str, str]]:
    row = await connect_sandbox(sbx.services, sbx.info)
    await import_catalogues(sbx.services, row)
    with transaction(sbx.services.db, write=False) as conn:
        seller = {r.sku_id: r.seller_sku for r in conn.execute(select(tiktok_skus))}
    return row.id, seller


async def test_import_links_equal_skus_and_reports_unmapped_and_ambiguous(sbx: SandboxKit) -> None:
    row = await connect_sandbox(sbx.services, sbx.info)
    report = await import_catalogues(sbx.services, row)
    expected = set(sbx.info["tiktok"]["shops"][0]["seller_skus"])
    assert report.tiktok_skus == len(expected)
    assert report.unmapped == ("WHISK-HOLDER",)
    assert set(report.ambiguous) == {"DUP-SKU"}
    assert len(report.ambiguous["DUP-SKU"]) == 2
    assert set(report.linked) == expected - {"WHISK-HOLDER", "DUP-SKU"}
    with transaction(sbx.services.db, write=False) as conn:
        made = sku_links.list_sku_links(conn, row.id)
    assert {x.seller_sku for x in made} == set(report.linked)
    assert all(x.source == SkuLinkSource.SKU and x.shopify_inventory_item_id for x in made)


async def test_import_reports_progress_per_item_read_on_each_side(sbx: SandboxKit) -> None:
    row = await connect_sandbox(sbx.services, sbx.info)
    seen: list[tuple[str, int]] = []
    report = await import_catalogues(sbx.services, row, lambda side, count: seen.append((side, count)))
    tiktok = [n for side, n in seen if side == "tiktok"]
    shopify = [n for side, n in seen if side == "shopify"]
    assert tiktok  # one call per product, counting up
    assert tiktok == list(range(1, len(tiktok) + 1))
    assert shopify == list(range(1, len(shopify) + 1))
    assert len(shopify) >= report.tiktok_skus - 1  # every variant of the shop (one TikTok SKU has none)
    assert seen.index(("shopify", 1)) > seen.index(("tiktok", len(tiktok)))  # TikTok first, then Shopify


async def test_resolve_skus_explicit_first_then_equal_sku_never_the_first_of_two(sbx: SandboxKit) -> None:
    cid, seller = await _imported(sbx)
    by_sku = {v: k for k, v in seller.items()}
    ids = list(seller)
    with transaction(sbx.services.db, write=False) as conn:
        resolved = resolve_skus(conn, cid, [*ids, "999"], {**seller, "999": " BOWL-WHT "})
    assert resolved[by_sku["WHISK-HOLDER"]].state is SkuState.UNMAPPED
    dup = resolved[by_sku["DUP-SKU"]]
    assert dup.state is SkuState.AMBIGUOUS
    assert dup.variant_id is None
    assert len(dup.candidates) == 2
    assert resolved[by_sku["BOWL-WHT"]].state is SkuState.MAPPED
    # an unknown SKU id with an equal (trimmed) seller SKU maps by SKU too
    assert resolved["999"].variant_id == resolved[by_sku["BOWL-WHT"]].variant_id
    with transaction(sbx.services.db, write=False) as conn:
        assert resolve_skus(conn, cid, ["999"], {"999": "bowl-wht"})["999"].state is SkuState.UNMAPPED
        assert resolve_skus(conn, cid, ["999"], {"999": "BOWL-WHT"}, bundles={"999"})["999"].state \
            is SkuState.UNMAPPED

    link_sku(sbx.services, cid, "DUP-SKU", dup.candidates[1])
    with transaction(sbx.services.db, write=False) as conn:
        after = resolve_skus(conn, cid, [by_sku["DUP-SKU"]], seller)[by_sku["DUP-SKU"]]
    assert after.state is SkuState.MAPPED
    assert after.variant_id == dup.candidates[1]
    # re-import keeps the explicit link
    row = await connect_sandbox(sbx.services, sbx.info)
    report = await import_catalogues(sbx.services, row)
    assert by_sku["DUP-SKU"] in report.kept_explicit
    with transaction(sbx.services.db, write=False) as conn:
        kept = sku_links.get_sku_links(conn, cid, [by_sku["DUP-SKU"]])[by_sku["DUP-SKU"]]
    assert kept.source == SkuLinkSource.EXPLICIT
    assert kept.shopify_variant_id == dup.candidates[1]


async def test_explicit_link_makes_waiting_orders_due(sbx: SandboxKit) -> None:
    cid, seller = await _imported(sbx)
    by_sku = {v: k for k, v in seller.items()}
    whisk = by_sku["WHISK-HOLDER"]
    now = sbx.services.clock.now()
    later = now.replace(year=now.year + 1)
    with transaction(sbx.services.db) as conn:
        waiting, _ = links.get_or_create_link(conn, cid, "o-waiting", now, due_at=later)
        other, _ = links.get_or_create_link(conn, cid, "o-other", now, due_at=later)
        order_exceptions.raise_exception(conn, waiting.id, "UNMAPPED_SKU", "error", "unmapped",
                                         {"sku_id": whisk, "seller_sku": "WHISK-HOLDER"}, now=now)
        order_exceptions.raise_exception(conn, other.id, "UNMAPPED_SKU", "error", "unmapped",
                                         {"sku_id": "someone-else", "seller_sku": "X"}, now=now)
    variant = "gid://shopify/ProductVariant/1"
    report = link_sku(sbx.services, cid, "WHISK-HOLDER", variant)
    assert report.tiktok_sku_ids == (whisk,)
    assert report.orders_resumed == ("o-waiting",)
    with transaction(sbx.services.db, write=False) as conn:
        assert links.get_link(conn, waiting.id).next_due_at == now  # type: ignore[union-attr]
        assert links.get_link(conn, other.id).next_due_at == later  # type: ignore[union-attr]
        assert resolve_skus(conn, cid, [whisk], seller)[whisk].variant_id == variant
        assert connections.get_connection(conn, sbx.services.cipher, cid) is not None


async def test_link_sku_refuses_an_unknown_seller_sku(sbx: SandboxKit) -> None:
    cid, _ = await _imported(sbx)
    with pytest.raises(ConfigurationError, match="skus import"):
        link_sku(sbx.services, cid, "NOPE-SKU", "gid://shopify/ProductVariant/1")


async def test_the_api_links_a_sku_only_to_a_variant_shopify_confirms(sbx: SandboxKit) -> None:
    cid, _ = await _imported(sbx)
    with transaction(sbx.services.db, write=False) as conn:
        real = conn.execute(select(shopify_variants.c.variant_id).order_by(shopify_variants.c.variant_id)).scalar()
        name = connections.get_connection(conn, sbx.services.cipher, cid).name  # type: ignore[union-attr]
    assert real is not None
    app = create_app(sbx.services)
    headers = bearer(token_for(sbx.services, Role.OPERATOR, name="olive"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orderbridge.test",
                                 headers=headers) as api:
        missing = await api.post("/api/sku-links", json={"connection": name, "tiktok_sku": "WHISK-HOLDER",
                                                         "variant_id": "gid://shopify/ProductVariant/987654321"})
        assert missing.status_code == 422, missing.text
        assert "does not exist" in missing.json()["detail"]
        with transaction(sbx.services.db, write=False) as conn:
            assert [x for x in sku_links.list_sku_links(conn, cid) if x.source == SkuLinkSource.EXPLICIT] == []
        made = await api.post("/api/sku-links", json={"connection": name, "tiktok_sku": "WHISK-HOLDER",
                                                      "variant_id": real})
        assert made.status_code == 200, made.text
        unknown_sku = await api.post("/api/sku-links", json={"connection": name, "tiktok_sku": "NOT-IMPORTED",
                                                             "variant_id": real})
        assert unknown_sku.status_code == 400
        listed = (await api.get("/api/sku-links", params={"connection": name})).json()["links"]
    assert [(x["seller_sku"], x["shopify_variant_id"]) for x in listed if x["source"] == "explicit"] == [
        ("WHISK-HOLDER", real)]
    with transaction(sbx.services.db, write=False) as conn:
        summaries = [e.summary for e in events.recent(conn, connection_id=cid)]
    assert f"SKU WHISK-HOLDER linked to {real} by olive" in summaries


async def test_the_products_page_lists_unlinked_first_and_links_a_confirmed_variant(sbx: SandboxKit) -> None:
    import re
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from orderbridge.adapters.db.operators import add_user
    from orderbridge.adapters.db.web_sessions import set_password_hash
    from orderbridge.web import passwords

    cid, seller = await _imported(sbx)
    whisk = next(sku for sku, name in seller.items() if name == "WHISK-HOLDER")
    now = sbx.services.clock.now()
    with transaction(sbx.services.db) as conn:
        real = conn.execute(select(shopify_variants.c.variant_id).order_by(shopify_variants.c.variant_id)).scalar()
        for name, role in (("olive", Role.OPERATOR), ("vera", Role.VIEWER)):
            user = add_user(conn, name, role, now=now)
            set_password_hash(conn, user.id, passwords.hash_password("correct horse battery"), now=now)
            grant_connection(conn, user.id, cid, now=now)  # viewers and operators see what they are granted
    base = "http://orderbridge.test"
    transport = httpx.ASGITransport(app=create_app(sbx.services))

    @asynccontextmanager
    async def signed_in(name: str) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            await http.post("/dashboard/login", headers={"Origin": base},
                            data={"name": name, "password": "correct horse battery"})
            yield http

    async with signed_in("vera") as viewer:
        page = await viewer.get("/dashboard/products")
        assert page.status_code == 200
        assert "UNMAPPED" in page.text
        assert "<form class=\"link\"" not in page.text  # a viewer links nothing
    async with signed_in("olive") as http:
        page = await http.get("/dashboard/products")
        states = re.findall(r'<tr class="sku-(\w+)">', page.text)
        assert states == sorted(states, key=lambda s: s == "mapped")  # the unlinked first
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        form = {"csrf": csrf, "connection": str(cid), "sku_id": whisk}
        missing = await http.post("/dashboard/products/link", headers={"Origin": base},
                                  data={**form, "variant_id": "gid://shopify/ProductVariant/987654321"})
        assert missing.status_code == 303
        shown = await http.get(missing.headers["location"])
        assert "not linked: variant gid://shopify/ProductVariant/987654321 does not exist" in shown.text
        forged = await http.post("/dashboard/products/link", headers={"Origin": base},
                                 data={**form, "csrf": "forged", "variant_id": real})
        assert forged.status_code == 403
        made = await http.post("/dashboard/products/link", headers={"Origin": base}, data={**form, "variant_id": real})
        assert f"SKU+{whisk}+linked" in made.headers["location"]
    with transaction(sbx.services.db, write=False) as conn:
        assert resolve_skus(conn, cid, [whisk], seller)[whisk].variant_id == real
