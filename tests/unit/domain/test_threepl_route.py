"""domain/decide/threepl_route: policy route_to creates the 3PL order of a released order, once."""

from __future__ import annotations

from dataclasses import replace

from orderbridge.domain.actions import CreateThreePLOrder
from orderbridge.domain.decide.threepl_route import ShippingSpeed, speed_for
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import (
    Cancellation,
    CancellationStatus,
    CancellationType,
    ThreePLView,
)
from orderbridge.domain.order import CombinedListingSku, TikTokStatus
from orderbridge.domain.policy import Policy, RouteTo, ThreePL
from tests.unit.domain.factories import (
    ORDER_ID,
    T0,
    first,
    fo,
    held_memory,
    kinds,
    observed,
    ok,
    order,
    run,
    sline,
    view,
)

SHIPBOB = Policy(route_to=RouteTo.SHIPBOB)
RELEASED = held_memory(state=LinkState.RELEASED, payment_recorded=True, released_at=T0,
                       released_fulfillment_order_ids=("fo1",))
OPEN = view(line_items=(sline("SL1", "sku-a", 2), sline("SL2", "sku-b")), fulfillment_orders=(fo(held=False),))
THREE = order(units=("sku-a", "sku-a", "sku-b"))


def test_speed_follows_tiktoks_delivery_option() -> None:
    assert speed_for("Standard Shipping") is ShippingSpeed.STANDARD
    assert speed_for("Economy") is ShippingSpeed.STANDARD
    assert speed_for("Express Shipping") is ShippingSpeed.EXPEDITED
    assert speed_for("Next Day") is ShippingSpeed.PRIORITY


def test_a_released_order_is_sent_once_with_its_units_address_and_speed() -> None:
    d = run(RELEASED, observed(THREE, OPEN), policy=SHIPBOB)
    action = first(d, CreateThreePLOrder)
    assert (action.threepl, action.reference, action.speed) == ("shipbob", ORDER_ID, "Standard")
    assert action.items == (("SKU-A", 2), ("SKU-B", 1))
    assert action.address.country_code == "US"
    assert action.key == f"3pl-create:{ORDER_ID}"
    sent = ok(d.memory, action)
    assert sent.threepl_routed == ORDER_ID
    assert "create_threepl_order" not in kinds(run(sent, observed(THREE, OPEN), policy=SHIPBOB))


def test_cancelled_units_stay_home_and_bundles_ship_their_components() -> None:
    cancelled = Cancellation(cancel_id="C1", type=CancellationType.CANCEL, status=CancellationStatus.COMPLETE,
                             line_item_ids=("L3",))
    d = run(RELEASED, observed(THREE, OPEN, cancellations=(cancelled,)), policy=SHIPBOB)
    assert first(d, CreateThreePLOrder).items == (("SKU-A", 2),)
    base = order()
    bundle = replace(base.line_items[0], seller_sku="", combined_listing_skus=(
        CombinedListingSku(sku_id="c1", seller_sku="CUP", sku_count=2), CombinedListingSku(sku_id="c2", sku_count=1)))
    d = run(RELEASED, observed(replace(base, line_items=(bundle,)), OPEN), policy=SHIPBOB)
    assert first(d, CreateThreePLOrder).items == (("CUP", 2), ("c2", 1))
    plain = replace(base.line_items[0], seller_sku="")
    d = run(RELEASED, observed(replace(base, line_items=(plain,)), OPEN), policy=SHIPBOB)
    assert first(d, CreateThreePLOrder).items == (("sku-a", 1),)


def test_nothing_is_sent_when_it_should_not_be() -> None:
    cases = [
        (RELEASED, THREE, Policy()),  # route_to none
        (replace(RELEASED, threepl_routed="X"), THREE, SHIPBOB),  # already sent
        (replace(RELEASED, released_at=None), THREE, SHIPBOB),  # not released yet
        (RELEASED, order(status=TikTokStatus.IN_TRANSIT, units=("sku-a",)), SHIPBOB),  # shipped
        (RELEASED, order(units=("sku-a",), recipient=None), SHIPBOB),  # no address to send
        (replace(RELEASED, removed_line_ids=("L1", "L2", "L3")), THREE, SHIPBOB),  # no units left
    ]
    for memory, tiktok, policy in cases:
        assert "create_threepl_order" not in kinds(run(memory, observed(tiktok, OPEN), policy=policy))


def test_an_order_the_3pl_already_has_counts_as_sent() -> None:
    there = ThreePLView(order_id="77", provider=ThreePL.SHIPBOB, reference=ORDER_ID)
    d = run(RELEASED, observed(THREE, OPEN, threepl=there), policy=SHIPBOB)
    assert "create_threepl_order" not in kinds(d)
    assert d.memory.threepl_routed == ORDER_ID
    elsewhere = replace(there, provider=ThreePL.AMAZON_MCF)
    d = run(RELEASED, observed(THREE, OPEN, threepl=elsewhere), policy=SHIPBOB)
    assert first(d, CreateThreePLOrder).threepl == "shipbob"
