"""A connection's stock-push settings: the ``stock`` key of its policy (JSON), validated.

    {"stock": {"enabled": true,
               "warehouses": {"<TikTok warehouse id>": ["gid://shopify/Location/1", ...]},
               "buffer_units": 2, "buffer_percent": 10, "debounce_seconds": 2,
               "reconcile_hours": 24}}

No ``warehouses``: the SKU's one TikTok warehouse sells every Shopify location's units.
See docs/configuration.md#stock-shopify-to-tiktok.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orderbridge.domain.stock import SafetyBuffer
from orderbridge.domain.stock_push import WarehouseMap
from orderbridge.errors import ConfigurationError

__all__ = ["DEFAULT_DEBOUNCE_SECONDS", "StockConfig", "stock_config"]

DEFAULT_DEBOUNCE_SECONDS = 2.0


class StockConfig(BaseModel):
    """Stored form of the stock settings (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    warehouses: dict[str, list[str]] = Field(default_factory=dict)
    buffer_units: int = Field(default=0, ge=0)
    buffer_percent: Decimal = Field(default=Decimal(0), ge=0, le=100)
    debounce_seconds: float = Field(default=DEFAULT_DEBOUNCE_SECONDS, ge=0, le=3600)
    reconcile_hours: float = Field(default=24.0, ge=0)  # every linked SKU pushed again; 0: never

    @property
    def mapping(self) -> WarehouseMap:
        return WarehouseMap.of(self.warehouses)

    @property
    def buffer(self) -> SafetyBuffer:
        return SafetyBuffer(units=self.buffer_units, percent=self.buffer_percent)


def stock_config(policy: dict[str, Any] | None) -> StockConfig:
    """The stock settings of a connection's stored policy (defaults when absent)."""
    raw = (policy or {}).get("stock")
    try:
        return StockConfig.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigurationError(f"invalid policy.stock: {exc}") from exc
