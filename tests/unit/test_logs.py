"""Structured logs: one configuration for structlog and logging, JSON lines, redaction."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from orderbridge.cli.main import app
from orderbridge.logs import configure_logging, get_logger, redact


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_redact_drops_secrets_and_buyer_pii_at_any_depth() -> None:
    event = {
        "event": "decision", "tiktok_order_id": "576", "connection_id": 3, "request_id": "r-1",
        "access_token": "tok", "app_secret": "s", "Authorization": "Bearer x",
        "name": "Ann Buyer", "phone_number": "+1 555", "email": "a@b.c",
        "shipping_address": {"address1": "1 Main St"},
        "payload": {"recipient": {"name": "Ann"}, "buyer_email": "a@b.c", "sku": "MW-1",
                    "lines": [{"phone": "1", "units": 2}]},
    }
    out = redact(None, "info", dict(event))
    assert out == {
        "event": "decision", "tiktok_order_id": "576", "connection_id": 3, "request_id": "r-1",
        "payload": {"sku": "MW-1", "lines": [{"units": 2}]},
    }


def test_json_format_writes_one_parseable_object_per_line(restore_logging: None) -> None:
    buf = io.StringIO()
    configure_logging("info", "json", stream=buf)
    with structlog.contextvars.bound_contextvars(tiktok_order_id="576", connection_id=1):
        get_logger("orderbridge.test").info("decision", state="created_held", refresh_token="x")
        logging.getLogger("orderbridge.engine.test").info("link %s pushed back", 9)
    get_logger("orderbridge.test").debug("not at info")
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [(e["event"], e["level"]) for e in lines] == [
        ("decision", "info"), ("link 9 pushed back", "info")]
    assert lines[0]["tiktok_order_id"] == "576"
    assert lines[0]["state"] == "created_held"
    assert "refresh_token" not in lines[0]
    # stdlib records go through the same formatter and get the bound context too
    assert lines[1]["tiktok_order_id"] == "576"
    assert lines[1]["logger"] == "orderbridge.engine.test"


def test_console_format_and_level(restore_logging: None) -> None:
    buf = io.StringIO()
    configure_logging("warning", "console", stream=buf)
    get_logger("x").info("quiet")
    get_logger("x").warning("api_call_failed", operation="orderCreate", status=503)
    text = buf.getvalue()
    assert "quiet" not in text
    assert "api_call_failed" in text
    assert "operation=orderCreate" in text
    assert "status=503" in text
    with pytest.raises(ValueError, match="log level"):
        configure_logging("loud", "console")


def test_cli_options_set_level_and_format(restore_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERBRIDGE_LOG_FORMAT", "json")
    result = CliRunner().invoke(app, ["-v", "version"])
    assert result.exit_code == 0, result.output
    assert logging.getLogger().level == logging.DEBUG
    result = CliRunner().invoke(app, ["--log-level", "error", "version"])
    assert result.exit_code == 0, result.output
    assert logging.getLogger().level == logging.ERROR
    result = CliRunner().invoke(app, ["--log-level", "loud", "version"])
    assert result.exit_code != 0
