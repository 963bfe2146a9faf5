"""Transport: request shape, throttling retries, back-off, timeouts, errors, call records."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from structlog.testing import capture_logs

from orderbridge.adapters.shopify import LineItemSpec, OrderSpec, UserErrors, versions
from orderbridge.adapters.shopify.models import OrderCancelReason
from orderbridge.clock import ManualClock
from orderbridge.errors import (
    AuthError,
    NotFound,
    RateLimited,
    Rejected,
    RemoteTimeout,
    UpstreamUnavailable,
)

from .conftest import SHOP, TOKEN, Harness, cost_ext, gql

JOB_DATA = {"job": {"id": "gid://shopify/Job/9", "done": False}}


def order_spec() -> OrderSpec:
    return OrderSpec(
        currency="USD",
        line_items=[LineItemSpec(quantity=1, unit_price=Decimal("19.99"), variant_id="gid://shopify/ProductVariant/1")],
        processed_at=ManualClock().now(),
        source_identifier="576461413038789123",
    )


async def test_request_shape_and_call_record(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(gql(JOB_DATA, request_id="abc-123", extensions=cost_ext(requested=1, actual=1)))
    job = await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert job.done is False
    assert job.raw == JOB_DATA["job"]

    request = harness.server.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://{SHOP}/admin/api/2026-10/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    body = harness.server.bodies()[0]
    assert set(body) == {"query", "variables", "operationName"}
    assert body["operationName"] == "Job"
    assert body["variables"] == {"id": "gid://shopify/Job/9"}

    [call] = harness.recorder.calls
    assert (call.api, call.operation, call.method, call.status, call.ok) == ("shopify", "Job", "POST", 200, True)
    assert call.request_id == "abc-123"
    assert call.path == "/admin/api/2026-10/graphql.json"
    assert call.details["requested_cost"] == 1
    assert call.details["actual_cost"] == 1
    assert call.duration_ms >= 0
    assert call.attempt == 1
    assert TOKEN not in repr(call)


async def test_endpoint_template_and_version_are_configurable(harness: Harness) -> None:
    client = harness.client(
        endpoint_template="http://127.0.0.1:9002/{shop}/admin/api/{version}/graphql.json", api_version="2026-01"
    )
    assert client.endpoint_url() == f"http://127.0.0.1:9002/{SHOP}/admin/api/2026-01/graphql.json"
    assert client.endpoint_url("other.myshopify.com").startswith("http://127.0.0.1:9002/other.myshopify.com/")
    harness.server.reply(gql(JOB_DATA))
    await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert str(harness.server.requests[0].url) == client.endpoint_url()


async def test_throttled_response_waits_for_the_bucket_and_retries(harness: Harness) -> None:
    client = harness.client()
    throttled = gql(
        errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        extensions=cost_ext(available=10, requested=100, actual=None, rate=50),
    )
    harness.server.reply(throttled, gql(JOB_DATA))
    job = await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert job.id == "gid://shopify/Job/9"
    assert len(harness.server.requests) == 2
    # Shopify said the query needs 100 points and 10 are left at 50/s: 1.8 s.
    assert harness.time.sleeps == [pytest.approx(1.8)]
    codes = [c.code for c in harness.recorder.calls]
    assert codes == ["THROTTLED", None]
    assert [c.attempt for c in harness.recorder.calls] == [1, 2]


async def test_throttled_mutation_is_resent_because_it_did_not_run(harness: Harness) -> None:
    client = harness.client()
    throttled = gql(errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    extensions=cost_ext(available=0, requested=30, actual=None))
    created = {"orderCreate": {"order": {"id": "gid://shopify/Order/1", "name": "#1"}, "userErrors": []}}
    harness.server.reply(throttled, gql(created))
    order = await harness.time.run(client.create_order(order_spec()))
    assert order.id == "gid://shopify/Order/1"
    assert len(harness.server.requests) == 2


async def test_http_429_honours_retry_after(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(httpx.Response(429, headers={"Retry-After": "3"}), gql(JOB_DATA))
    await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert harness.time.sleeps == [pytest.approx(3.0)]
    assert [c.status for c in harness.recorder.calls] == [429, 200]


async def test_throttling_gives_up_with_rate_limited(harness: Harness) -> None:
    client = harness.client(max_throttle_retries=2)
    harness.server.reply(*(httpx.Response(429, headers={"Retry-After": "1"}) for _ in range(3)))
    with pytest.raises(RateLimited) as info:
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert info.value.retry_after == 1.0
    assert len(harness.server.requests) == 3


async def test_server_errors_back_off_with_jitter_then_succeed(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(httpx.Response(502), httpx.Response(503), gql(JOB_DATA))
    await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert len(harness.server.requests) == 3
    first, second = harness.time.sleeps
    assert 0.25 <= first <= 0.5  # equal jitter on a 0.5 s ceiling
    assert 0.5 <= second <= 1.0  # then on 1 s
    assert [c.ok for c in harness.recorder.calls] == [False, False, True]


async def test_server_errors_exhausted(harness: Harness) -> None:
    client = harness.client(max_server_retries=1)
    harness.server.reply(httpx.Response(500), httpx.Response(500))
    with pytest.raises(UpstreamUnavailable) as info:
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert info.value.status == 500
    assert info.value.api == "shopify"
    assert info.value.operation == "Job"


async def test_order_create_is_not_resent_after_a_timeout(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(httpx.ReadTimeout("timed out"))
    with pytest.raises(RemoteTimeout) as info:
        await harness.time.run(client.create_order(order_spec()))
    assert "outcome unknown" in str(info.value)
    assert len(harness.server.requests) == 1
    [call] = harness.recorder.calls
    assert call.status is None
    assert call.code == "TIMEOUT"
    assert call.order_ref == "576461413038789123"


async def test_order_create_is_not_resent_after_a_server_error(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(httpx.Response(502))
    with pytest.raises(RemoteTimeout):
        await harness.time.run(client.create_order(order_spec()))
    assert len(harness.server.requests) == 1


async def test_cancel_is_not_resent_after_a_timeout(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(httpx.ReadTimeout("timed out"))
    with pytest.raises(RemoteTimeout):
        await harness.time.run(client.cancel_order("gid://shopify/Order/1", reason=OrderCancelReason.CUSTOMER))
    assert len(harness.server.requests) == 1


async def test_a_request_that_never_left_is_retried_even_for_order_create(harness: Harness) -> None:
    client = harness.client()
    created = {"orderCreate": {"order": {"id": "gid://shopify/Order/1", "name": "#1"}, "userErrors": []}}
    harness.server.reply(httpx.ConnectError("refused"), gql(created))
    order = await harness.time.run(client.create_order(order_spec()))
    assert order.name == "#1"
    assert len(harness.server.requests) == 2


async def test_queries_are_retried_after_a_timeout(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(httpx.ReadTimeout("slow"), gql(JOB_DATA))
    await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert len(harness.server.requests) == 2


async def test_user_errors_become_typed_rejections(harness: Harness) -> None:
    client = harness.client()
    payload = {"orderCancel": {"job": None, "orderCancelUserErrors": [
        {"code": "INVALID", "field": ["orderId"], "message": "Cannot cancel a fulfilled order"}]}}
    harness.server.reply(gql(payload, request_id="r-9"))
    with pytest.raises(UserErrors) as info:
        await harness.time.run(client.cancel_order("gid://shopify/Order/1", reason="OTHER"))
    error = info.value
    assert isinstance(error, Rejected)
    assert [(e.code, e.field, e.message) for e in error.errors] == [
        ("INVALID", ("orderId",), "Cannot cancel a fulfilled order")
    ]
    assert error.code == "INVALID"
    assert error.request_id == "r-9"
    assert not error.already_done
    assert harness.recorder.calls[0].ok is False
    assert harness.recorder.calls[0].code == "INVALID"


async def test_duplicate_hold_handle_is_already_done(harness: Harness) -> None:
    client = harness.client()
    payload = {"fulfillmentOrderHold": {"fulfillmentHold": None, "userErrors": [
        {"code": "DUPLICATE_FULFILLMENT_HOLD_HANDLE", "field": ["fulfillmentHold", "handle"],
         "message": "A hold with this handle already exists"}]}}
    harness.server.reply(gql(payload))
    with pytest.raises(UserErrors) as info:
        await harness.time.run(client.hold_fulfillment_order("gid://shopify/FulfillmentOrder/1",
                                                             handle="orderbridge", reason="AWAITING_PAYMENT"))
    assert info.value.already_done
    assert info.value.codes == ("DUPLICATE_FULFILLMENT_HOLD_HANDLE",)


async def test_one_real_error_among_already_done_ones_is_not_success(harness: Harness) -> None:
    client = harness.client()
    payload = {"fulfillmentOrderHold": {"fulfillmentHold": None, "userErrors": [
        {"code": "TAKEN", "field": None, "message": "taken"},
        {"code": "FULFILLMENT_ORDER_NOT_FOUND", "field": ["id"], "message": "not found"}]}}
    harness.server.reply(gql(payload))
    with pytest.raises(UserErrors) as info:
        await harness.time.run(client.hold_fulfillment_order("gid://shopify/FulfillmentOrder/1",
                                                             handle="orderbridge", reason="OTHER"))
    assert not info.value.already_done


async def test_top_level_errors_are_rejected_with_the_message(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(gql(errors=[{"message": "Field 'bogus' doesn't exist on type 'Job'",
                                      "extensions": {"code": "undefinedField"}}]))
    with pytest.raises(Rejected) as info:
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert not isinstance(info.value, UserErrors)
    assert "bogus" in str(info.value)
    assert info.value.code == "undefinedField"
    assert len(harness.server.requests) == 1


async def test_access_denied_and_401_are_auth_errors(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(
        gql(errors=[{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]),
        httpx.Response(401, text="[API] Invalid API key or access token"),
    )
    with pytest.raises(AuthError):
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    with pytest.raises(AuthError) as info:
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert info.value.status == 401


async def test_null_order_is_not_found(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(gql({"order": None}))
    with pytest.raises(NotFound):
        await harness.time.run(client.get_order("gid://shopify/Order/404"))


async def test_a_fall_forward_is_logged_once(harness: Harness) -> None:
    # Shopify answers a retired version with another one and says which in
    # X-Shopify-API-Version (https://shopify.dev/docs/api/usage/versioning).
    versions.FELL_FORWARD_SEEN.clear()  # once per process: start from none
    client = harness.client(api_version="2025-07")
    answered = {"X-Shopify-API-Version": "2026-10"}
    harness.server.reply(gql(JOB_DATA, headers=answered), gql(JOB_DATA, headers=answered))
    with capture_logs() as logs:
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    warnings = [e for e in logs if e["event"] == "shopify_api_version_fell_forward"]
    assert len(warnings) == 1
    assert (warnings[0]["requested"], warnings[0]["answered"], warnings[0]["log_level"]) == (
        "2025-07", "2026-10", "warning")
    assert warnings[0]["shop"] == SHOP


async def test_the_pinned_version_answering_logs_nothing(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(gql(JOB_DATA, headers={"X-Shopify-API-Version": "2026-10"}))
    with capture_logs() as logs:
        await harness.time.run(client.get_job("gid://shopify/Job/9"))
    assert not [e for e in logs if e["event"] == "shopify_api_version_fell_forward"]
