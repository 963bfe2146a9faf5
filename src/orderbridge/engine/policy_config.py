"""A connection's policy as stored (JSON) and validated, turned into the domain ``Policy``.

The JSON keys are the ``Policy`` field names; durations are given in seconds. Unknown keys
and bad values are refused with a message naming the key (``ConfigurationError``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orderbridge.domain.policy import (
    DEFAULT_HOLD_HANDLE,
    AutoApprovalExtra,
    CreateAt,
    CustomerNameMode,
    Policy,
    RouteTo,
    SampleOrders,
    ThreePL,
    ThreePLReference,
    TikTokShippedOrders,
)
from orderbridge.engine.stock_config import StockConfig
from orderbridge.errors import ConfigurationError

__all__ = ["DURATION_KEYS", "PolicyConfig", "policy_from_json"]

# The policy keys that are durations (seconds in JSON, timedelta in the domain).
DURATION_KEYS = (
    "masked_retry_period", "create_settle_period", "search_interval", "retry_soon",
    "masked_recheck", "rejected_retry", "fulfillment_service_wait", "open_recheck", "slow_recheck",
    "threepl_search_after", "threepl_search_interval", "threepl_missing_after",
)


class PolicyConfig(BaseModel):
    """The stored form of a connection's policy (see docs/configuration.md#policy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    create_at: CreateAt = CreateAt.UNPAID
    hold_handle: str = Field(default=DEFAULT_HOLD_HANDLE, min_length=1, max_length=64)
    auto_approval_extra: AutoApprovalExtra = AutoApprovalExtra.NONE
    auto_approve_cancellations: bool = True
    auto_approve_refunds_under: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    tiktok_shipped_orders: TikTokShippedOrders = TikTokShippedOrders.SKIP
    samples: SampleOrders = SampleOrders.IMPORT
    customer_name_mode: CustomerNameMode = CustomerNameMode.TIKTOK_ORDER
    source_name: str | None = None
    extra_tags: tuple[str, ...] = ()
    status_tags: bool = False
    shipping_titles: dict[str, str] = Field(default_factory=dict)
    mcf_warehouse_ids: frozenset[str] = frozenset()
    threepl_locations: dict[str, ThreePL] = Field(default_factory=dict)
    threepl_reference: ThreePLReference = ThreePLReference.SHOPIFY_ORDER_NAME
    route_to: RouteTo = RouteTo.NONE
    masked_retry_period: float | None = Field(default=None, gt=0)
    create_settle_period: float | None = Field(default=None, gt=0)
    search_interval: float | None = Field(default=None, gt=0)
    retry_soon: float | None = Field(default=None, gt=0)
    masked_recheck: float | None = Field(default=None, gt=0)
    rejected_retry: float | None = Field(default=None, gt=0)
    fulfillment_service_wait: float | None = Field(default=None, gt=0)
    threepl_search_after: float | None = Field(default=None, gt=0)
    threepl_search_interval: float | None = Field(default=None, gt=0)
    threepl_missing_after: float | None = Field(default=None, gt=0)
    open_recheck: float | None = Field(default=None, gt=0)
    slow_recheck: float | None = Field(default=None, gt=0)
    # Read by the stock push (engine/stock_config.py), not by decide().
    stock: StockConfig | None = None

    def to_policy(self, tiktok_shop_id: str = "") -> Policy:
        values: dict[str, Any] = self.model_dump(exclude_none=True, exclude={"stock"})
        for name in DURATION_KEYS:
            if name in values:
                values[name] = timedelta(seconds=values[name])
        values["extra_tags"] = tuple(self.extra_tags)
        values["tiktok_shop_id"] = tiktok_shop_id
        return Policy(**values)


def policy_from_json(data: dict[str, Any] | None, tiktok_shop_id: str = "") -> Policy:
    """Validate stored policy JSON and build the domain ``Policy``."""
    try:
        return PolicyConfig.model_validate(data or {}).to_policy(tiktok_shop_id)
    except ValidationError as exc:
        problems = [
            f"policy.{'.'.join(str(p) for p in err['loc']) or '?'}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigurationError("invalid connection policy:\n  " + "\n  ".join(problems)) from exc
