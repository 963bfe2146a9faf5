"""Connecting the sandboxes (``orderbridge sandbox``, the demo, the tests): the settings
that point OrderBridge at them, and one call that connects a sandbox shop on both sides
through the same paths as real shops (``connect.py``) and registers the webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.tiktok import TokenSet
from orderbridge.clock import from_unix
from orderbridge.engine.connect import (
    connect_shopify,
    connect_tiktok_with_code,
    connect_tiktok_with_tokens,
    register_webhooks,
)
from orderbridge.engine.ports import Process
from orderbridge.errors import ConfigurationError

__all__ = ["connect_sandbox", "sandbox_settings"]


def _check_sandbox_settings(services: Process, info: Mapping[str, Any]) -> None:
    s, tt, sh = services.settings, info["tiktok"], info["shopify"]
    expected = {
        "tiktok_api_base": tt["api_base"], "tiktok_auth_base": tt["auth_base"],
        "tiktok_app_key": tt["app_key"], "tiktok_app_secret": tt["app_secret"],
        "shopify_endpoint_template": sh["graphql_url_template"],
        "shopify_api_version": sh["api_version"], "shopify_client_secret": sh["client_secret"],
        "shopify_client_id": sh["api_key"], "shopify_admin_url_template": sh["admin_url_template"],
    }
    wrong = [k for k, v in expected.items() if getattr(s, k) != v]
    if wrong:
        raise ConfigurationError(
            "settings do not point at this sandbox: " + ", ".join(f"ORDERBRIDGE_{k.upper()}" for k in wrong)
            + " (see sandbox_settings(info) / `orderbridge connect sandbox --write-config`)")


def sandbox_settings(info: Mapping[str, Any]) -> dict[str, str]:
    """The settings that point OrderBridge at the sandboxes of ``info``."""
    tt, sh = info["tiktok"], info["shopify"]
    return {
        "tiktok_api_base": tt["api_base"], "tiktok_auth_base": tt["auth_base"],
        "tiktok_authorize_url": str(tt["authorize_url"]).split("?")[0],
        "tiktok_app_key": tt["app_key"], "tiktok_app_secret": tt["app_secret"],
        "tiktok_service_id": tt["service_id"],
        "shopify_endpoint_template": sh["graphql_url_template"],
        "shopify_api_version": sh["api_version"], "shopify_client_secret": sh["client_secret"],
        "shopify_client_id": sh["api_key"], "shopify_admin_url_template": sh["admin_url_template"],
        **_threepl_settings(info),
    }


def _threepl_settings(info: Mapping[str, Any]) -> dict[str, str]:
    """The 3PL sandboxes' accounts (when the info file has them)."""
    out: dict[str, str] = {}
    mcf, sb = info.get("amazon_mcf"), info.get("shipbob")
    if mcf:
        out.update(amazon_mcf_endpoint=mcf["endpoint"], amazon_mcf_lwa_token_url=mcf["lwa_token_url"],
                   amazon_mcf_client_id=mcf["client_id"], amazon_mcf_client_secret=mcf["client_secret"],
                   amazon_mcf_refresh_token=mcf["refresh_token"])
    if sb:
        out.update(shipbob_api_base=sb["api_base"], shipbob_token=sb["personal_access_token"])
    return out


async def connect_sandbox(
    services: Process, info: Mapping[str, Any], name: str = "sandbox", shop_index: int = 0
) -> ConnectionRow:
    """Connect sandbox shop ``shop_index`` on both sides and register the webhooks.

    Uses the shop's ready tokens when the info has them (an auth code is single use),
    else its auth code. ``services.settings`` must point at the sandbox (``sandbox_settings``).
    """
    _check_sandbox_settings(services, info)
    tt_shop = info["tiktok"]["shops"][shop_index]
    if tt_shop.get("access_token") and tt_shop.get("refresh_token"):
        tokens = TokenSet(
            access_token=tt_shop["access_token"],
            access_expires_at=from_unix(tt_shop["access_token_expire_in"]),
            refresh_token=tt_shop["refresh_token"],
            refresh_expires_at=from_unix(tt_shop["refresh_token_expire_in"]),
        )
        await connect_tiktok_with_tokens(services, name, tokens, shop_id=tt_shop["shop_id"])
    else:
        await connect_tiktok_with_code(services, name, tt_shop["auth_code"], shop_id=tt_shop["shop_id"])
    sh_shop = info["shopify"]["shops"][shop_index]
    locations = sh_shop.get("location_ids") or [None]
    row = await connect_shopify(services, name, sh_shop["domain"], sh_shop["access_token"], locations[0])
    await register_webhooks(services, row)
    return row
