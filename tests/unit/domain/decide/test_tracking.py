"""decide(): tracking back to TikTok, one package per tracking number, exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from orderbridge.domain.actions import FetchShippingProviders, PushTracking, UpdateTracking
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import FulfillmentStatus
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.outcome import OutcomeStatus
from orderbridge.domain.policy import Policy
from tests.unit.domain.factories import (
    T0,
    UPS,
    codes,
    first,
    fo,
    fulfilment,
    held_memory,
    kinds,
    observed,
    ok,
    order,
    outcome,
    run,
    sline,
    view,
)

RELEASED = held_memory(state=LinkState.RELEASED, payment_recorded=True)
THREE = order(units=("sku-a", "sku-a", "sku-a"))
OPEN = (fo(held=False),)


def _view(*fulfilments: object, lines: tuple[object, ...] = (sline("SL1", "sku-a", 3),)) -> object:
    return view(line_items=lines, fulfillment_orders=OPEN, fulfillments=fulfilments)


def test_split_shipment_allocates_units_and_pushes_one_package_per_number() -> None:
    v = _view(
        fulfilment("F1", (UPS[0],), lines=(("SL1", 2),)),
        fulfilment("F2", (UPS[1],), lines=(("SL1", 1),)),
    )
    d = run(RELEASED, observed(THREE, v))
    pushes = [a for a in d.actions if isinstance(a, PushTracking)]
    assert [(p.tracking_number, p.line_ids, p.provider_id) for p in pushes] == [
        (UPS[0], ("L1", "L2"), "p-ups"),
        (UPS[1], ("L3",), "p-ups"),
    ]
    assert [(a.line_id, a.fulfillment_id) for a in d.memory.allocation] == [
        ("L1", "F1"),
        ("L2", "F1"),
        ("L3", "F2"),
    ]
    m = d.memory
    for p in pushes:
        m = ok(m, p, package_id=f"pkg-{p.source_fulfillment_id}")
    assert [p.package_id for p in m.packages] == ["pkg-F1", "pkg-F2"]
    assert run(m, observed(THREE, v)).actions == ()


def test_allocation_is_stable_and_skips_cancelled_units() -> None:
    o = replace(
        THREE,
        line_items=(
            replace(THREE.line_items[0], display_status="CANCELLED"),
            *THREE.line_items[1:],
        ),
    )
    v = _view(fulfilment("F1", lines=(("SL1", 1),)))
    d = run(RELEASED, observed(o, v))
    assert first(d, PushTracking).line_ids == ("L2",)
    # A later fulfilment takes the next unit; the earlier allocation stays.
    v2 = _view(fulfilment("F1", lines=(("SL1", 1),)), fulfilment("F2", (UPS[1],)))
    d2 = run(d.memory, observed(o, v2))
    assert [a.line_id for a in d2.memory.allocation] == ["L2", "L3"]


def test_providers_fetched_first() -> None:
    d = run(RELEASED, observed(order(), _view(fulfilment(), lines=(sline(),)), providers={}))
    assert kinds(d) == ["fetch_shipping_providers"]
    assert first(d, FetchShippingProviders).delivery_option_id == "opt-standard"


def test_unsupported_carrier_names_the_accepted_list() -> None:
    d = run(
        RELEASED, observed(order(), _view(fulfilment(company="Pony Express"), lines=(sline(),)))
    )
    issue = next(i for i in d.issues if i.code == "UNSUPPORTED_CARRIER")
    assert "USPS, UPS, Amazon Shipping" in issue.message
    assert kinds(d) == []
    d = run(RELEASED, observed(order(), _view(fulfilment(company="FedEx"), lines=(sline(),))))
    assert "UNSUPPORTED_CARRIER" in codes(d)


def test_invalid_tracking_with_counted_push_anyway() -> None:
    bad = "1Z999AA10100000005"
    v = _view(fulfilment(numbers=(bad,)), lines=(sline(),))
    d = run(RELEASED, observed(order(), v))
    issue = next(i for i in d.issues if i.code == "INVALID_TRACKING")
    assert "check digit" in issue.message
    assert [a.value for a in issue.actions] == ["push_anyway", "dismiss"]
    assert kinds(d) == []
    d = run(RELEASED.allow_push_anyway(bad.lower()), observed(order(), v))
    push = first(d, PushTracking)
    assert push.push_anyway
    assert ok(d.memory, push).push_anyway_used == 1


def test_no_tracking_and_multi_tracking_split() -> None:
    d = run(RELEASED, observed(order(), _view(fulfilment(numbers=()), lines=(sline(),))))
    assert "NO_TRACKING" in codes(d)
    assert kinds(d) == []
    multi = _view(fulfilment(numbers=(UPS[0], UPS[1]), lines=(("SL1", 3),)))
    d = run(RELEASED, observed(THREE, multi))
    assert "MULTI_TRACKING_SPLIT" in codes(d)
    assert kinds(d) == []
    # One unit with two numbers is one package: the first number.
    one = _view(fulfilment(numbers=(UPS[0], UPS[1])), lines=(sline(),))
    assert first(run(RELEASED, observed(order(), one)), PushTracking).tracking_number == UPS[0]


def test_mcf_warehouse_only_amazon_issued() -> None:
    policy = Policy(mcf_warehouse_ids=frozenset({"wh-mcf"}))
    o = order(warehouse_id="wh-mcf")
    d = run(RELEASED, observed(o, _view(fulfilment(), lines=(sline(),))), policy=policy)
    assert "NON_MCF_TRACKING" in codes(d)
    assert kinds(d) == []
    amzn = _view(fulfilment(numbers=("TBA123456789012",), company="Amazon"), lines=(sline(),))
    d = run(RELEASED, observed(o, amzn), policy=policy)
    assert first(d, PushTracking).provider_id == "p-amzn"


def test_fulfilment_while_on_hold_is_kept_and_pushed_at_awaiting_shipment() -> None:
    m = held_memory(first_seen_awaiting_at=None)
    v = view(fulfillments=(fulfilment(),), fulfillment_orders=(fo(held=False, status="CLOSED"),))
    d = run(m, observed(order(TikTokStatus.ON_HOLD), v))
    assert kinds(d) == []
    assert [a.line_id for a in d.memory.allocation] == ["L1"]
    d = run(d.memory, observed(order(paid_time=T0), v))
    assert "push_tracking" in kinds(d)
    assert "release_hold" not in kinds(d)


def test_tracking_correction_once_within_72h_then_locked() -> None:
    v = _view(fulfilment(), lines=(sline(),))
    d = run(RELEASED, observed(order(), v))
    m = ok(d.memory, first(d, PushTracking), package_id="pkg1")
    changed = _view(fulfilment(numbers=(UPS[2],)), lines=(sline(),))
    d = run(m, observed(order(), changed), now=T0 + timedelta(hours=71))
    update = first(d, UpdateTracking)
    assert (update.package_id, update.tracking_number) == ("pkg1", UPS[2])
    m2 = ok(m, update)
    assert m2.packages[0].corrections == 1
    assert run(m2, observed(order(), changed)).actions == ()
    again = _view(fulfilment(numbers=(UPS[3],)), lines=(sline(),))
    assert "TRACKING_LOCKED" in codes(run(m2, observed(order(), again)))
    late = run(m, observed(order(), changed), now=T0 + timedelta(hours=73))
    assert "TRACKING_LOCKED" in codes(late)
    assert kinds(late) == []


def test_fulfilment_cancelled_after_push_or_before() -> None:
    v = _view(fulfilment(), lines=(sline(),))
    d = run(RELEASED, observed(order(), v))
    m = ok(d.memory, first(d, PushTracking))
    gone = _view(fulfilment(status=FulfillmentStatus.CANCELLED), lines=(sline(),))
    assert "FULFILMENT_CANCELLED_AFTER_PUSH" in codes(run(m, observed(order(), gone)))
    # Not pushed yet: its units are freed for the next fulfilment.
    d = run(RELEASED, observed(order(TikTokStatus.ON_HOLD), v))
    assert d.memory.allocation
    d = run(d.memory, observed(order(TikTokStatus.ON_HOLD), gone))
    assert d.memory.allocation == ()


def test_lost_push_answer_is_recorded_from_tiktok_not_sent_twice() -> None:
    v = _view(fulfilment(), lines=(sline(),))
    d = run(RELEASED, observed(order(), v))
    m = outcome(d.memory, first(d, PushTracking), OutcomeStatus.UNKNOWN)
    o = order()
    o = replace(o, line_items=(replace(o.line_items[0], tracking_number=UPS[0], package_id="P"),))
    d = run(m, observed(o, v))
    assert kinds(d) == []
    assert d.memory.packages[0].package_id == "P"


def test_duplicate_number_on_two_fulfilments() -> None:
    v = _view(fulfilment("F1", lines=(("SL1", 1),)), fulfilment("F2", lines=(("SL1", 1),)))
    d = run(RELEASED, observed(THREE, v))
    assert len([a for a in d.actions if isinstance(a, PushTracking)]) == 1
    assert "DUPLICATE_TRACKING" in codes(d)


def test_fulfilment_of_a_line_that_is_not_ours_is_ignored() -> None:
    v = _view(fulfilment(lines=(("SL-extra", 1),)), lines=(sline(),))
    d = run(RELEASED, observed(order(), v))
    assert kinds(d) == []


def test_stale_cancelling_goes_back_and_tracking_flows() -> None:
    m = replace(RELEASED, state=LinkState.CANCELLING, released_at=T0)
    d = run(m, observed(order(), _view(fulfilment(), lines=(sline(),))))
    assert d.memory.state is LinkState.RELEASED
    assert kinds(d) == ["push_tracking"]
    held = replace(RELEASED, state=LinkState.CANCELLING)
    d = run(held, observed(order(), _view(fulfilment(), lines=(sline(),))))
    assert d.memory.state is LinkState.CREATED_HELD


def test_memory_round_trips_through_json() -> None:
    v = _view(fulfilment(), lines=(sline(),))
    d = run(RELEASED, observed(order(), v))
    m = ok(d.memory, first(d, PushTracking), package_id="pkg")
    m = outcome(m, first(d, PushTracking), OutcomeStatus.REJECTED, message="nope")
    m = m.dismiss("NO_TRACKING").approve_cancellation("C1")
    assert LinkMemory.from_json(m.to_json()) == m
    assert LinkMemory.from_json({"state": "new", "unknown": 1}) == LinkMemory()
