"""A connection's policy as the operator sees and sets it (``orderbridge policy``).

The stored JSON holds only the keys someone set; ``show_policy`` lays them over the
defaults. ``set_policy`` validates the whole policy (``policy_from_json``) before storing.
"""

from __future__ import annotations

import json
from typing import Any

from orderbridge.adapters.db import connections, events, transaction
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.types import EventKind
from orderbridge.engine.policy_config import DURATION_KEYS, PolicyConfig, policy_from_json
from orderbridge.engine.ports import Store
from orderbridge.engine.stock_config import StockConfig
from orderbridge.errors import ConfigurationError

__all__ = ["set_policy", "show_policy"]


def show_policy(connection: ConnectionRow) -> dict[str, Any]:
    """The effective policy (stored keys over the defaults), JSON-ready.

    Durations the stored JSON leaves unset are shown as the domain's defaults in seconds
    (the values the engine uses), never ``null``. ``source_name`` stays ``null`` when unset:
    then no source name is sent and Shopify's own applies.
    """
    config = PolicyConfig.model_validate(connection.policy or {})
    shown = config.model_dump(mode="json")
    effective = config.to_policy(connection.tiktok_shop_id)
    for name in DURATION_KEYS:
        shown[name] = getattr(effective, name).total_seconds()
    shown["stock"] = (config.stock or StockConfig()).model_dump(mode="json")  # the stock push's
    return shown


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # a bare word: a string


def set_policy(services: Store, connection: ConnectionRow, key: str, value: str) -> dict[str, Any]:
    """Set one policy key (value as JSON, or a bare string); validated before it is stored."""
    if key not in PolicyConfig.model_fields:
        raise ConfigurationError(
            f"unknown policy key {key!r}; keys: {', '.join(sorted(PolicyConfig.model_fields))}")
    with transaction(services.db) as conn:
        current = connections.get_connection(conn, services.cipher, connection.id) or connection
        stored = {**(current.policy or {}), key: _parse_value(value)}
        policy_from_json(stored, connection.tiktok_shop_id)  # raises ConfigurationError naming the key
        connections.update_connection(conn, services.cipher, connection.id, now=services.clock.now(),
                                      policy=stored)
        events.append(conn, None, EventKind.EVENT, f"policy {key} set to {value}",
                      {"key": key, "value": stored[key]}, at=services.clock.now(),
                      connection_id=connection.id)
    return stored
