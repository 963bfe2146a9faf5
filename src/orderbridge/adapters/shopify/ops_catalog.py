"""GraphQL documents for product variants and webhook subscriptions (Admin API 2026-10)."""

from __future__ import annotations

from orderbridge.adapters.shopify.operation import (
    MUTATION_BASE_COST,
    Operation,
    OperationKind,
    connection_cost,
    int_var,
)

__all__ = [
    "INVENTORY_ITEM_LEVELS",
    "LOCATION_LEVELS",
    "PRODUCT_VARIANTS",
    "WEBHOOK_SUBSCRIPTIONS",
    "WEBHOOK_SUBSCRIPTION_CREATE",
]

PRODUCT_VARIANTS = Operation(
    name="ProductVariants",
    document="""
query ProductVariants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes { id sku title product { id title } inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    root_field="productVariants",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: connection_cost(int_var(v, "first", 50), 3) + 1,
)

INVENTORY_ITEM_LEVELS = Operation(
    name="InventoryItemLevels",
    document="""
query InventoryItemLevels($id: ID!, $first: Int!) {
  inventoryItem(id: $id) {
    id sku
    inventoryLevels(first: $first) {
      nodes { location { id name } quantities(names: ["available", "committed", "on_hand"]) { name quantity } }
    }
  }
}
""",
    root_field="inventoryItem",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: connection_cost(int_var(v, "first", 50), 3) + 1,
)

# One location's stock, a page of inventory items at a time (the full reconciliation reads
# a catalogue this way instead of one query per item).
LOCATION_LEVELS = Operation(
    name="LocationLevels",
    document="""
query LocationLevels($id: ID!, $first: Int!, $after: String) {
  location(id: $id) {
    id
    inventoryLevels(first: $first, after: $after) {
      nodes { item { id } quantities(names: ["available", "committed", "on_hand"]) { name quantity } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
""",
    root_field="location",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: connection_cost(int_var(v, "first", 50), 3) + 1,
)

# 2025-10 introduced the unified ``uri`` (HTTPS, Pub/Sub or EventBridge) on both the input
# and the object; ``callbackUrl`` is deprecated there.
WEBHOOK_SUBSCRIPTION_CREATE = Operation(
    name="WebhookSubscriptionCreate",
    document="""
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri format }
    userErrors { field message }
  }
}
""",
    root_field="webhookSubscriptionCreate",
    kind=OperationKind.MUTATION,
    retry_safe=True,  # a duplicate is refused ("has already been taken"), not doubled
    cost=MUTATION_BASE_COST + 1,
    user_errors_field="userErrors",
    already_done_messages=("already been taken",),
)

WEBHOOK_SUBSCRIPTIONS = Operation(
    name="WebhookSubscriptions",
    document="""
query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { id topic uri format }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    root_field="webhookSubscriptions",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: connection_cost(int_var(v, "first", 50), 1) + 1,
)
