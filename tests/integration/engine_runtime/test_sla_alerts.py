"""The SLA desk and its alerts, engine + sandboxes on the frozen clock, on both databases.

A local webhook receiver (uvicorn in the test's loop) and a local SMTP server (aiosmtpd in a
thread) receive the alerts while the clock moves from Monday to past Wednesday's dispatch
deadline: exactly one alert per order and threshold, on both channels, even across a
restart of the alerter; an order with tracking but no carrier scan stays on the desk with
its own kind of alert; a scanned one leaves it; a failing receiver is retried with back-off
and shows up (exception, timeline, log line with the order id) until it takes the alert.
"""

from __future__ import annotations

import email
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response
from structlog.testing import capture_logs

from orderbridge.adapters.alert_channels import EmailChannel, WebhookChannel
from orderbridge.adapters.db import events, order_exceptions, transaction
from orderbridge.adapters.db.grants import grant_connection
from orderbridge.adapters.db.operators import Role, add_user, create_token
from orderbridge.cli.runner import WebServer
from orderbridge.devkit import usps_number
from orderbridge.engine.sla_alerts import SlaAlerter
from orderbridge.web.app import create_app

from .conftest import Harness

PACIFIC_OFFSET = timedelta(hours=8)  # PST: the story runs in November, after DST ended


