"""SLA alert channels and their settings: what is built, and failures as AlertDeliveryError."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from orderbridge.adapters.alert_channels import (
    Alert,
    AlertDeliveryError,
    EmailChannel,
    WebhookChannel,
)
from orderbridge.bootstrap import Services
from orderbridge.errors import ConfigurationError
from orderbridge.settings import load_settings

ALERT = Alert("SLA 4h left: TikTok order 1", "SLA 4h left: TikTok order 1: ship it.", {"tiktok_order_id": "1"})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: nothing listens there


async def _services(tmp_path: Path, **settings: object) -> Services:
    return Services.create(load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", **settings),
                           migrate_db=False)


async def test_channels_from_settings(tmp_path: Path) -> None:
    services = await _services(tmp_path, sla_webhook_url="https://hooks.example.com/T1",
                               sla_email_to="ops@example.com, boss@example.com", sla_smtp_host="smtp.example.com")
    try:
        webhook, mail = services.alert_channels()
        assert isinstance(webhook, WebhookChannel)
        assert webhook.url == "https://hooks.example.com/T1"
        assert isinstance(mail, EmailChannel)
        assert tuple(mail.recipients) == ("ops@example.com", "boss@example.com")
        assert (mail.host, mail.port, mail.starttls) == ("smtp.example.com", 587, True)
        assert services.sla_calendar.tz == "America/Los_Angeles"
    finally:
        await services.aclose()
    bare = await _services(tmp_path)
    try:
        assert bare.alert_channels() == []
    finally:
        await bare.aclose()


async def test_email_without_a_server_is_a_clear_error(tmp_path: Path) -> None:
    services = await _services(tmp_path, sla_email_to="ops@example.com")
    try:
        with pytest.raises(ConfigurationError, match="ORDERBRIDGE_SLA_SMTP_HOST"):
            services.alert_channels()
    finally:
        await services.aclose()


def test_webhook_url_must_be_http() -> None:
    with pytest.raises(ConfigurationError, match="ORDERBRIDGE_SLA_WEBHOOK_URL"):
        load_settings(sla_webhook_url="ftp://example.com/hook")


async def test_unreachable_channels_raise_delivery_errors() -> None:
    port = _closed_port()
    async with httpx.AsyncClient() as http:
        with pytest.raises(AlertDeliveryError, match="webhook: ConnectError"):
            await WebhookChannel(f"http://127.0.0.1:{port}/hook", http).send(ALERT)
    with pytest.raises(AlertDeliveryError, match="email: ConnectionRefusedError"):
        await EmailChannel("127.0.0.1", port, "a@example.com", ["b@example.com"], starttls=False).send(ALERT)


def test_email_message() -> None:
    msg = EmailChannel("h", 25, "a@example.com", ["b@example.com", "c@example.com"]).message(ALERT)
    assert msg["Subject"] == ALERT.subject
    assert msg["To"] == "b@example.com, c@example.com"
    assert msg.get_content() == f"{ALERT.text}\n\ntiktok_order_id: 1\n"
