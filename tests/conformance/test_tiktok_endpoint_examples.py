"""TikTok endpoints the engine calls, held to the Partner Center reference pages.

tests/data/tiktok_endpoint_examples.json holds, per endpoint, a project-written response in
the shape of the reference's sample response (its page cited as 'url') and the error codes the
page lists. Each example goes through the client (what the engine would read), and the same
request goes to the TikTok sandbox, whose answer must carry every field of the example (the
ones marked 'optional' aside). Reference pages:
https://partner.tiktokshop.com/docv2/page/get-authorized-shops-202309,
https://partner.tiktokshop.com/docv2/page/get-shipping-providers-202309,
https://partner.tiktokshop.com/docv2/page/mark-package-as-shipped-202309,
https://partner.tiktokshop.com/docv2/page/get-order-detail-202309,
https://partner.tiktokshop.com/docv2/page/get-order-detail-202507,
https://partner.tiktokshop.com/docv2/page/get-tracking-202309.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderbridge.adapters.tiktok.codes import (
    ALREADY_SHIPPED_CODES,
    NOT_SHIPPABLE_NOW_CODES,
    TRACKING_MISMATCH_CODES,
    UPDATE_REFUSED_CODES,
    UPSTREAM_CODES,
    error_for,
)
from orderbridge.errors import Rejected, UpstreamUnavailable
from tests.integration.sandboxes.conftest import Kit, kit, served  # noqa: F401  (fixtures)
from tests.unit.tiktok.fakes import Harness, make_harness, ok

DATA = json.loads((Path(__file__).resolve().parents[1] / "data" / "tiktok_endpoint_examples.json")
                  .read_text(encoding="utf-8"))
BY_NAME: dict[str, dict[str, Any]] = {e["name"]: e for e in DATA["endpoints"]}
HOUR = 3600


def _missing(example: Any, actual: Any, optional: set[str], where: str = "data") -> list[str]:
    """Fields of ``example`` that ``actual`` lacks (objects by key, lists by their first item)."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{where} is not an object"]
        out: list[str] = []
        for key, value in example.items():
            if key not in actual:
                if key not in optional:
                    out.append(f"{where}.{key}")
                continue
            out += _missing(value, actual[key], optional, f"{where}.{key}")
        return out
    if isinstance(example, list) and example:
        if not isinstance(actual, list):
            return [f"{where} is not a list"]
        return _missing(example[0], actual[0], optional, f"{where}[0]") if actual else []
    return []


def test_every_endpoint_cites_its_reference_page() -> None:
    for endpoint in DATA["endpoints"]:
        assert endpoint["url"].startswith("https://partner.tiktokshop.com/docv2/page/"), endpoint["name"]
        assert endpoint["codes"], endpoint["name"]


# -- the examples through the client -------------------------------------------------------

async def _fed(name: str, call: Callable[[Harness], Any]) -> Any:
    harness = make_harness(ok(BY_NAME[name]["example"]))
    try:
        return await call(harness)
    finally:
        await harness.http.aclose()


async def test_authorized_shops_example_reads() -> None:
    [shop] = await _fed("Get Authorized Shops", lambda h: h.client.get_authorized_shops())
    example = BY_NAME["Get Authorized Shops"]["example"]["shops"][0]
    assert (shop.id, shop.cipher, shop.seller_type, shop.code) == (
        example["id"], example["cipher"], example["seller_type"], example["code"])


async def test_shipping_providers_example_reads() -> None:
    [usps] = await _fed("Get Shipping Providers", lambda h: h.client.get_shipping_providers("7091146663229600001"))
    assert (usps.id, usps.name) == ("7117858858072016686", "USPS")


async def test_mark_package_as_shipped_example_reads_with_its_warning() -> None:
    package = await _fed("Mark Package As Shipped", lambda h: h.client.mark_package_shipped(
        "578001234500000001", "9400111899223100000001", "7117858858072016686", ["578001234500000101"]))
    assert package.package_id == "1153000000000000001"
    assert package.order_line_item_ids == ["578001234500000101"]
    assert package.warning_message == "match more than one provider"


