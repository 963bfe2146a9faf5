"""What callers pass in: search filters and write payloads, turned into TikTok JSON.

Times are aware datetimes here and Unix seconds on the wire. ``extra`` carries any body
field not modelled yet, so a new TikTok filter needs no release of this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from orderbridge.clock import to_unix

__all__ = [
    "MAX_WAREHOUSE_IDS",
    "CancellationFilter",
    "ExternalLineItem",
    "ExternalOrderReference",
    "OrderFilter",
    "ProductFilter",
    "ReturnFilter",
    "SkuInventoryUpdate",
    "SkuQuantity",
    "SkuWarehouseStock",
    "SortOrder",
]

MAX_WAREHOUSE_IDS = 100


class SortOrder(StrEnum):
    """Sort direction of search endpoints."""

    ASC = "ASC"  # oldest first
    DESC = "DESC"  # newest first (TikTok's default)


def _put_times(body: dict[str, Any], **times: datetime | None) -> None:
    for name, value in times.items():
        if value is not None:
            body[name] = to_unix(value)


def _put(body: dict[str, Any], **values: Any) -> None:
    """Set the given fields, leaving out None and empty lists (TikTok: absent = no filter)."""
    for name, value in values.items():
        is_list = isinstance(value, Sequence) and not isinstance(value, str)
        if value is None or (is_list and not value):
            continue
        body[name] = list(value) if is_list else value


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Body of Get Order List (all optional)."""

    order_status: str | None = None
    create_time_ge: datetime | None = None
    create_time_lt: datetime | None = None
    update_time_ge: datetime | None = None
    update_time_lt: datetime | None = None
    shipping_type: str | None = None  # TIKTOK | SELLER
    buyer_user_id: str | None = None
    is_buyer_request_cancel: bool | None = None
    warehouse_ids: Sequence[str] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        if len(self.warehouse_ids) > MAX_WAREHOUSE_IDS:
            raise ValueError(f"at most {MAX_WAREHOUSE_IDS} warehouse_ids")
        body: dict[str, Any] = dict(self.extra)
        _put(
            body,
            order_status=self.order_status,
            shipping_type=self.shipping_type,
            buyer_user_id=self.buyer_user_id,
            is_buyer_request_cancel=self.is_buyer_request_cancel,
            warehouse_ids=self.warehouse_ids,
        )
        _put_times(
            body,
            create_time_ge=self.create_time_ge,
            create_time_lt=self.create_time_lt,
            update_time_ge=self.update_time_ge,
            update_time_lt=self.update_time_lt,
        )
        return body


@dataclass(frozen=True, slots=True)
class CancellationFilter:
    """Body of Search Cancellations (all optional)."""

    order_ids: Sequence[str] = ()
    cancel_ids: Sequence[str] = ()
    buyer_user_ids: Sequence[str] = ()
    cancel_types: Sequence[str] = ()  # CANCEL | BUYER_CANCEL
    cancel_status: Sequence[str] = ()
    create_time_ge: datetime | None = None
    create_time_lt: datetime | None = None
    update_time_ge: datetime | None = None
    update_time_lt: datetime | None = None
    locale: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extra)
        _put(
            body,
            order_ids=self.order_ids,
            cancel_ids=self.cancel_ids,
            buyer_user_ids=self.buyer_user_ids,
            cancel_types=self.cancel_types,
            cancel_status=self.cancel_status,
            locale=self.locale,
        )
        _put_times(
            body,
            create_time_ge=self.create_time_ge,
            create_time_lt=self.create_time_lt,
            update_time_ge=self.update_time_ge,
            update_time_lt=self.update_time_lt,
        )
        return body


@dataclass(frozen=True, slots=True)
class ReturnFilter:
    """Body of Search Returns (all optional)."""

    order_ids: Sequence[str] = ()
    return_ids: Sequence[str] = ()
    return_types: Sequence[str] = ()  # REFUND | RETURN_AND_REFUND | REPLACEMENT
    return_status: Sequence[str] = ()
    create_time_ge: datetime | None = None
    create_time_lt: datetime | None = None
    update_time_ge: datetime | None = None
    update_time_lt: datetime | None = None
    locale: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extra)
        _put(
            body,
            order_ids=self.order_ids,
            return_ids=self.return_ids,
            return_types=self.return_types,
            return_status=self.return_status,
            locale=self.locale,
        )
        _put_times(
            body,
            create_time_ge=self.create_time_ge,
            create_time_lt=self.create_time_lt,
            update_time_ge=self.update_time_ge,
            update_time_lt=self.update_time_lt,
        )
        return body


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """Body of Search Products (all optional)."""

    status: str | None = None
    seller_skus: Sequence[str] = ()
    create_time_ge: datetime | None = None
    create_time_le: datetime | None = None
    update_time_ge: datetime | None = None
    update_time_le: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extra)
        _put(body, status=self.status, seller_skus=self.seller_skus)
        _put_times(
            body,
            create_time_ge=self.create_time_ge,
            create_time_le=self.create_time_le,
            update_time_ge=self.update_time_ge,
            update_time_le=self.update_time_le,
        )
        return body


@dataclass(frozen=True, slots=True)
class SkuQuantity:
    """Units of one SKU, for a seller cancellation by SKU."""

    sku_id: str
    quantity: int

    def to_json(self) -> dict[str, Any]:
        return {"sku_id": self.sku_id, "quantity": self.quantity}


@dataclass(frozen=True, slots=True)
class SkuInventoryUpdate:
    """The absolute available quantity of one SKU (in one warehouse, if given)."""

    sku_id: str
    quantity: int
    warehouse_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.quantity < 0:
            raise ValueError("inventory quantity cannot be negative")
        stock: dict[str, Any] = {"quantity": self.quantity}
        if self.warehouse_id:
            stock["warehouse_id"] = self.warehouse_id
        return {"id": self.sku_id, "inventory": [stock]}


@dataclass(frozen=True, slots=True)
class SkuWarehouseStock:
    """A SKU's absolute available quantity in each of its warehouses, in one entry
    (``warehouse_id`` "" = the SKU's only warehouse, left out of the request)."""

    sku_id: str
    quantities: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        if not self.quantities:
            raise ValueError("no warehouse quantity given")
        stock: list[dict[str, Any]] = []
        for warehouse, quantity in self.quantities:
            if quantity < 0:
                raise ValueError("inventory quantity cannot be negative")
            entry: dict[str, Any] = {"quantity": quantity}
            if warehouse:
                entry["warehouse_id"] = warehouse
            stock.append(entry)
        return {"id": self.sku_id, "inventory": stock}


@dataclass(frozen=True, slots=True)
class ExternalLineItem:
    """One line: ``id`` is the line's id in the external system (Shopify), ``origin_id``
    the TikTok line item id (as Add External Order References defines them)."""

    id: str
    origin_id: str


@dataclass(frozen=True, slots=True)
class ExternalOrderReference:
    """Links a TikTok order to its external (Shopify) order."""

    order_id: str
    external_order_id: str
    platform: str = "SHOPIFY"
    line_items: Sequence[ExternalLineItem] = ()

    def to_json(self) -> dict[str, Any]:
        external: dict[str, Any] = {"id": self.external_order_id, "platform": self.platform}
        if self.line_items:
            external["line_items"] = [
                {"id": li.id, "origin_id": li.origin_id} for li in self.line_items
            ]
        return {"id": self.order_id, "external_order": external}
