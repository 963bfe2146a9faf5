"""connect_sandbox, the scope check, webhook registration and the policy, against the sandboxes."""

import pytest
from sqlalchemy import select

from orderbridge.adapters.db import ConnectionStatus, connections, transaction
from orderbridge.adapters.db.tables import connections as connections_table
from orderbridge.domain.policy import DEFAULT_SLOW_RECHECK
from orderbridge.engine.connect import (
    MissingScopes,
    connect_shopify,
    connect_tiktok_with_code,
    find_connection,
    register_webhooks,
)
from orderbridge.engine.policy_config import DURATION_KEYS
from orderbridge.engine.policy_store import set_policy, show_policy
from orderbridge.engine.sandbox_connection import connect_sandbox
from orderbridge.errors import ConfigurationError
from tests.integration.web.conftest import SandboxKit


async def test_connect_sandbox_stores_both_sides_encrypted_and_registers_webhooks(sbx: SandboxKit) -> None:
    row = await connect_sandbox(sbx.services, sbx.info)
    shop, store = sbx.info["tiktok"]["shops"][0], sbx.info["shopify"]["shops"][0]
    assert row.status == ConnectionStatus.ACTIVE
    assert (row.tiktok_shop_id, row.tiktok_shop_cipher, row.tiktok_shop_name) == (
        shop["shop_id"], shop["shop_cipher"], shop["name"])
    assert row.shopify_domain == store["domain"]
    assert row.shopify_location_id == store["location_ids"][0]
    assert "write_order_edits" in row.shopify_scopes
    with transaction(sbx.services.db, write=False) as conn:
        raw = conn.execute(select(connections_table)).one()
    assert raw.tiktok_access_token_enc
    assert shop["access_token"] not in raw.tiktok_access_token_enc
    assert store["access_token"] not in raw.shopify_token_enc

    subs = await sbx.services.tiktok_client(row).get_webhooks()
    assert {s.event_type for s in subs} >= {"ORDER_STATUS_CHANGE", "PACKAGE_UPDATE", "SELLER_DEAUTHORIZATION",
                                           "CANCELLATION_STATUS_CHANGE", "RETURN_STATUS_CHANGE"}
    assert {s.address for s in subs} == {"http://orderbridge.test/webhooks/tiktok"}
    shopify_subs = await sbx.services.shopify_client(row).list_webhook_subscriptions()
    assert {s.topic for s in shopify_subs} >= {"ORDERS_UPDATED", "ORDERS_CANCELLED", "FULFILLMENTS_CREATE",
                                               "FULFILLMENTS_UPDATE", "REFUNDS_CREATE", "APP_UNINSTALLED",
                                               "FULFILLMENT_ORDERS_HOLD_RELEASED"}
    # Idempotent: a second registration creates nothing new.
    again = await register_webhooks(sbx.services, row)
    assert again.shopify_topics == ()
    assert len(await sbx.services.shopify_client(row).list_webhook_subscriptions()) == len(shopify_subs)


async def test_a_connection_made_before_new_topics_gets_them_on_the_next_registration(
        sbx: SandboxKit, monkeypatch: pytest.MonkeyPatch) -> None:
    from orderbridge.engine import connect

    new = ("FULFILLMENT_ORDERS_SPLIT", "FULFILLMENT_ORDERS_MOVED", "FULFILLMENT_ORDERS_MERGED",
           "FULFILLMENT_ORDERS_HOLD_RELEASED")
    assert set(new) <= set(connect.SHOPIFY_WEBHOOK_TOPICS)
    old = tuple(t for t in connect.SHOPIFY_WEBHOOK_TOPICS if t not in new)
    monkeypatch.setattr(connect, "SHOPIFY_WEBHOOK_TOPICS", old)
    row = await connect_sandbox(sbx.services, sbx.info)
    monkeypatch.undo()
    report = await register_webhooks(sbx.services, row)  # `orderbridge connect webhooks`
    assert report.shopify_topics == new
    assert set(report.shopify_existing) == set(old)
    subs = await sbx.services.shopify_client(row).list_webhook_subscriptions()
    assert sorted(s.topic for s in subs) == sorted(old + new)  # nothing subscribed twice