@pytest.mark.parametrize("name", ["Get Order Detail", "Get Order Detail (202507)"])
async def test_order_detail_example_reads(name: str) -> None:
    [order] = await _fed(name, lambda h: h.client.get_orders(["578001234500000001"]))
    example = BY_NAME[name]["example"]["orders"][0]
    assert order.id == example["id"]
    assert order.status == "AWAITING_SHIPMENT"
    assert len(order.line_items) == 2  # one line per unit
    assert order.payment is not None
    assert Decimal(str(order.payment.total_amount)) == Decimal(example["payment"]["total_amount"])
    assert order.recipient_address is not None


async def test_tracking_example_reads() -> None:
    [event] = await _fed("Get Tracking", lambda h: h.client.get_order_tracking("578001234500000001"))
    example = BY_NAME["Get Tracking"]["example"]["tracking"][0]
    assert event.description == example["description"]
    assert event.update_time_millis == example["update_time_millis"]


def test_the_client_classifies_every_code_mark_package_as_shipped_documents() -> None:
    grouped = (ALREADY_SHIPPED_CODES | NOT_SHIPPABLE_NOW_CODES | TRACKING_MISMATCH_CODES
               | UPDATE_REFUSED_CODES | UPSTREAM_CODES)
    for code in BY_NAME["Mark Package As Shipped"]["codes"]:
        error = error_for(operation="fulfillment.mark_shipped", code=code, message="documented", status=200)
        assert isinstance(error, Rejected | UpstreamUnavailable), code
        if code in UPSTREAM_CODES:
            assert isinstance(error, UpstreamUnavailable), code
    assert {21008099, 21011006, 21011020, 21042056} <= ALREADY_SHIPPED_CODES
    assert grouped


# -- the same requests against the sandbox ---------------------------------------------------

async def _awaiting_shipment(kit: Kit) -> str:  # noqa: F811
    placed = await kit.control.place_order(items=[{"seller_sku": "MW-SET-NAT", "units": 2}])
    await kit.control.advance(HOUR + 1)
    return str(placed["id"])


async def test_the_sandbox_answers_every_documented_field(kit: Kit) -> None:  # noqa: F811
    order_id = await _awaiting_shipment(kit)
    answers: dict[str, Any] = {}
    answers["Get Authorized Shops"] = await kit.tiktok._call(
        "shops.list", "GET", BY_NAME["Get Authorized Shops"]["path"], idempotent=True)
    for name in ("Get Order Detail", "Get Order Detail (202507)"):
        answers[name] = await kit.tiktok._call(
            "orders.get", "GET", BY_NAME[name]["path"], idempotent=True, query={"ids": order_id})
    detail = answers["Get Order Detail (202507)"]["orders"][0]
    answers["Get Shipping Providers"] = await kit.tiktok._call(
        "logistics.shipping_providers", "GET", BY_NAME["Get Shipping Providers"]["path"], idempotent=True,
        path_params={"delivery_option_id": detail["delivery_option_id"]})
    usps = next(p for p in answers["Get Shipping Providers"]["shipping_providers"] if p["name"] == "USPS")
    answers["Mark Package As Shipped"] = await kit.tiktok._call(
        "fulfillment.mark_shipped", "POST", BY_NAME["Mark Package As Shipped"]["path"], idempotent=False,
        path_params={"order_id": order_id},
        body={"tracking_number": "9400111899223197428490", "shipping_provider_id": usps["id"],
              "order_line_item_ids": [line["id"] for line in detail["line_items"]]})
    await kit.control.tiktok_action(order_id, "collected")
    answers["Get Tracking"] = await kit.tiktok._call(
        "fulfillment.tracking", "GET", BY_NAME["Get Tracking"]["path"], idempotent=True,
        path_params={"order_id": order_id})
    assert answers["Get Tracking"]["tracking"], "a collected parcel has carrier events"
    problems = {name: _missing(BY_NAME[name]["example"], answer, set(BY_NAME[name]["optional"]))
                for name, answer in answers.items()}
    assert problems == {name: [] for name in answers}
    # 202309 answers the 202309 shape: the fields 202507 added are not there.
    older = answers["Get Order Detail"]["orders"][0]
    assert not set(BY_NAME["Get Order Detail"]["absent"]) & set(older)
