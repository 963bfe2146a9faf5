"""A person approves buyers' cancellation requests (policy auto_approve_cancellations off),
through the JSON API over real HTTP and through the command, with the engine and the TikTok,
Shopify and Amazon MCF sandboxes, on both databases."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from orderbridge.adapters.db import transaction
from orderbridge.adapters.db.grants import grant_connection
from orderbridge.adapters.db.operators import Role, add_user, create_token
from orderbridge.adapters.db.web_sessions import set_password_hash
from orderbridge.cli import app as cli
from orderbridge.cli.runner import WebServer
from orderbridge.engine.policy_store import set_policy
from orderbridge.web import passwords
from orderbridge.web.app import create_app

from .conftest import Harness
from .test_cancel_desk import at_amazon, desk_worker, mcf_client, request_cancel

PASSWORD = "correct horse battery"


def token(h: Harness, role: Role) -> str:
    now = h.now()
    with transaction(h.services.db) as conn:
        user = add_user(conn, f"{role.value}-person", role, now=now)
        grant_connection(conn, user.id, h.connection.id, now=now)  # non-admins see granted connections only
        value, _ = create_token(conn, user, "test", now=now, expires_at=now + timedelta(days=30))
    return value


@pytest.fixture
async def web(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    set_policy(harness.services, harness.connection, "auto_approve_cancellations", "false")
    server = WebServer(create_app(harness.services), "127.0.0.1", 0)
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        await server.stop()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def test_api_lists_the_request_and_an_operator_approves_with_cancel_downstream(
        harness: Harness, web: httpx.AsyncClient) -> None:
    h = harness
    client = mcf_client(h)
    worker = desk_worker(h, client)
    viewer, operator = bearer(token(h, Role.VIEWER)), bearer(token(h, Role.OPERATOR))
    order_id, shopify_id = await h.released_order()
    reference = shopify_id.removeprefix("gid://shopify/Order/")
    await at_amazon(h, client, reference)
    await request_cancel(h, order_id)
    h.mark_due(order_id)
    await h.settle(worker)

    assert (await web.get("/api/cancellations")).status_code == 401
    listed = (await web.get("/api/cancellations", headers=viewer)).json()
    [item] = [i for i in listed if i["tiktok_order_id"] == order_id]
    assert (item["state"], item["stoppable"], item["threepl"]) == ("awaiting_person", True, "amazon_mcf")
    assert item["steps"][0] == f"cancel at Amazon MCF ({reference})"
    assert item["deadline"] is not None
    assert item["seconds_left"] > 0
    assert item["actions"] == ["approve_cancel_downstream", "ship_now"]  # never "reject"

    url = f"/api/cancellations/{order_id}/approve"
    assert (await web.post(url, headers=viewer, json={"cancel_downstream": True})).status_code == 403
    refused = await web.post(url, headers=operator, json={})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "cancel_downstream" in refused.json()["detail"]
    assert (await web.post("/api/cancellations/999/approve", headers=operator)).status_code == 404
    approved = await web.post(url, headers=operator, json={"cancel_downstream": True})
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == "operator-person"

    await h.settle(worker)
    await h.advance(60, settle=False)  # Shopify's cancel job finishes
    h.mark_due(order_id)
    await h.settle(worker)
    assert (await client.get_order(reference)).fulfillment_order.fulfillment_order_status == "Cancelled"
    assert (await h.control.shopify_order(shopify_id))["cancelled_at"] is not None
    [record] = await h.control.tiktok_cancellations(order_id)
    assert record["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert (await web.get("/api/cancellations", headers=viewer)).json() == []


def run_cli(h: Harness, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    settings = h.services.settings
    for name, value in {"ORDERBRIDGE_DATABASE_URL": settings.database_url,
                        "ORDERBRIDGE_SECRET_KEY": settings.secret_key or "",
                        "ORDERBRIDGE_CLOCK_SOURCE": f"sandbox:{h.info['control_url']}",
                        "ORDERBRIDGE_CONFIG": ""}.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli, list(args))


async def test_cli_lists_and_approves_a_request_without_a_3pl(
        harness: Harness, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    await request_cancel(h, order_id)
    h.mark_due(order_id)
    await h.settle()

    listed = run_cli(h, monkeypatch, "cancellations", "--json")
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.stdout)
    assert (item["tiktok_order_id"], item["state"], item["threepl"]) == (order_id, "awaiting_person", None)
    assert item["steps"] == ["cancel in Shopify (restocked)", "approve on TikTok"]
    assert item["actions"] == ["approve", "ship_now"]
    table = run_cli(h, monkeypatch, "cancellations")
    assert "Cancellation desk (1)" in table.stdout

    missing = run_cli(h, monkeypatch, "cancellations", "approve", "4242")
    assert missing.exit_code == 1
    done = run_cli(h, monkeypatch, "cancellations", "approve", order_id)
    assert done.exit_code == 0, done.output
    assert "then approve on TikTok" in " ".join(done.stdout.split())

    await h.settle()
    await h.advance(60, settle=False)
    h.mark_due(order_id)
    await h.settle()
    assert (await h.control.shopify_order(shopify_id))["cancelled_at"] is not None
    [record] = await h.control.tiktok_cancellations(order_id)
    assert record["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    again = run_cli(h, monkeypatch, "cancellations", "--json")
    assert json.loads(again.stdout) == []


async def test_dashboard_lists_and_an_operator_approves(harness: Harness, web: httpx.AsyncClient) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    await request_cancel(h, order_id)
    h.mark_due(order_id)
    await h.settle()
    now = h.now()
    with transaction(h.services.db) as conn:
        for name, role in (("vera", Role.VIEWER), ("otto", Role.OPERATOR)):
            user = add_user(conn, name, role, now=now)
            grant_connection(conn, user.id, h.connection.id, now=now)
            set_password_hash(conn, user.id, passwords.hash_password(PASSWORD), now=now)
    base = str(h.services.settings.base_url).rstrip("/")
    transport = httpx.ASGITransport(app=create_app(h.services))
    for name in ("vera", "otto"):
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            assert (await http.get("/dashboard/cancellations")).status_code == 303  # sign in first
            await http.post("/dashboard/login", headers={"Origin": base},
                            data={"name": name, "password": PASSWORD, "next": "/dashboard/cancellations"})
            listing = await http.get("/dashboard/cancellations")
            assert listing.status_code == 200
            assert order_id in listing.text
            assert ">Reject<" not in listing.text  # no such button
            if name == "vera":
                assert "<button type=\"submit\">Approve" not in listing.text  # viewers read only
                continue
            csrf = re.search(r'name="csrf" value="([^"]+)"', listing.text)
            assert csrf is not None
            done = await http.post(f"/dashboard/cancellations/{order_id}/approve", headers={"Origin": base},
                                   data={"csrf": csrf.group(1), "connection": str(h.connection.id)})
            assert done.status_code == 303
            assert "approved" in done.headers["location"]
    await h.settle()
    await h.advance(60, settle=False)
    h.mark_due(order_id)
    await h.settle()
    assert (await h.control.shopify_order(shopify_id))["cancelled_at"] is not None
    [record] = await h.control.tiktok_cancellations(order_id)
    assert record["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
