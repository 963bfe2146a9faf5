"""The API version the client calls per endpoint, in one place (docs/api-versions.md).

TikTok puts the version in the path (``/{category}/{version}/{resource}``). The client's
paths carry ``{version}``, filled from ``ENDPOINT_VERSIONS`` by operation name when a call is
sent, so moving an endpoint to a newer documented version is one line here (and the
sandbox serving it). Where TikTok's reference documents a newer stable version of a call
and the newer shape is one the client reads, the client uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["ENDPOINT_VERSIONS", "ORDER_DETAIL_VERSION", "endpoint_version", "versioned_path"]

# Get Order Detail: 202507 adds payment_method_code, payment_card_type, payment_auth_code
# to the 202309 shape (https://partner.tiktokshop.com/docv2/page/get-order-detail-202507).
ORDER_DETAIL_VERSION: Final = "202507"

ENDPOINT_VERSIONS: Final[Mapping[str, str]] = MappingProxyType({
    "shops.list": "202309",
    "orders.search": "202309",
    "orders.get": ORDER_DETAIL_VERSION,
    # Add External Order References exists only as 202406 (the Order API's 202406 release).
    "orders.add_external_references": "202406",
    "logistics.shipping_providers": "202309",
    "fulfillment.mark_shipped": "202309",
    "fulfillment.update_package_shipping_info": "202309",
    "fulfillment.update_shipping_info": "202309",
    "fulfillment.tracking": "202309",
    "cancellations.search": "202309",
    "cancellations.approve": "202309",
    "cancellations.seller_cancel": "202309",
    "returns.search": "202309",
    "products.search": "202309",
    "products.update_inventory": "202309",
    "products.inventory_search": "202309",
    "webhooks.list": "202309",
    "webhooks.update": "202309",
    "webhooks.delete": "202309",
})


def endpoint_version(operation: str) -> str:
    """The version the client calls ``operation`` at (KeyError for an operation not listed)."""
    return ENDPOINT_VERSIONS[operation]


def versioned_path(operation: str, template: str) -> str:
    """``template`` with its ``{version}`` segment filled for ``operation`` (unchanged without one)."""
    if "{version}" not in template:
        return template
    return template.replace("{version}", endpoint_version(operation))
