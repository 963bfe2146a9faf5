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
