"""domain/decide/threepl_search: the fallback search for a released order's unknown 3PL order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from orderbridge.domain.actions import FindThreePLOrder
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import ShopifyFulfillmentOrder, ThreePLView
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.policy import Policy, RouteTo, ThreePL
from tests.unit.domain.factories import (
    ORDER_ID,
    T0,
    codes,
    first,
    fulfilment,
    held_memory,
    kinds,
    observed,
    ok,
    order,
    run,
    sline,
    view,
)

POLICY = Policy(threepl_locations={"7": ThreePL.AMAZON_MCF})
RELEASED = held_memory(state=LinkState.RELEASED, payment_recorded=True, released_at=T0,
                       released_fulfillment_order_ids=("fo1",))
FO = ShopifyFulfillmentOrder(id="fo1", status="OPEN", location_id="gid://shopify/Location/7")
OPEN = view(name="#1001", line_items=(sline(),), fulfillment_orders=(FO,))


def _at(minutes: float) -> object:
    return T0 + timedelta(minutes=minutes)


def test_searched_after_the_wait_under_every_reference_then_at_most_hourly() -> None:
    d = run(RELEASED, observed(order(), OPEN), now=_at(5), policy=POLICY)
    assert "find_threepl_order" not in kinds(d)
    assert d.next_due_at is not None
    assert d.next_due_at <= _at(15)
    d = run(RELEASED, observed(order(), OPEN), now=_at(15), policy=POLICY)
    action = first(d, FindThreePLOrder)
    assert (action.threepl, action.tiktok_order_id) == ("amazon_mcf", ORDER_ID)
    assert action.references == ("#1001", "1001", "1", ORDER_ID)
    assert action.since == order().create_time
    assert action.key == f"3pl-find:{ORDER_ID}"
    searched = ok(d.memory, action, at=_at(15))
    assert searched.threepl_searched_at == _at(15)
    d = run(searched, observed(order(), OPEN), now=_at(30), policy=POLICY)
    assert "find_threepl_order" not in kinds(d)
    assert d.next_due_at is not None
    assert d.next_due_at <= _at(75)
    assert "find_threepl_order" in kinds(run(searched, observed(order(), OPEN), now=_at(75), policy=POLICY))


def test_still_missing_after_hours_is_a_warning_and_the_search_goes_on() -> None:
    d = run(RELEASED, observed(order(), OPEN), now=_at(4 * 60), policy=POLICY)
    assert "THREEPL_ORDER_MISSING" in codes(d)
    [issue] = [i for i in d.issues if i.code.value == "THREEPL_ORDER_MISSING"]
    assert issue.severity.value == "warning"
    assert "#1001" in issue.message
    assert "find_threepl_order" in kinds(d)
    fresh = replace(RELEASED, threepl_searched_at=_at(4 * 60 - 10))
    d = run(fresh, observed(order(), OPEN), now=_at(4 * 60), policy=POLICY)
    assert "THREEPL_ORDER_MISSING" in codes(d)
    assert "find_threepl_order" not in kinds(d)


def test_no_search_when_there_is_nothing_to_look_for() -> None:
    known = ThreePLView(order_id="1001", provider=ThreePL.AMAZON_MCF, reference="1001")
    shipped = view(name="#1001", line_items=(sline(),), fulfillment_orders=(FO,), fulfillments=(fulfilment(),))
    cases = [
        (RELEASED, order(), OPEN, Policy(), None),  # no 3PL holds it
        (RELEASED, order(), OPEN, POLICY, known),  # already known
        (RELEASED, order(), shipped, POLICY, None),  # shipped some other way
        (replace(RELEASED, released_at=None), order(), OPEN, POLICY, None),  # not released
        (RELEASED, order(status=TikTokStatus.IN_TRANSIT), OPEN, POLICY, None),  # TikTok moved on
        (RELEASED, order(), OPEN, Policy(route_to=RouteTo.AMAZON_MCF), None),  # routing creates it
    ]
    for memory, tiktok, shopify, policy, threepl in cases:
        d = run(memory, observed(tiktok, shopify, threepl=threepl), now=_at(60), policy=policy)
        assert "find_threepl_order" not in kinds(d)
    routed = replace(RELEASED, threepl_routed=ORDER_ID)
    d = run(routed, observed(order(), OPEN), now=_at(60), policy=Policy(route_to=RouteTo.AMAZON_MCF))
    assert first(d, FindThreePLOrder).threepl == "amazon_mcf"
    no_time = order(create_time=None)
    assert first(run(RELEASED, observed(no_time, OPEN), now=_at(60), policy=POLICY), FindThreePLOrder).since == T0
