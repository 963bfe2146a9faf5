"""GraphQL documents for holds, fulfilments, order edits and refunds (Admin API 2026-10)."""

from __future__ import annotations

import json
import re

from orderbridge.adapters.shopify.operation import (
    MUTATION_BASE_COST,
    Operation,
    OperationKind,
    connection_cost,
    int_var,
)

__all__ = [
    "DEFAULT_EDIT_LINE_ITEMS_FIRST",
    "FULFILLMENT_CREATE",
    "FULFILLMENT_ORDER_HOLD",
    "FULFILLMENT_ORDER_RELEASE_HOLD",
    "FULFILLMENT_ORDER_SUBMIT_CANCELLATION_REQUEST",
    "IDEMPOTENT_DIRECTIVE_SINCE",
    "ORDER_EDIT_ADD_CUSTOM_ITEM",
    "ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT",
    "ORDER_EDIT_ADD_VARIANT",
    "ORDER_EDIT_BEGIN",
    "ORDER_EDIT_COMMIT",
    "ORDER_EDIT_SET_QUANTITY",
    "REFUND_CREATE",
    "refund_create_document",
    "supports_version",
]

DEFAULT_EDIT_LINE_ITEMS_FIRST = 100
# ``@idempotent(key:)`` exists from 2026-01 (optional) and is mandatory for refundCreate
# from 2026-04; an older version rejects an unknown directive, so we only send it there.
IDEMPOTENT_DIRECTIVE_SINCE = "2026-01"
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")

FULFILLMENT_ORDER_HOLD = Operation(
    name="FulfillmentOrderHold",
    document="""
mutation FulfillmentOrderHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {
    fulfillmentHold { id handle reason heldByRequestingApp }
    fulfillmentOrder { id }
    remainingFulfillmentOrder { id }
    userErrors { code field message }
  }
}
""",
    root_field="fulfillmentOrderHold",
    kind=OperationKind.MUTATION,
    # Our handle is unique per app and fulfilment order: a resend is refused with a
    # duplicate-handle error, which ``already_done`` turns into success.
    retry_safe=True,
    cost=MUTATION_BASE_COST + 3,
    user_errors_field="userErrors",
    already_done_codes=frozenset({"TAKEN", "DUPLICATE_FULFILLMENT_HOLD_HANDLE"}),
)

FULFILLMENT_ORDER_RELEASE_HOLD = Operation(
    name="FulfillmentOrderReleaseHold",
    document="""
mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!]!, $externalId: String) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds, externalId: $externalId) {
    fulfillmentOrder { id status requestStatus fulfillmentHolds { id handle reason heldByRequestingApp } }
    userErrors { code field message }
  }
}
""",
    root_field="fulfillmentOrderReleaseHold",
    kind=OperationKind.MUTATION,
    retry_safe=True,  # releasing a released hold changes nothing
    cost=MUTATION_BASE_COST + 2,
    user_errors_field="userErrors",
)

FULFILLMENT_ORDER_SUBMIT_CANCELLATION_REQUEST = Operation(
    name="FulfillmentOrderSubmitCancellationRequest",
    document="""
mutation FulfillmentOrderSubmitCancellationRequest($id: ID!, $message: String) {
  fulfillmentOrderSubmitCancellationRequest(id: $id, message: $message) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message }
  }
}
""",
    root_field="fulfillmentOrderSubmitCancellationRequest",
    kind=OperationKind.MUTATION,
    retry_safe=True,  # a second request for the same fulfilment order is refused, not doubled
    cost=MUTATION_BASE_COST + 1,
    user_errors_field="userErrors",
)

FULFILLMENT_CREATE = Operation(
    name="FulfillmentCreate",
    document="""
mutation FulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status createdAt trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
""",
    root_field="fulfillmentCreate",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # a resend can create a second fulfilment
    cost=MUTATION_BASE_COST + 1 + 10,
    user_errors_field="userErrors",
)

_CALCULATED_LINE = (
    "id quantity editableQuantity sku title variant { id } "
    "originalUnitPriceSet { shopMoney { amount currencyCode } } "
    "discountedUnitPriceSet { shopMoney { amount currencyCode } } "
    "calculatedDiscountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }"
)

# The staged order's total: a swap is committed only when it leaves the total unchanged.
_CALCULATED_ORDER = "id totalPriceSet { shopMoney { amount currencyCode } }"
_CALCULATED_ORDER_COST = 3  # the order, its total, the shop money

ORDER_EDIT_BEGIN = Operation(
    name="OrderEditBegin",
    document=f"""
mutation OrderEditBegin($id: ID!, $lineItemsFirst: Int!) {{
  orderEditBegin(id: $id) {{
    calculatedOrder {{ {_CALCULATED_ORDER} lineItems(first: $lineItemsFirst) {{ nodes {{ {_CALCULATED_LINE} }} }} }}
    userErrors {{ field message }}
  }}
}}
""",
    root_field="orderEditBegin",
    kind=OperationKind.MUTATION,
    retry_safe=True,  # an unused edit session expires on its own
    cost=lambda v: MUTATION_BASE_COST + _CALCULATED_ORDER_COST + connection_cost(int_var(v, "lineItemsFirst", 100), 2),
    user_errors_field="userErrors",
)