def pst(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 Pacific (PST) time, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + PACIFIC_OFFSET


@dataclass
class Receiver:
    """The webhook receiver: every accepted body; answers 500 while ``failing``."""

    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    failing: bool = False

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            if self.failing:
                self.refused += 1
                return Response("receiver down", status_code=500)
            self.received.append(await request.json())
            return Response("ok")

        return app


@dataclass
class Mailbox:
    """aiosmtpd handler: every message received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    server = WebServer(hook.app(), "127.0.0.1", 0)
    port = await server.start()
    try:
        yield hook, f"http://127.0.0.1:{port}/hook"
    finally:
        await server.stop()


def _alerter(h: Harness, url: str, smtp_port: int) -> SlaAlerter:
    channels = [
        WebhookChannel(url, h.http),
        EmailChannel("127.0.0.1", smtp_port, "orderbridge@test.invalid", ["ops@test.invalid"], starttls=False),
    ]
    return SlaAlerter(h.services, "test-alerter", channels)


async def _to(h: Harness, instant: datetime) -> None:
    """Move the shared clock to ``instant`` and let the engine catch up."""
    await h.control.advance((instant - h.now()).total_seconds())
    await h.settle()


def _sent(hook: Receiver) -> list[tuple[str, str, str]]:
    return [(b["tiktok_order_id"], b["threshold"], b["kind"]) for b in hook.received]


def _mailed(box: Mailbox) -> list[str]:
    return [str(m["Subject"]) for m in box.messages]


async def _api_desk(h: Harness) -> list[dict[str, Any]]:
    with transaction(h.services.db) as conn:
        user = add_user(conn, "viewer", Role.VIEWER, now=h.now())
        grant_connection(conn, user.id, h.connection.id, now=h.now())  # non-admins see granted shops only
        token, _ = create_token(conn, user, "t", now=h.now(), expires_at=h.now() + timedelta(days=1))
    transport = httpx.ASGITransport(app=create_app(h.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
        assert (await api.get("/api/sla")).status_code == 401
        answer = await api.get("/api/sla", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        bad = await api.get("/api/sla?limit=0", headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 422
        found: list[dict[str, Any]] = answer.json()
        return found


async def test_one_alert_per_threshold_until_the_carrier_scans(
    harness: Harness, receiver: tuple[Receiver, str], mailbox: tuple[Mailbox, int]
) -> None:
    h, (hook, url), (box, smtp_port) = harness, receiver, mailbox
    # Monday 09:00 PST: three paid orders, released after the buyer's hour.
    late, uploaded, scanned = [await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}]) for _ in range(3)]
    h.mark_due(late, uploaded, scanned)
    await h.settle()
    await h.advance(3600 + 20 * 60)
    for order_id in (late, uploaded, scanned):
        assert h.link(order_id).state == "released", h.link(order_id).last_error
    alerter = _alerter(h, url, smtp_port)
    assert await alerter.run_once() == (0, 0)  # two and a half business days left: quiet

    desk = await _api_desk(h)
    assert {row["tiktok_order_id"] for row in desk} == {late, uploaded, scanned}
    lefts = [row["business_seconds_left"] for row in desk]
    assert lefts == sorted(lefts)  # least time left first
    row = next(r for r in desk if r["tiktok_order_id"] == late)
    assert row["desk_state"] == "not_shipped"
    assert row["threepl_status"] == "-"
    assert row["dispatch_deadline"]["source"] == "from_tiktok"  # TikTok's rts_sla_time
    assert datetime.fromisoformat(row["dispatch_deadline"]["at"]) >= pst(18, 23, 59)
    assert row["delivery_deadline"] is not None
    assert row["auto_cancel_deadline"] is not None
    assert row["alerts_sent"] == []

    # Tuesday: one order gets tracking (uploaded, no scan), another is scanned (IN_TRANSIT).
    await _to(h, pst(17, 10))
    for order_id, number in ((uploaded, usps_number(22319742863)), (scanned, usps_number(22319742870))):
        await h.control.fulfil(h.link(order_id).shopify_order_id or "", "USPS", number)
    h.mark_due(uploaded, scanned)
    await h.settle()
    await h.control.tiktok_action(scanned, "collected")
    h.mark_due(scanned)
    await h.settle()
    assert h.link(uploaded).tiktok_status == "AWAITING_COLLECTION"
    assert h.link(scanned).tiktok_status == "IN_TRANSIT"

    # Each threshold as the clock passes it: 24 h, 12 h, 4 h left, then the breach.
    expected: list[tuple[str, str, str]] = []
    for instant, threshold in ((pst(18, 0, 30), "24h"), (pst(18, 12, 30), "12h"),
                               (pst(18, 20, 30), "4h"), (pst(19, 0, 30), "breached")):
        await _to(h, instant)
        await alerter.run_once()
        await alerter.run_once()  # again at once: nothing more
        expected += [(late, threshold, "dispatch_due"), (uploaded, threshold, "uploaded_no_scan")]
        assert sorted(_sent(hook)) == sorted(expected)
        assert len(box.messages) == len(expected)
        # A restart (a new alerter, same database) sends nothing twice.
        alerter = _alerter(h, url, smtp_port)
        assert await alerter.run_once() == (0, 0)
    assert not [s for s in _sent(hook) if s[0] == scanned]  # scanned before any threshold

    body = next(b for b in hook.received if b["tiktok_order_id"] == uploaded and b["threshold"] == "4h")
    assert body["text"].startswith(f"SLA 4h left: TikTok order {uploaded}")
    assert "tracking uploaded, no carrier scan yet" in body["text"]
    assert body["desk_state"] == "awaiting_scan"
    assert body["alert"] == "sla"
    assert any(s.startswith(f"SLA breached: TikTok order {late}") for s in _mailed(box))
    mail = next(m for m in box.messages if str(m["Subject"]).startswith(f"SLA breached: TikTok order {late}"))
    assert mail["To"] == "ops@test.invalid"
    assert f"tiktok_order_id: {late}" in mail.get_payload()

    # The desk still lists both unscanned orders, breached, with every alert recorded.
    desk = await _api_desk_again(h)
    assert {r["tiktok_order_id"] for r in desk} == {late, uploaded}
    assert all(r["breached"] and r["alerts_sent"] == ["24h", "12h", "4h", "breached"] for r in desk)
    # Each alert is on the order's timeline.
    with transaction(h.services.db, write=False) as conn:
        story = [e.summary for e in events.timeline(conn, h.link(late).id)]
    alerts = [s for s in story if s.startswith(("SLA 24h left", "SLA 12h left", "SLA 4h left", "SLA breached"))]
    assert len(alerts) == 4
    assert "SLA alert breached sent by webhook" in story


async def _api_desk_again(h: Harness) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=create_app(h.services))
    with transaction(h.services.db) as conn:
        user = add_user(conn, "viewer2", Role.VIEWER, now=h.now())
        grant_connection(conn, user.id, h.connection.id, now=h.now())
        token, _ = create_token(conn, user, "t", now=h.now(), expires_at=h.now() + timedelta(days=1))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
        answer = await api.get("/api/sla", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found


async def test_a_failing_receiver_is_retried_and_visible(
    harness: Harness, receiver: tuple[Receiver, str], mailbox: tuple[Mailbox, int]
) -> None:
    h, (hook, url), (box, smtp_port) = harness, receiver, mailbox
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    h.mark_due(order_id)
    await h.settle()
    await h.advance(3600 + 20 * 60)
    alerter = _alerter(h, url, smtp_port)
    hook.failing = True
    await _to(h, pst(18, 0, 30))
    with capture_logs() as logs:
        assert await alerter.run_once() == (1, 2)
    assert hook.received == []
    assert hook.refused == 1
    assert len(box.messages) == 1  # email is independent of the webhook
    [line] = [e for e in logs if e["event"] == "sla_alert_undelivered"]
    assert line["tiktok_order_id"] == order_id
    assert line["channel"] == "webhook"
    link = h.link(order_id)
    with transaction(h.services.db, write=False) as conn:
        [exc] = [e for e in order_exceptions.open_exceptions(conn, link_id=link.id)
                 if e.code == "SLA_ALERT_UNDELIVERED"]
    assert exc.severity == "warning"
    assert "webhook answered 500" in exc.message

    # Not due again before its back-off; then retried (still failing: counted, still open).
    assert await alerter.run_once() == (0, 0)
    await _to(h, h.now() + timedelta(seconds=10))
    assert await alerter.run_once() == (0, 1)
    assert hook.refused == 2
    # The receiver comes back: the next retry delivers it, once, and the exception closes.
    hook.failing = False
    await _to(h, h.now() + timedelta(seconds=30))
    assert await alerter.run_once() == (0, 1)
    assert _sent(hook) == [(order_id, "24h", "dispatch_due")]
    assert len(box.messages) == 1
    await _to(h, h.now() + timedelta(minutes=30))
    assert await alerter.run_once() == (0, 0)
    assert len(hook.received) == 1
    with transaction(h.services.db, write=False) as conn:
        still = [e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)]
        story = [e.summary for e in events.timeline(conn, link.id)]
    assert "SLA_ALERT_UNDELIVERED" not in still
    assert any(s.startswith("SLA_ALERT_UNDELIVERED: ") for s in story)
    assert "exception SLA_ALERT_UNDELIVERED resolved" in story

    # A channel removed from the settings while a delivery waits: dropped, said so, resolved.
    hook.failing = True
    await _to(h, pst(18, 12, 30))
    assert await alerter.run_once() == (1, 2)
    email_only = SlaAlerter(h.services, "test-alerter", [
        EmailChannel("127.0.0.1", smtp_port, "orderbridge@test.invalid", ["ops@test.invalid"], starttls=False)])
    await _to(h, h.now() + timedelta(minutes=1))
    assert await email_only.run_once() == (0, 1)
    assert await email_only.run_once() == (0, 0)
    assert len(hook.received) == 1
    with transaction(h.services.db, write=False) as conn:
        still = [e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)]
        story = [e.summary for e in events.timeline(conn, link.id)]
    assert "SLA_ALERT_UNDELIVERED" not in still
    assert "SLA alert 12h not sent by webhook: that channel is no longer configured" in story
