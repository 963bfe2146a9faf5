"""The cancellation desk's stoppability rule (domain/cancel_desk.py) and the desk data that
decide() stores with each pending request."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from orderbridge.domain.cancel_desk import (
    AMAZON_MCF,
    SHIPBOB,
    CancelAlertPlan,
    DeskState,
    Stoppability,
    cancel_alert_plan,
    desk_state,
    stoppability,
    threepl_stoppable,
)
from orderbridge.domain.observed import ShopifyFulfillmentOrder, ThreePLView
from orderbridge.domain.policy import Policy
from tests.unit.domain.factories import (
    T0,
    buyer_request,
    codes,
    fulfilment,
    held_memory,
    observed,
    order,
    run,
    view,
)

MCF_STATUSES = ["New", "Received", "Planning", "Processing", "Complete", "CompletePartialled",
                "Cancelled", "Unfulfillable", "Invalid", "RECEIVED", "PLANNING", "PROCESSING", "received"]


def mcf(status: str, shipments: int = 0, **kw: object) -> ThreePLView:
    return ThreePLView(order_id="mcf-1", provider=AMAZON_MCF, status=status, live_shipments=shipments, **kw)  # type: ignore[arg-type]


@given(st.sampled_from(MCF_STATUSES), st.integers(min_value=0, max_value=3))
def test_amazon_cancellable_only_received_or_planning_with_no_shipment(status: str, shipments: int) -> None:
    ok, why = threepl_stoppable(mcf(status, shipments))
    assert ok == (status.lower() in ("received", "planning") and shipments == 0)
    assert (why == "") == ok


def test_amazon_reasons() -> None:
    assert "Processing" in threepl_stoppable(mcf("Processing"))[1]
    assert "1 shipment" in threepl_stoppable(mcf("Planning", 1))[1]
    assert threepl_stoppable(mcf("Processing", cancelled=True)) == (True, "")


def test_shipbob_cancellable_until_picked() -> None:
    base = ThreePLView(order_id="9", provider=SHIPBOB, status="Processing")
    assert threepl_stoppable(base) == (True, "")
    assert threepl_stoppable(replace(base, picked=True))[0] is False
    ok, why = threepl_stoppable(replace(base, status="Fulfilled"))
    assert not ok
    assert "ShipBob" in why
    assert threepl_stoppable(replace(base, status="Partially Fulfilled"))[0] is False


def test_unknown_3pl_goes_by_what_the_adapter_says() -> None:
    assert threepl_stoppable(ThreePLView(order_id="x")) == (True, "")
    ok, why = threepl_stoppable(ThreePLView(order_id="x", status="Picked", cancellable=False))
    assert not ok
    assert "Picked" in why
    assert "in progress" in threepl_stoppable(ThreePLView(order_id="x", cancellable=False))[1]


def test_stoppability_shopify_and_3pl() -> None:
    shipped = view(fulfillments=(fulfilment(),))
    assert stoppability(shipped, None) == Stoppability(False, "Shopify already has a fulfilment for it")
    assert not stoppability(view(), mcf("Processing")).stoppable
    stop = stoppability(view(), mcf("Planning"))
    assert stop.stoppable
    assert stop.steps == ("cancel at Amazon MCF (mcf-1)", "cancel in Shopify (restocked)", "approve on TikTok")
    service = ShopifyFulfillmentOrder(id="fo-1", status="IN_PROGRESS", fulfillment_service=True)
    stop = stoppability(view(fulfillment_orders=(service,)), mcf("Planning", cancelled=True))
    assert stop.steps == ("ask the fulfilment service to cancel (Shopify cancellation request)",
                          "cancel in Shopify (restocked)", "approve on TikTok")
    assert stoppability(view(cancelled_at=T0), None).steps == ("approve on TikTok",)
    assert stoppability(None, None).steps == ("approve on TikTok",)


def test_desk_state() -> None:
    yes, no = Stoppability(True), Stoppability(False, "why")
    assert desk_state(no, auto_approve=True, person_approved=True) is DeskState.BLOCKED
    assert desk_state(yes, auto_approve=True, person_approved=False) is DeskState.STOPPING
    assert desk_state(yes, auto_approve=False, person_approved=True) is DeskState.STOPPING
    assert desk_state(yes, auto_approve=False, person_approved=False) is DeskState.AWAITING_PERSON


def test_decide_stores_the_desk_data_with_each_request() -> None:
    requests = (buyer_request(),)
    d = run(held_memory(), observed(order(), view(), cancellations=requests, threepl=mcf("Planning")))
    issue = next(i for i in d.issues if i.code == "CANCEL_REQUEST_STOPPING")
    assert issue.data["desk_state"] == "stopping"
    assert issue.data["threepl"] == AMAZON_MCF
    assert issue.data["stoppable"] == "true"
    assert issue.data["deadline"] == requests[0].deadline.isoformat()  # type: ignore[union-attr]
    assert issue.actions == ()
    d = run(held_memory(), observed(order(), view(), cancellations=requests, threepl=mcf("Processing")))
    blocked = next(i for i in d.issues if i.code == "CANCEL_REQUEST_BLOCKED")
    assert blocked.data["desk_state"] == "blocked"
    assert "Processing" in blocked.data["why"]
    assert "reject" not in [a.value for a in blocked.actions]
    policy = Policy(auto_approve_cancellations=False)
    d = run(held_memory(), observed(order(), view(), cancellations=requests), policy=policy)
    assert "CANCEL_REQUEST_PENDING" in codes(d)
    no_deadline = (buyer_request(deadline=None),)
    d = run(held_memory(), observed(order(), view(), cancellations=no_deadline, threepl=mcf("Processing")))
    assert next(i for i in d.issues if i.code == "CANCEL_REQUEST_BLOCKED").data["deadline"] == "none given"


def test_cancel_alerts_once_per_threshold_before_tiktoks_deadline() -> None:
    deadline = T0 + timedelta(hours=48)
    blocked, waiting = DeskState.BLOCKED, DeskState.AWAITING_PERSON
    assert cancel_alert_plan(blocked, deadline, T0, ()) is None  # 48 h left: nothing yet
    at = deadline - timedelta(hours=5)
    assert cancel_alert_plan(waiting, deadline, at, ()) == CancelAlertPlan(("cancel_12h",), "cancel_12h")
    at = deadline - timedelta(minutes=30)  # first seen late: every threshold recorded, the last sent
    assert cancel_alert_plan(blocked, deadline, at, ()) == CancelAlertPlan(
        ("cancel_12h", "cancel_4h", "cancel_1h"), "cancel_1h")
    assert cancel_alert_plan(blocked, deadline, at, ("cancel_12h", "cancel_4h", "cancel_1h")) is None
    assert cancel_alert_plan(DeskState.STOPPING, deadline, at, ()) is None
    assert cancel_alert_plan(blocked, None, at, ()) is None
    assert cancel_alert_plan(blocked, deadline, deadline, ()) is None