ORDER_EDIT_SET_QUANTITY = Operation(
    name="OrderEditSetQuantity",
    document=f"""
mutation OrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!, $restock: Boolean) {{
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {{
    calculatedLineItem {{ {_CALCULATED_LINE} }}
    calculatedOrder {{ {_CALCULATED_ORDER} }}
    userErrors {{ field message }}
  }}
}}
""",
    root_field="orderEditSetQuantity",
    kind=OperationKind.MUTATION,
    retry_safe=True,  # sets an absolute quantity on the staged edit
    cost=MUTATION_BASE_COST + 2 + _CALCULATED_ORDER_COST,
    user_errors_field="userErrors",
)

ORDER_EDIT_ADD_VARIANT = Operation(
    name="OrderEditAddVariant",
    document=f"""
mutation OrderEditAddVariant($id: ID!, $variantId: ID!, $quantity: Int!, $locationId: ID, $allowDuplicates: Boolean) {{
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, locationId: $locationId, allowDuplicates: $allowDuplicates) {{
    calculatedLineItem {{ {_CALCULATED_LINE} }}
    calculatedOrder {{ {_CALCULATED_ORDER} }}
    userErrors {{ field message }}
  }}
}}
""",
    root_field="orderEditAddVariant",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # could stage the variant twice
    cost=MUTATION_BASE_COST + 2 + _CALCULATED_ORDER_COST,
    user_errors_field="userErrors",
)

ORDER_EDIT_ADD_CUSTOM_ITEM = Operation(
    name="OrderEditAddCustomItem",
    document=f"""
mutation OrderEditAddCustomItem($id: ID!, $title: String!, $price: MoneyInput!, $quantity: Int!, $taxable: Boolean, $requiresShipping: Boolean) {{
  orderEditAddCustomItem(id: $id, title: $title, price: $price, quantity: $quantity, taxable: $taxable, requiresShipping: $requiresShipping) {{
    calculatedLineItem {{ {_CALCULATED_LINE} }}
    calculatedOrder {{ {_CALCULATED_ORDER} }}
    userErrors {{ field message }}
  }}
}}
""",
    root_field="orderEditAddCustomItem",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # could stage the item twice
    cost=MUTATION_BASE_COST + 2 + _CALCULATED_ORDER_COST,
    user_errors_field="userErrors",
)

ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT = Operation(
    name="OrderEditAddLineItemDiscount",
    document=f"""
mutation OrderEditAddLineItemDiscount($id: ID!, $lineItemId: ID!, $discount: OrderEditAppliedDiscountInput!) {{
  orderEditAddLineItemDiscount(id: $id, lineItemId: $lineItemId, discount: $discount) {{
    calculatedLineItem {{ {_CALCULATED_LINE} }}
    calculatedOrder {{ {_CALCULATED_ORDER} }}
    userErrors {{ field message }}
  }}
}}
""",
    root_field="orderEditAddLineItemDiscount",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # could stage the discount twice
    cost=MUTATION_BASE_COST + 2 + _CALCULATED_ORDER_COST,
    user_errors_field="userErrors",
)

ORDER_EDIT_COMMIT = Operation(
    name="OrderEditCommit",
    document="""
mutation OrderEditCommit($id: ID!, $notifyCustomer: Boolean, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order { id }
    userErrors { field message }
  }
}
""",
    root_field="orderEditCommit",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # changes the order and its stock
    cost=MUTATION_BASE_COST + 1,
    user_errors_field="userErrors",
)

_REFUND_TEMPLATE = """
mutation RefundCreate($input: RefundInput!) {{
  refundCreate(input: $input){directive} {{
    refund {{ id createdAt totalRefundedSet {{ shopMoney {{ amount currencyCode }} }} }}
    order {{ id displayFinancialStatus }}
    userErrors {{ field message }}
  }}
}}
"""

REFUND_CREATE = Operation(
    name="RefundCreate",
    document=_REFUND_TEMPLATE.format(directive=""),
    root_field="refundCreate",
    kind=OperationKind.MUTATION,
    retry_safe=False,  # without the idempotency directive a resend refunds twice
    cost=MUTATION_BASE_COST + 5,
    user_errors_field="userErrors",
)

REFUND_CREATE_IDEMPOTENT = Operation(
    name=REFUND_CREATE.name,
    document=REFUND_CREATE.document,  # replaced per call by refund_create_document()
    root_field=REFUND_CREATE.root_field,
    kind=OperationKind.MUTATION,
    retry_safe=True,  # Shopify returns the original result for a repeated key
    cost=REFUND_CREATE.cost,
    user_errors_field="userErrors",
)


def supports_version(api_version: str, since: str) -> bool:
    """Whether ``api_version`` (``YYYY-MM`` or ``unstable``) is ``since`` or newer."""
    return api_version == "unstable" or api_version >= since


def refund_create_document(api_version: str, idempotency_key: str) -> tuple[Operation, str]:
    """The refundCreate operation and document for ``api_version``.

    From 2026-01 the document carries ``@idempotent(key: "...")`` and the operation may be
    retried; before, Shopify does not know the directive, so it is left out (and the
    operation is not retried automatically).
    """
    if not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise ValueError("idempotency key must be 1-255 characters of A-Z a-z 0-9 _ . : -")
    if not supports_version(api_version, IDEMPOTENT_DIRECTIVE_SINCE):
        return REFUND_CREATE, REFUND_CREATE.document
    directive = f" @idempotent(key: {json.dumps(idempotency_key)})"
    return REFUND_CREATE_IDEMPOTENT, _REFUND_TEMPLATE.format(directive=directive)
