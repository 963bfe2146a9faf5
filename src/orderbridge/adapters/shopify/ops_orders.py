"""GraphQL documents for the store, orders, payments and cancellation (Admin API 2026-10).

Field and argument names are those of the 2026-10 reference on shopify.dev. Variables are
declared non-null whenever we always send a value: a non-null variable is valid for both a
nullable and a non-null argument, so the documents do not depend on details we could not
confirm (e.g. whether ``notifyCustomer`` is nullable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderbridge.adapters.shopify.operation import (
    MUTATION_BASE_COST,
    Operation,
    OperationKind,
    connection_cost,
    int_var,
)

__all__ = [
    "DEFAULT_FULFILLMENTS_FIRST",
    "DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST",
    "DEFAULT_FULFILLMENT_ORDERS_FIRST",
    "DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST",
    "DEFAULT_ORDER_LINE_ITEMS_FIRST",
    "JOB",
    "LOCATIONS",
    "ORDER",
    "ORDERS",
    "ORDER_CANCEL",
    "ORDER_CREATE",
    "ORDER_CREATE_MANUAL_PAYMENT",
    "ORDER_FULFILLMENT_ORDERS",
    "ORDER_MARK_AS_PAID",
    "ORDER_REFUNDS",
    "ORDER_SUGGESTED_REFUND",
    "ORDER_UPDATE",
    "SHOP_INFO",
]

# The order snapshot selects only what the engine's decisions read: Shopify charges every
# object returned (a money bag 2, an attribute 1, a location 2 per fulfilment order), and
# the order is read several times in its life, so totals, the order's attributes and the
# fulfilment orders' locations are left out (the create's answer carries the totals).
# Page sizes of the order snapshot. A single query may not request more than 1000 points,
# and nested connections multiply (20 fulfilment orders x 100 lines alone is ~4000), so the
# defaults keep the whole snapshot near 650 points; ``truncated`` says when a list was cut.
DEFAULT_ORDER_LINE_ITEMS_FIRST = 50
DEFAULT_FULFILLMENT_ORDERS_FIRST = 5
DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST = 20
DEFAULT_FULFILLMENTS_FIRST = 5
DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST = 20
TRACKING_INFO_FIRST = 10  # literal in the documents below
MONEY_BAG_COST = 2  # MoneyBag + shopMoney

SHOP_INFO = Operation(
    name="ShopInfo",
    document="""
query ShopInfo {
  shop { id name myshopifyDomain currencyCode ianaTimezone }
  currentAppInstallation { id accessScopes { handle } }
}
""",
    root_field="shop",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=5,
)

LOCATIONS = Operation(
    name="Locations",
    document="""
query Locations($first: Int!) {
  locations(first: $first) {
    nodes { id name isActive fulfillsOnlineOrders }
  }
}
""",
    root_field="locations",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: connection_cost(int_var(v, "first", 50), 1),
)

_MONEY = "{ shopMoney { amount currencyCode } }"

ORDER_CREATE = Operation(
    name="OrderCreate",
    document=f"""
mutation OrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput, $lineItemsFirst: Int!) {{
  orderCreate(order: $order, options: $options) {{
    order {{
      id name createdAt sourceIdentifier displayFinancialStatus displayFulfillmentStatus
      totalPriceSet {_MONEY}
      totalOutstandingSet {_MONEY}
      lineItems(first: $lineItemsFirst) {{
        nodes {{ id sku title quantity currentQuantity variant {{ id }} customAttributes {{ key value }} }}
      }}
    }}
    userErrors {{ code field message }}
  }}
}}
""",
    root_field="orderCreate",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # not idempotent: a resend makes a second order
    cost=lambda v: MUTATION_BASE_COST + 1 + 2 * MONEY_BAG_COST + connection_cost(int_var(v, "lineItemsFirst", 50), 3),
    user_errors_field="userErrors",
)

ORDER_UPDATE = Operation(
    name="OrderUpdate",
    document="""
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id tags note email }
    userErrors { field message }
  }
}
""",
    root_field="orderUpdate",
    kind=OperationKind.MUTATION,
    retry_safe=True,  # sets values: sending the same input twice gives the same order
    cost=MUTATION_BASE_COST + 1,
    user_errors_field="userErrors",
)

_PAYMENT_ORDER = f"order {{ id displayFinancialStatus totalOutstandingSet {_MONEY} }}"

ORDER_MARK_AS_PAID = Operation(
    name="OrderMarkAsPaid",
    document=f"""