async def test_connect_sandbox_twice_updates_the_same_connection(sbx: SandboxKit) -> None:
    first = await connect_sandbox(sbx.services, sbx.info, name="main")
    second = await connect_sandbox(sbx.services, sbx.info, name="main")
    assert first.id == second.id
    with pytest.raises(ConfigurationError, match="already connected as 'main'"):
        await connect_sandbox(sbx.services, sbx.info, name="other")


async def test_scope_check_refuses_a_token_without_fulfilment_order_scopes(sbx: SandboxKit) -> None:
    store = sbx.info["shopify"]["shops"][0]
    with pytest.raises(MissingScopes) as caught:
        await connect_shopify(sbx.services, "s", store["domain"], store["access_token_without_fulfillment_orders"])
    assert "MISSING_SCOPES" in str(caught.value)
    assert "fulfilment-order holds" in caught.value.missing
    assert "write_merchant_managed_fulfillment_orders" in str(caught.value)
    with transaction(sbx.services.db, write=False) as conn:
        assert connections.list_connections(conn, sbx.services.cipher) == []


async def test_tiktok_with_auth_code_then_shopify_completes_the_connection(sbx: SandboxKit) -> None:
    shop, store = sbx.info["tiktok"]["shops"][1], sbx.info["shopify"]["shops"][1]
    row = await connect_tiktok_with_code(sbx.services, "second", shop["auth_code"])
    assert row.tiktok_shop_id == shop["shop_id"]
    assert row.status == ConnectionStatus.PAUSED
    row = await connect_shopify(sbx.services, "second", store["domain"], store["access_token"])
    assert row.status == ConnectionStatus.ACTIVE
    assert row.shopify_location_id == store["location_ids"][0]
    with pytest.raises(ConfigurationError, match="location"):
        await connect_shopify(sbx.services, "second", store["domain"], store["access_token"], "gid://nope")


async def test_shopify_first_then_tiktok_fills_the_placeholder(sbx: SandboxKit) -> None:
    shop, store = sbx.info["tiktok"]["shops"][0], sbx.info["shopify"]["shops"][0]
    row = await connect_shopify(sbx.services, "x", store["domain"], store["access_token"])
    assert row.tiktok_shop_id == "pending:x"
    assert row.status == ConnectionStatus.PAUSED
    row = await connect_tiktok_with_code(sbx.services, "x", shop["auth_code"])
    assert row.tiktok_shop_id == shop["shop_id"]
    assert row.status == ConnectionStatus.ACTIVE


async def test_policy_is_validated_before_it_is_stored(sbx: SandboxKit) -> None:
    await connect_sandbox(sbx.services, sbx.info)
    row = find_connection(sbx.services, "sandbox")
    assert show_policy(row)["create_at"] == "unpaid"
    set_policy(sbx.services, row, "auto_approve_cancellations", "false")
    set_policy(sbx.services, row, "tiktok_shipped_orders", "import_fulfilled")
    row = find_connection(sbx.services, "sandbox")
    assert row.policy == {"auto_approve_cancellations": False, "tiktok_shipped_orders": "import_fulfilled"}
    assert sbx.services.policy(row).auto_approve_cancellations is False
    with pytest.raises(ConfigurationError, match="tiktok_shipped_orders"):
        set_policy(sbx.services, row, "tiktok_shipped_orders", "sometimes")
    with pytest.raises(ConfigurationError, match="unknown policy key"):
        set_policy(sbx.services, row, "nope", "1")
    assert find_connection(sbx.services, "sandbox").policy == row.policy


async def test_policy_show_prints_effective_durations_not_null(sbx: SandboxKit) -> None:
    await connect_sandbox(sbx.services, sbx.info)
    row = find_connection(sbx.services, "sandbox")
    shown = show_policy(row)
    assert [k for k in DURATION_KEYS if shown[k] is None] == []
    assert shown["slow_recheck"] == DEFAULT_SLOW_RECHECK.total_seconds()
    set_policy(sbx.services, row, "slow_recheck", "7200")
    assert show_policy(find_connection(sbx.services, "sandbox"))["slow_recheck"] == 7200.0


async def test_settings_not_pointing_at_the_sandbox_are_named(sbx: SandboxKit) -> None:
    from dataclasses import replace

    bad = replace(sbx.services, settings=sbx.services.settings.model_copy(update={"tiktok_app_key": "x"}))
    with pytest.raises(ConfigurationError, match="ORDERBRIDGE_TIKTOK_APP_KEY"):
        await connect_sandbox(bad, sbx.info)
