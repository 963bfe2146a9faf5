"""``orderbridge sla``: the desk from the command line, table and ``--json`` (both dialects).

The command runs on the wall clock, so the orders' deadlines are set around it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update
from typer.testing import CliRunner

from orderbridge.adapters.db import (
    TokenCipher,
    alerts,
    connections,
    links,
    make_engine,
    transaction,
)
from orderbridge.adapters.db.tables import order_links
from orderbridge.cli.main import app


def _order(order_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": order_id, "status": status, "shipping_type": "SELLER", **extra}


@pytest.fixture
def desk(migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    key = Fernet.generate_key().decode()
    for name, value in {"ORDERBRIDGE_DATABASE_URL": migrated_db_url, "ORDERBRIDGE_SECRET_KEY": key,
                        "ORDERBRIDGE_CONFIG": ""}.items():
        monkeypatch.setenv(name, value)
    now = datetime.now(UTC)
    unix = lambda at: int(at.timestamp())  # noqa: E731
    orders = {
        "5771": _order("5771", "AWAITING_SHIPMENT", create_time=unix(now), rts_sla_time=unix(now + timedelta(days=6)),
                       delivery_option_name="Standard Shipping"),
        "5772": _order("5772", "AWAITING_COLLECTION", create_time=unix(now - timedelta(days=5)),
                       rts_sla_time=unix(now - timedelta(hours=1))),
        "5773": _order("5773", "IN_TRANSIT", create_time=unix(now - timedelta(days=5))),
        "5774": _order("5774", "AWAITING_SHIPMENT", fulfillment_type="FULFILLMENT_BY_TIKTOK"),
        "5775": _order("5775", "AWAITING_SHIPMENT", create_time="not a time"),
    }
    engine = make_engine(migrated_db_url)
    try:
        with transaction(engine) as conn:
            row = connections.create_connection(conn, TokenCipher(key), name="acme", tiktok_shop_id="7001",
                                                shopify_domain="acme.myshopify.com", now=now)
            for order_id, body in orders.items():
                link, _ = links.get_or_create_link(conn, row.id, order_id, now)
                conn.execute(update(order_links).where(order_links.c.id == link.id).values(
                    tiktok_status=body["status"], tiktok_snapshot=body, shopify_order_name=f"#{order_id[-2:]}"))
                if order_id == "5772":
                    alerts.record_alert(conn, link.id, "24h", sent_at=now)
    finally:
        engine.dispose()
    return {k: v["status"] for k, v in orders.items()}


def test_sla_json_lists_unscanned_orders_least_time_left_first(desk: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["sla", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["tiktok_order_id"] for r in rows] == ["5772", "5771"]  # breached first; IN_TRANSIT, FBT out
    late, fresh = rows
    assert late["breached"] is True
    assert late["desk_state"] == "awaiting_scan"
    assert late["alerts_sent"] == ["24h"]
    assert late["business_seconds_left"] < 0
    assert fresh["desk_state"] == "not_shipped"
    assert fresh["threepl_status"] == "-"
    assert fresh["dispatch_deadline"]["source"] == "from_tiktok"
    assert fresh["delivery_option"] == "standard"
    assert fresh["delivery_deadline"]["source"] == "computed"
    assert fresh["auto_cancel_deadline"]["source"] == "computed"
    assert fresh["business_seconds_left"] > 24 * 3600


def test_sla_table_and_a_bad_connection(desk: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from orderbridge.cli import sla as cli_sla

    monkeypatch.setattr(cli_sla, "console", Console(width=250))  # the table unwrapped
    result = CliRunner().invoke(app, ["sla"])
    assert result.exit_code == 0, result.output
    assert "5771" in result.output
    assert "5772" in result.output
    assert "BREACHED" in result.output
    assert "awaiting scan" in result.output
    assert "5773" not in result.output
    filtered = CliRunner().invoke(app, ["sla", "-c", "acme", "--json"])
    assert filtered.exit_code == 0, filtered.output
    assert len(json.loads(filtered.stdout)) == 2
    missing = CliRunner().invoke(app, ["sla", "-c", "nope"])
    assert missing.exit_code == 2
    assert "no connection named 'nope'" in missing.output


def test_the_desk_parses_only_snapshots_that_changed(desk: dict[str, str], migrated_db_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The alerter reads the desk every minute: unchanged snapshots are not parsed again."""
    from orderbridge.adapters.us_calendar import us_business_calendar
    from orderbridge.engine import sla_desk

    parsed: list[str] = []
    original = sla_desk._domain_order

    def counting(snapshot: Any) -> Any:
        parsed.append(str(snapshot["id"]))
        return original(snapshot)

    monkeypatch.setattr(sla_desk, "_domain_order", counting)
    calendar = us_business_calendar()
    cache: sla_desk.OrderCache = {}
    engine = make_engine(migrated_db_url)
    try:
        def read() -> list[str]:
            with transaction(engine, write=False) as conn:
                return [r.tiktok_order_id for r in sla_desk.read_desk(conn, calendar, datetime.now(UTC), cache=cache)]

        assert read() == ["5772", "5771"]
        assert sorted(parsed) == ["5771", "5772", "5774", "5775"]  # IN_TRANSIT is not even read
        parsed.clear()
        assert read() == ["5772", "5771"]
        assert parsed == []
        with transaction(engine) as conn:  # 5772 changed; 5771 scanned (IN_TRANSIT)
            conn.execute(update(order_links).where(order_links.c.tiktok_order_id == "5772").values(
                updated_at=datetime.now(UTC), tiktok_snapshot=_order("5772", "AWAITING_SHIPMENT")))
            conn.execute(update(order_links).where(order_links.c.tiktok_order_id == "5771").values(
                tiktok_status="IN_TRANSIT", updated_at=datetime.now(UTC)))
        assert read() == ["5772"]
        assert parsed == ["5772"]
        assert len(cache) == 3  # 5771 left the desk: forgotten
    finally:
        engine.dispose()