mutation OrderMarkAsPaid($input: OrderMarkAsPaidInput!) {{
  orderMarkAsPaid(input: $input) {{
    {_PAYMENT_ORDER}
    userErrors {{ field message }}
  }}
}}
""",
    root_field="orderMarkAsPaid",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # records a sale transaction
    cost=MUTATION_BASE_COST + 1 + MONEY_BAG_COST,
    user_errors_field="userErrors",
)

ORDER_CREATE_MANUAL_PAYMENT = Operation(
    name="OrderCreateManualPayment",
    document=f"""
mutation OrderCreateManualPayment($id: ID!, $amount: MoneyInput, $paymentMethodName: String, $processedAt: DateTime) {{
  orderCreateManualPayment(id: $id, amount: $amount, paymentMethodName: $paymentMethodName, processedAt: $processedAt) {{
    {_PAYMENT_ORDER}
    userErrors {{ code field message }}
  }}
}}
""",
    root_field="orderCreateManualPayment",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # records a payment transaction
    cost=MUTATION_BASE_COST + 1 + MONEY_BAG_COST,
    user_errors_field="userErrors",
)

ORDER_CANCEL = Operation(
    name="OrderCancel",
    document="""
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput!, $notifyCustomer: Boolean!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}
""",
    root_field="orderCancel",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # starts a job; the engine checks the order before resending
    cost=MUTATION_BASE_COST + 1,
    user_errors_field="orderCancelUserErrors",
)

JOB = Operation(
    name="Job",
    document="""
query Job($id: ID!) {
  job(id: $id) { id done }
}
""",
    root_field="job",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=1,
)


ORDER_REFUNDS = Operation(
    name="OrderRefunds",
    document="""
query OrderRefunds($id: ID!, $first: Int!) {
  order(id: $id) {
    id
    refunds(first: $first) { id note createdAt }
    transactions(first: $first) { id kind status gateway amountSet { shopMoney { amount currencyCode } } }
  }
}
""",
    root_field="order",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: 1 + 2 * int_var(v, "first", 50),
)


# Shopify's own split of a refund (lines, their tax, shipping and its tax) and how much it
# still holds, before ``refundCreate`` (Order.suggestedRefund).
ORDER_SUGGESTED_REFUND = Operation(
    name="OrderSuggestedRefund",
    document="""
