"""threepl_orders: stored 3PL views, found by reference, and the links they make due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from orderbridge.adapters.db import links, threepl_orders, transaction
from orderbridge.domain.observed import ThreePLPackage, ThreePLView
from orderbridge.domain.policy import ThreePL
from orderbridge.engine.threepl.lookup import candidate_references

from .conftest import T0

LATER = T0 + timedelta(days=1)


def _view(order_id: str, reference: str, provider: ThreePL = ThreePL.SHIPBOB, **kw: object) -> ThreePLView:
    return ThreePLView(order_id=order_id, provider=provider, reference=reference, status="Processing",
                       updated_at=T0, **kw)  # type: ignore[arg-type]


def test_upsert_round_trips_and_reports_changes(migrated_engine: Engine, shop: int) -> None:
    shipped = _view("77", "#1001", packages=(ThreePLPackage(tracking_number="9400", carrier="USPS", shipped_at=T0),),
                    cancellable=False, shipped_without_tracking=True, live_shipments=1, picked=True)
    with transaction(migrated_engine) as conn:
        assert threepl_orders.upsert(conn, shop, _view("77", "#1001"), now=T0, alt_reference="1001")
        assert not threepl_orders.upsert(conn, shop, _view("77", "#1001"), now=T0, alt_reference="1001")
        assert threepl_orders.upsert(conn, shop, shipped, now=LATER, alt_reference="1001")
        [found] = threepl_orders.find_by_references(conn, shop, ["#1001"])
        assert found == shipped
        [by_alt] = threepl_orders.find_by_references(conn, shop, ["x", "1001"])
        assert by_alt.reference == "1001"
        assert threepl_orders.find_by_references(conn, shop, ["", "nope"]) == []
        assert threepl_orders.find_by_references(conn, shop, []) == []
        assert threepl_orders.remote_updated_at(conn, shop, "shipbob", "77") == (T0, "Processing")
        assert threepl_orders.remote_updated_at(conn, shop, "amazon_mcf", "77") is None


def test_a_view_needs_its_provider(migrated_engine: Engine, shop: int) -> None:
    with transaction(migrated_engine) as conn, pytest.raises(ValueError, match="provider"):
        threepl_orders.upsert(conn, shop, ThreePLView(order_id="1"), now=T0)


def test_due_links_for_matches_tiktok_id_shopify_id_and_name(migrated_engine: Engine, shop: int) -> None:
    far, early = T0 + timedelta(days=9), T0 - timedelta(hours=1)
    with transaction(migrated_engine) as conn:
        links.get_or_create_link(conn, shop, "576001", T0, due_at=far)
        made = [links.get_or_create_link(conn, shop, oid, T0, due_at=far)[0] for oid in ("576002", "576003", "576004")]
        # Linked to Shopify orders (due at T0 by that): #1002 = 5, #1003 = 6, #1004 = 7.
        for row, (sid, name) in zip(made, (("5", "#1002"), ("6", "#1003"), ("7", "#1004")), strict=True):
            assert links.adopt_existing(conn, row.id, f"gid://shopify/Order/{sid}", name, {}, state="released", now=T0)
        assert threepl_orders.due_links_for(conn, shop, ["576001"], early) == 1
        assert threepl_orders.due_links_for(conn, shop, ["1002", ""], early) == 1
        assert threepl_orders.due_links_for(conn, shop, ["6"], early) == 1
        assert threepl_orders.due_links_for(conn, shop, ["nothing"], early) == 0
        assert threepl_orders.due_links_for(conn, shop, [], early) == 0
        due = {oid: row.next_due_at for oid in ("576001", "576002", "576003", "576004")
               if (row := links.find_link(conn, shop, oid)) is not None}
    assert due == {"576001": early, "576002": early, "576003": early, "576004": T0}


def test_candidate_references_from_the_link_row() -> None:
    assert candidate_references("576001", "gid://shopify/Order/5", "#1002") == ("576001", "5", "#1002", "1002")
    assert candidate_references("576001", None, None) == ("576001",)
