"""``orderbridge returns``: the seller's queue read from the TikTok sandbox with deadlines,
approve and reject (with a reason from TikTok's list) from the command line, and the 30-day
return window in ``returns`` and ``status``; on both databases, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from orderbridge.cli import app
from orderbridge.engine.connect import sandbox_settings

from .conftest import Harness
from .test_returns import delivered, open_return


def _env(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = h.services.settings
    values = {"database_url": settings.database_url, "secret_key": settings.secret_key or "",
              "config": "", "clock_source": f"sandbox:{h.info['control_url']}",
              **sandbox_settings(h.info)}
    for name, value in values.items():
        monkeypatch.setenv(f"ORDERBRIDGE_{name.upper()}", str(value))


async def _cli(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def _json(*args: str) -> Any:
    result = await _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_returns_queue_approve_reject_and_the_window(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    _env(h, monkeypatch)
    order_id, _ = await delivered(h, 2, 22319742811)
    refund = await open_return(h, order_id, "REFUND")
    tiktok = await h.tiktok_order(order_id)
    second = tiktok["line_items"][1]["id"]
    ret = (await h.control.call("POST", f"/tiktok/orders/{order_id}/returns",
                                {"return_type": "RETURN_AND_REFUND", "order_line_item_ids": [second]}))["return_id"]

    found = await _json("returns")
    queue = {t["return_id"]: t for t in found["needs_seller"]}
    assert set(queue) == {refund, ret}
    assert queue[refund]["approve_decision"] == "APPROVE_REFUND"
    assert queue[ret]["reject_decision"] == "REJECT_RETURN"
    deadline = datetime.fromisoformat(queue[refund]["deadline"])
    assert deadline - h.now() == timedelta(hours=48)
    [window] = found["return_windows"]
    assert window["tiktok_order_id"] == order_id
    closes = datetime.fromisoformat(window["return_window_closes_at"])
    assert closes - datetime.fromisoformat(window["delivered_at"]) == timedelta(days=30)

    approved = await _json("returns", "approve", refund)
    assert approved["decision"] == "APPROVE_REFUND"
    bad = await _cli("returns", "reject", ret, "--reason", "because")
    assert bad.exit_code == 2
    assert "seller_reject_return_reason_outside_return_window" in bad.output  # TikTok's list shown
    reasons = [r["name"] for r in await _json("returns", "reasons", ret)]
    rejected = await _json("returns", "reject", ret, "--reason", reasons[0])
    assert rejected == {"return_id": ret, "decision": "REJECT_RETURN", "reject_reason": reasons[0]}
    records = {r["return_id"]: r for r in await h.control.call("GET", "/tiktok/returns", order_id=order_id)}
    assert records[refund]["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    assert records[ret]["return_status"] == "RETURN_OR_REFUND_REQUEST_REJECT"
    assert (await _json("returns"))["needs_seller"] == []
    again = await _cli("returns", "approve", refund)  # no longer waiting: a clear one-line error
    assert again.exit_code == 2
    assert "not waiting for the seller" in again.output

    status = await _json("status")
    [shop] = status["connections"]
    assert shop["inside_return_window"] == 1
    table = await _cli("returns")
    assert table.exit_code == 0, table.output
    assert "inside the 30-day return window (1)" in table.output


async def test_returns_api_viewers_read_operators_answer(harness: Harness) -> None:
    import httpx

    from orderbridge.adapters.db import transaction
    from orderbridge.adapters.db.grants import grant_connection
    from orderbridge.adapters.db.operators import Role, add_user, create_token
    from orderbridge.web.app import create_app

    h = harness
    order_id, _ = await delivered(h, 1, 22319742812)
    rid = await open_return(h, order_id, "REPLACEMENT")
    tokens = {}
    with transaction(h.services.db) as conn:
        for role in (Role.VIEWER, Role.OPERATOR):
            user = add_user(conn, role.value, role, now=h.now())
            grant_connection(conn, user.id, h.connection.id, now=h.now())  # non-admins see granted shops only
            tokens[role], _ = create_token(conn, user, "t", now=h.now(), expires_at=h.now() + timedelta(days=1))
    transport = httpx.ASGITransport(app=create_app(h.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
        viewer = {"Authorization": f"Bearer {tokens[Role.VIEWER]}"}
        operator = {"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}
        assert (await api.get("/api/returns")).status_code == 401
        with transaction(h.services.db) as conn:  # a viewer of no shop sees no returns, and no shop by name
            nobody = add_user(conn, "nobody", Role.VIEWER, now=h.now())
            outsider, _ = create_token(conn, nobody, "t", now=h.now(), expires_at=h.now() + timedelta(days=1))
        unseen = await api.get("/api/returns", headers={"Authorization": f"Bearer {outsider}"})
        assert unseen.json() == {"needs_seller": [], "return_windows": []}
        named = await api.get(f"/api/returns?connection={h.connection.name}",
                              headers={"Authorization": f"Bearer {outsider}"})
        assert named.status_code == 404
        listed = await api.get("/api/returns", headers=viewer)
        assert listed.status_code == 200, listed.text
        [task] = listed.json()["needs_seller"]
        assert (task["return_id"], task["approve_decision"]) == (rid, "APPROVE_REPLACEMENT")
        assert (await api.post(f"/api/returns/{rid}/approve", headers=viewer)).status_code == 403
        wrong = await api.post(f"/api/returns/{rid}/reject", headers=operator, json={"reason": "nope"})
        assert wrong.status_code == 409
        assert "seller_reject_replacement_reason_out_of_stock" in wrong.json()["detail"]
        assert (await api.post(f"/api/returns/{rid}/reject", headers=operator, json={})).status_code == 422
        reasons = await api.get(f"/api/returns/{rid}/reasons", headers=viewer)
        assert reasons.json()[0]["name"] == "seller_reject_replacement_reason_out_of_stock"
        done = await api.post(f"/api/returns/{rid}/approve", headers=operator)
        assert done.status_code == 200, done.text
        assert done.json()["decision"] == "APPROVE_REPLACEMENT"
        again = await api.post(f"/api/returns/{rid}/approve", headers=operator)
        assert again.status_code == 409
    [record] = await h.control.call("GET", "/tiktok/returns", order_id=order_id)
    assert record["return_status"] == "REPLACEMENT_REQUEST_COMPLETE"