query OrderSuggestedRefund($id: ID!, $lines: [RefundLineItemInput!], $shipping: Money) {
  order(id: $id) {
    id
    suggestedRefund(refundLineItems: $lines, shippingAmount: $shipping) {
      amountSet { shopMoney { amount currencyCode } }
      subtotalSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount currencyCode } }
      maximumRefundableSet { shopMoney { amount currencyCode } }
      shipping {
        amountSet { shopMoney { amount currencyCode } }
        maximumRefundableSet { shopMoney { amount currencyCode } }
        taxSet { shopMoney { amount currencyCode } }
      }
    }
  }
}
""",
    root_field="order",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: 1 + 8 * MONEY_BAG_COST,
)


# The fulfilment orders of an order, as both the snapshot and the lean read select them.
_FULFILLMENT_ORDERS = """fulfillmentOrders(first: $fulfillmentOrdersFirst) {
      nodes {
        id status requestStatus
        assignedLocation { location { id } }
        fulfillmentHolds { id handle reason heldByRequestingApp }
        lineItems(first: $fulfillmentOrderLineItemsFirst) {
          nodes { id remainingQuantity totalQuantity lineItem { id } }
          pageInfo { hasNextPage }
        }
      }
      pageInfo { hasNextPage }
    }"""


def _fulfillment_orders_cost(v: Mapping[str, Any]) -> int:
    fos = int_var(v, "fulfillmentOrdersFirst", DEFAULT_FULFILLMENT_ORDERS_FIRST)
    fo_lines = int_var(v, "fulfillmentOrderLineItemsFirst", DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST)
    fo_node = 1 + 2 + 1 + connection_cost(fo_lines, 2)  # node, assigned location, holds, lines
    return connection_cost(fos, fo_node) + 1


def _order_cost(v: Mapping[str, Any]) -> int:
    lines = int_var(v, "lineItemsFirst", DEFAULT_ORDER_LINE_ITEMS_FIRST)
    fuls = int_var(v, "fulfillmentsFirst", DEFAULT_FULFILLMENTS_FIRST)
    ful_lines = int_var(v, "fulfillmentLineItemsFirst", DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST)
    order = 1 + 3 * MONEY_BAG_COST  # the order, its current total, outstanding amount and tax
    line_items = connection_cost(lines, 3) + 1  # node + variant + attributes; pageInfo
    fulfillment_orders = _fulfillment_orders_cost(v)
    fulfillment_node = 1 + TRACKING_INFO_FIRST + connection_cost(ful_lines, 2)
    fulfillments = max(1, fuls) * fulfillment_node
    return order + line_items + fulfillment_orders + fulfillments


ORDER = Operation(
    name="Order",
    document=f"""
query Order($id: ID!, $lineItemsFirst: Int!, $fulfillmentOrdersFirst: Int!, $fulfillmentOrderLineItemsFirst: Int!, $fulfillmentsFirst: Int!, $fulfillmentLineItemsFirst: Int!) {{
  order(id: $id) {{
    id name createdAt updatedAt sourceName sourceIdentifier tags note
    cancelledAt cancelReason closed displayFinancialStatus displayFulfillmentStatus
    currentTotalPriceSet {_MONEY} totalOutstandingSet {_MONEY} currentTotalTaxSet {_MONEY}
    lineItems(first: $lineItemsFirst) {{
      nodes {{ id sku title quantity currentQuantity variant {{ id }} customAttributes {{ key value }} }}
      pageInfo {{ hasNextPage }}
    }}
    {_FULFILLMENT_ORDERS}
    fulfillments(first: $fulfillmentsFirst) {{
      id status createdAt updatedAt
      trackingInfo(first: {TRACKING_INFO_FIRST}) {{ company number url }}
      fulfillmentLineItems(first: $fulfillmentLineItemsFirst) {{
        nodes {{ lineItem {{ id }} quantity }}
        pageInfo {{ hasNextPage }}
      }}
    }}
  }}
}}
""",
    root_field="order",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=_order_cost,
)

# The cheapest read that finds what to hold: each fulfilment order's id, status and holds
# (Shopify charges an object a point, so no location and no lines: the hold needs neither).
ORDER_FULFILLMENT_ORDERS = Operation(
    name="OrderFulfillmentOrders",
    document="""
query OrderFulfillmentOrders($id: ID!, $fulfillmentOrdersFirst: Int!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: $fulfillmentOrdersFirst) {
      nodes { id status requestStatus fulfillmentHolds { id handle reason heldByRequestingApp } }
      pageInfo { hasNextPage }
    }
  }
}
""",
    root_field="order",
    kind=OperationKind.QUERY,
    retry_safe=True,
    # the order, the connection and per node itself and its holds (a list of objects)
    cost=lambda v: 1 + connection_cost(int_var(v, "fulfillmentOrdersFirst", DEFAULT_FULFILLMENT_ORDERS_FIRST), 2) + 1,
)

ORDERS = Operation(
    name="Orders",
    document="""
query Orders($first: Int!, $query: String!, $after: String) {
  orders(first: $first, query: $query, after: $after, sortKey: CREATED_AT, reverse: true) {
    nodes { id name tags sourceIdentifier createdAt cancelledAt }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    root_field="orders",
    kind=OperationKind.QUERY,
    retry_safe=True,
    cost=lambda v: connection_cost(int_var(v, "first", 10), 1) + 1,
)
