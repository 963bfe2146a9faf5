"""``--json`` on every read command: the same facts as the tables, parseable (both dialects)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from orderbridge.adapters.db import (
    TokenCipher,
    connections,
    events,
    links,
    make_engine,
    order_exceptions,
    transaction,
)
from orderbridge.adapters.db.operators import Role, add_user, create_token
from orderbridge.cli.main import app

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def populated(migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """One connection, one order with an open exception and a timeline, one user and token."""
    key = Fernet.generate_key().decode()
    for name, value in {"ORDERBRIDGE_DATABASE_URL": migrated_db_url, "ORDERBRIDGE_SECRET_KEY": key,
                        "ORDERBRIDGE_CONFIG": ""}.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(migrated_db_url)
    try:
        with transaction(engine) as conn:
            row = connections.create_connection(conn, TokenCipher(key), name="acme", tiktok_shop_id="7001",
                                                shopify_domain="acme.myshopify.com", now=NOW)
            link, _ = links.get_or_create_link(conn, row.id, "576001", NOW)
            order_exceptions.raise_exception(conn, link.id, "UNMAPPED_SKU", "blocking", "SKU X is linked to nothing",
                                             {"sku_id": "111", "seller_sku": "X"}, "link_sku", now=NOW)
            events.append(conn, link.id, "api_call", "TikTok get order detail", at=NOW,
                          remote_request_id="req-1", duration_ms=12)
            user = add_user(conn, "alice", Role.ADMIN, now=NOW)
            create_token(conn, user, "cli", now=NOW, expires_at=datetime(2026, 6, 1, tzinfo=UTC))
    finally:
        engine.dispose()
    return migrated_db_url


def _json(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_json(populated: str) -> None:
    status = _json("status")
    [shop] = status["connections"]
    assert shop["name"] == "acme"
    assert shop["orders_by_state"] == {"new": 1}
    [exc] = status["open_exceptions"]
    assert exc["tiktok_order_id"] == "576001"
    assert exc["code"] == "UNMAPPED_SKU"
    assert exc["created_at"].startswith("2026-03-02T12:00:00")
    assert exc["action"] == "link_sku"
    assert exc["fix"] == "orderbridge skus link X <Shopify variant gid>"


def test_order_json(populated: str) -> None:
    [order] = _json("order", "576001")
    assert order["state"] == "new"
    assert order["open_exceptions"][0]["code"] == "UNMAPPED_SKU"
    assert order["open_exceptions"][0]["fix"].startswith("orderbridge skus link X ")
    assert order["timeline"] == [{"at": order["timeline"][0]["at"], "kind": "api_call",
                                  "summary": "TikTok get order detail", "remote_request_id": "req-1",
                                  "duration_ms": 12}]


def test_connections_and_policy_json(populated: str) -> None:
    [conn] = _json("connections")
    assert conn["shopify_domain"] == "acme.myshopify.com"
    assert "shopify_token" not in conn
    policy = _json("policy", "show")
    assert policy["create_at"] == "unpaid"
    assert policy["slow_recheck"] > 0


def test_user_and_token_json(populated: str) -> None:
    [user] = _json("user", "list")
    assert (user["name"], user["role"]) == ("alice", "admin")
    [token] = _json("token", "list")
    assert token["user"] == "alice"
    assert token["expires_at"].startswith("2026-06-01")
    assert "token_hash" not in token


def _open(url: str, code: str, action: str) -> int:
    engine = make_engine(url)
    try:
        with transaction(engine) as conn:
            link = links.list_links(conn)[0]
            row, _ = order_exceptions.raise_exception(conn, link.id, code, "warning", "refused", None, action,
                                                      now=NOW)
            return row.id
    finally:
        engine.dispose()


def test_exceptions_act_is_the_command_status_names(populated: str) -> None:
    exc_id = _open(populated, "SHOPIFY_REFUSED", "retry")
    fixes = {e["code"]: e["fix"] for e in _json("status")["open_exceptions"]}
    assert fixes["SHOPIFY_REFUSED"] == f"orderbridge exceptions act {exc_id} retry"
    runner = CliRunner()
    done = runner.invoke(app, ["exceptions", "act", str(exc_id), "retry"])
    assert done.exit_code == 0, done.output
    assert "retry on SHOPIFY_REFUSED of TikTok order 576001: recorded" in done.stdout
    [order] = _json("order", "576001")
    assert any(e["summary"].startswith("operator") and "retry" in e["summary"] for e in order["timeline"])
    dismissed = runner.invoke(app, ["exceptions", "act", str(exc_id), "dismiss"])
    assert dismissed.exit_code == 0, dismissed.output
    assert [e["code"] for e in _json("status")["open_exceptions"]] == ["UNMAPPED_SKU"]


def test_exceptions_act_refusals_exit_1(populated: str) -> None:
    runner = CliRunner()
    [sku_exc] = _json("status")["open_exceptions"]
    refused = runner.invoke(app, ["exceptions", "act", str(sku_exc["id"]), "link_sku"])
    assert refused.exit_code == 1
    assert "link_sku is done with: orderbridge skus link X <Shopify variant gid>" in refused.stderr
    assert runner.invoke(app, ["exceptions", "act", "999999", "retry"]).exit_code == 1
