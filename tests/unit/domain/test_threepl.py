"""domain/threepl: which 3PL holds an order, its references, and its parcels through decide()."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from orderbridge.domain.actions import FulfilFromThreePL, PushTracking
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import (
    FulfillmentStatus,
    ShopifyFulfillmentOrder,
    ThreePLPackage,
    ThreePLView,
)
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.policy import Policy, ThreePL, ThreePLReference
from orderbridge.domain.threepl import gid_tail, holder_of, references, select
from tests.unit.domain.factories import (
    ORDER_ID,
    UPS,
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

LOC = "gid://shopify/Location/7"
TBA = "TBA123456789012"
RELEASED = held_memory(state=LinkState.RELEASED, payment_recorded=True)
MCF_POLICY = Policy(threepl_locations={"7": ThreePL.AMAZON_MCF})


def _fo(fid: str = "fo1", status: str = "OPEN", location: str = LOC) -> ShopifyFulfillmentOrder:
    return ShopifyFulfillmentOrder(id=fid, status=status, location_id=location)


def _tpl(*packages: ThreePLPackage, provider: str = ThreePL.AMAZON_MCF, **kw: object) -> ThreePLView:
    base: dict[str, object] = {"order_id": "1001", "provider": provider, "reference": "1001",
                               "status": "Complete", "packages": packages}
    base.update(kw)
    return ThreePLView(**base)  # type: ignore[arg-type]


# --- which 3PL, which reference, which order ---


def test_holder_of_maps_the_assigned_location_by_gid_or_number() -> None:
    v = view(fulfillment_orders=(_fo(),))
    assert holder_of(v, {"7": ThreePL.SHIPBOB}) is ThreePL.SHIPBOB
    assert holder_of(v, {LOC: ThreePL.AMAZON_MCF}) is ThreePL.AMAZON_MCF
    assert holder_of(v, {"8": ThreePL.SHIPBOB}) is None
    assert holder_of(None, {"7": ThreePL.SHIPBOB}) is None
    assert holder_of(v, {}) is None
    # A cancelled fulfilment order, or one whose location was not read, says nothing.
    moved = view(fulfillment_orders=(_fo("fo0", "CANCELLED"), _fo("fo1", location=""),
                                      _fo("fo2", location="gid://shopify/Location/9")))
    assert holder_of(moved, {"7": ThreePL.SHIPBOB, "9": ThreePL.AMAZON_MCF}) is ThreePL.AMAZON_MCF


def test_references_put_the_configured_one_first_and_skip_unknown_ids() -> None:
    v = view(name="#1001")
    assert references(ThreePLReference.SHOPIFY_ORDER_NAME, ORDER_ID, v) == ("#1001", "1001", "1", ORDER_ID)
    assert references(ThreePLReference.SHOPIFY_ORDER_ID, ORDER_ID, v) == ("1", "#1001", "1001", ORDER_ID)
    assert references(ThreePLReference.TIKTOK_ORDER_ID, ORDER_ID, v) == (ORDER_ID, "#1001", "1001", "1")
    assert references(ThreePLReference.SHOPIFY_ORDER_NAME, ORDER_ID, None) == (ORDER_ID,)
    assert gid_tail(" gid://shopify/Order/42") == "42"


def test_select_prefers_the_holder_the_earliest_reference_and_a_live_order() -> None:
    refs = ("#1001", "1001", ORDER_ID)
    by_name = _tpl(order_id="A", reference="1001")
    by_tiktok = _tpl(order_id="B", reference=ORDER_ID)
    shipbob = _tpl(order_id="C", reference="#1001", provider=ThreePL.SHIPBOB)
    stray = _tpl(order_id="D", reference="other")
    assert select([by_tiktok, by_name, shipbob, stray], ThreePL.AMAZON_MCF, refs) is by_name
    assert select([by_tiktok, by_name, shipbob], None, refs) is shipbob
    assert select([stray], ThreePL.AMAZON_MCF, refs) is None
    assert select([], ThreePL.AMAZON_MCF, refs) is None
    cancelled = replace(by_name, cancelled=True)
    assert select([cancelled, by_tiktok], ThreePL.AMAZON_MCF, refs) is by_tiktok


@given(st.permutations([ThreePLReference.SHOPIFY_ORDER_NAME, ThreePLReference.SHOPIFY_ORDER_ID,
                        ThreePLReference.TIKTOK_ORDER_ID]))
def test_every_reference_kind_finds_the_order_filed_under_it(kinds_: list[ThreePLReference]) -> None:
    v = view(name="#1001")
    filed = {ThreePLReference.SHOPIFY_ORDER_NAME: "#1001", ThreePLReference.SHOPIFY_ORDER_ID: "1",
             ThreePLReference.TIKTOK_ORDER_ID: ORDER_ID}
    candidates = [_tpl(order_id=k.value, reference=filed[k]) for k in kinds_]
    for kind in kinds_:
        picked = select(candidates, ThreePL.AMAZON_MCF, references(kind, ORDER_ID, v))
        assert picked is not None
        assert picked.order_id == kind.value


# --- parcels through decide() ---


def _released_view(*fulfilments: object, fos: tuple[ShopifyFulfillmentOrder, ...] = (_fo(),)) -> object:
    return view(line_items=(sline(),), fulfillment_orders=fos, fulfillments=fulfilments)


def test_an_amazon_parcel_becomes_one_shopify_fulfilment_then_one_tiktok_package() -> None:
    tpl = _tpl(ThreePLPackage(tracking_number=" tba123456789012 ", carrier="AMZN_US"),
               ThreePLPackage(tracking_number="", carrier="AMZN_US"))
    d = run(RELEASED, observed(order(), _released_view(), threepl=tpl), policy=MCF_POLICY)
    action = first(d, FulfilFromThreePL)
    assert (action.tracking_number, action.tracking_company, action.fulfillment_order_ids) == (
        TBA, "Amazon", ("fo1",))
    assert (action.threepl, action.threepl_order_id, action.key) == ("amazon_mcf", "1001", f"3pl-fulfil:{TBA}")
    assert kinds(d) == ["fulfil_from_threepl"]
    # Shopify now has it (closed fulfilment order): nothing more to write; TikTok gets it once.
    shipped = _released_view(fulfilment(numbers=(TBA,), company="Amazon Logistics"),
                             fos=(_fo(status="CLOSED"),))
    d = run(RELEASED, observed(order(), shipped, threepl=tpl), policy=MCF_POLICY)
    assert first(d, PushTracking).tracking_number == TBA
    assert "fulfil_from_threepl" not in kinds(d)
    assert not codes(d)


def test_mcf_parcels_with_tracking_amazon_did_not_issue_are_blocked() -> None:
    tpl = _tpl(ThreePLPackage(tracking_number=UPS[0], carrier="UPS"))
    d = run(RELEASED, observed(order(), _released_view(), threepl=tpl), policy=MCF_POLICY)
    assert codes(d) == {"NON_MCF_TRACKING"}
    assert kinds(d) == []
    [issue] = d.issues
    assert issue.data["tracking_number"] == UPS[0]
    # A UPS fulfilment someone wrote in Shopify by hand for the MCF order: not uploaded either.
    by_hand = _released_view(fulfilment(numbers=(UPS[0],)), fos=(_fo(status="CLOSED"),))
    d = run(RELEASED, observed(order(), by_hand, threepl=_tpl()), policy=MCF_POLICY)
    assert "NON_MCF_TRACKING" in codes(d)
    assert "push_tracking" not in kinds(d)


def test_shipbob_parcels_of_any_carrier_and_the_carrier_name_kept_when_unknown() -> None:
    policy = Policy(threepl_locations={"7": ThreePL.SHIPBOB})
    ups = _tpl(ThreePLPackage(tracking_number=UPS[0], carrier="UPS"), provider=ThreePL.SHIPBOB)
    d = run(RELEASED, observed(order(), _released_view(), threepl=ups), policy=policy)
    assert first(d, FulfilFromThreePL).tracking_company == "UPS"
    odd = _tpl(ThreePLPackage(tracking_number="XY123", carrier=" Pony Express "), provider=ThreePL.SHIPBOB)
    d = run(RELEASED, observed(order(), _released_view(), threepl=odd), policy=policy)
    assert first(d, FulfilFromThreePL).tracking_company == "Pony Express"


def test_one_parcel_at_a_time_and_a_second_parcel_with_nothing_left_is_a_warning() -> None:
    policy = Policy(threepl_locations={"7": ThreePL.SHIPBOB})
    two = _tpl(ThreePLPackage(tracking_number=UPS[0], carrier="UPS"),
               ThreePLPackage(tracking_number=UPS[1], carrier="UPS"), provider=ThreePL.SHIPBOB)
    d = run(RELEASED, observed(order(), _released_view(), threepl=two), policy=policy)
    assert [a.tracking_number for a in d.actions if isinstance(a, FulfilFromThreePL)] == [UPS[0]]
    first_done = _released_view(fulfilment(numbers=(UPS[0],)), fos=(_fo(status="CLOSED"),))
    d = run(RELEASED, observed(order(), first_done, threepl=two), policy=policy)
    assert "THREEPL_EXTRA_PACKAGE" in codes(d)
    assert [i.severity.value for i in d.issues if i.code.value == "THREEPL_EXTRA_PACKAGE"] == ["warning"]
    assert "fulfil_from_threepl" not in kinds(d)


def test_a_cancelled_shopify_fulfilment_does_not_count_as_written() -> None:
    policy = Policy(threepl_locations={"7": ThreePL.SHIPBOB})
    tpl = _tpl(ThreePLPackage(tracking_number=UPS[0], carrier="UPS"), provider=ThreePL.SHIPBOB)
    undone = _released_view(fulfilment(numbers=(UPS[0],), status=FulfillmentStatus.CANCELLED))
    d = run(RELEASED, observed(order(), undone, threepl=tpl), policy=policy)
    assert first(d, FulfilFromThreePL).tracking_number == UPS[0]


def test_nothing_without_a_3pl_order_its_provider_or_parcels() -> None:
    for tpl in (None, _tpl(provider=""), _tpl()):
        d = run(RELEASED, observed(order(), _released_view(), threepl=tpl), policy=MCF_POLICY)
        assert kinds(d) == []
        assert not codes(d)


def test_a_parcel_before_tiktok_is_ready_is_written_and_pushed_later() -> None:
    tpl = _tpl(ThreePLPackage(tracking_number=TBA, carrier="Amazon Logistics"))
    unpaid = order(status=TikTokStatus.ON_HOLD)
    d = run(RELEASED, observed(unpaid, _released_view(), threepl=tpl), policy=MCF_POLICY)
    assert kinds(d) == ["fulfil_from_threepl"]


@given(st.lists(st.sampled_from(UPS), min_size=1, max_size=6), st.integers(min_value=1, max_value=6))
def test_each_parcel_is_written_and_pushed_at_most_once_however_often_decide_runs(
        numbers: list[str], rounds: int) -> None:
    """Repeated decisions over the same 3PL order (restarts, re-checks) with the executor's
    effects applied: one Shopify fulfilment and one TikTok package for the first parcel, the
    other distinct parcels raised as extra, never a second write of any number."""
    policy = Policy(threepl_locations={"7": ThreePL.SHIPBOB})
    tpl = _tpl(*(ThreePLPackage(tracking_number=n, carrier="UPS") for n in numbers), provider=ThreePL.SHIPBOB)
    memory, fulfilments, fos = RELEASED, [], (_fo(),)
    written: list[str] = []
    pushed: list[str] = []
    for _ in range(rounds * 3):
        v = _released_view(*fulfilments, fos=fos)
        d = run(memory, observed(order(), v, threepl=tpl), policy=policy)
        memory = d.memory
        for action in d.actions:
            if isinstance(action, FulfilFromThreePL):
                written.append(action.tracking_number)
                fulfilments.append(fulfilment(f"F{len(fulfilments) + 1}", (action.tracking_number,)))
                fos = (_fo(status="CLOSED"),)
            elif isinstance(action, PushTracking):
                pushed.append(action.tracking_number)
                memory = ok(memory, action, package_id="pkg")
    assert written == [numbers[0]]
    assert pushed == [numbers[0]]
    extra = set(numbers) - {numbers[0]}
    assert ("THREEPL_EXTRA_PACKAGE" in codes(d)) is bool(extra)
