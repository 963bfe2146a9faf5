"""Every GraphQL document parses, names its operation and declares what it uses."""

from __future__ import annotations

import graphql
import pytest

from orderbridge.adapters.shopify import ops_catalog, ops_fulfillment, ops_orders
from orderbridge.adapters.shopify.operation import Operation, OperationKind
from orderbridge.adapters.shopify.ops_fulfillment import (
    REFUND_CREATE,
    REFUND_CREATE_IDEMPOTENT,
    refund_create_document,
)

OPERATIONS = [
    value
    for module in (ops_orders, ops_fulfillment, ops_catalog)
    for value in vars(module).values()
    if isinstance(value, Operation) and value is not REFUND_CREATE_IDEMPOTENT
]


def _definition(document: str) -> graphql.OperationDefinitionNode:
    parsed = graphql.parse(document)
    [definition] = parsed.definitions
    assert isinstance(definition, graphql.OperationDefinitionNode)
    return definition


def _used_variables(node: graphql.Node) -> set[str]:
    used: set[str] = set()

    class Visitor(graphql.Visitor):
        def enter_variable(self, variable: graphql.VariableNode, *_: object) -> None:
            used.add(variable.name.value)

    graphql.visit(node.selection_set if isinstance(node, graphql.OperationDefinitionNode) else node, Visitor())
    return used


def test_every_operation_is_listed() -> None:
    names = {op.name for op in OPERATIONS}
    assert {
        "ShopInfo", "Locations", "OrderCreate", "OrderUpdate", "OrderMarkAsPaid", "OrderCreateManualPayment",
        "OrderCancel", "Job", "Order", "Orders", "FulfillmentOrderHold", "FulfillmentOrderReleaseHold",
        "FulfillmentOrderSubmitCancellationRequest", "FulfillmentCreate", "OrderEditBegin",
        "OrderEditSetQuantity", "OrderEditAddVariant", "OrderEditCommit", "RefundCreate", "ProductVariants",
        "WebhookSubscriptionCreate", "WebhookSubscriptions",
    } <= names


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_document_parses_and_matches_its_declaration(operation: Operation) -> None:
    definition = _definition(operation.document)
    assert definition.name is not None
    assert definition.name.value == operation.name
    assert definition.operation.value == operation.kind.value
    roots = [s.name.value for s in definition.selection_set.selections if isinstance(s, graphql.FieldNode)]
    assert operation.root_field in roots
    declared = {d.variable.name.value for d in definition.variable_definitions or ()}
    assert _used_variables(definition) == declared  # nothing undeclared, nothing unused
    if operation.user_errors_field:
        assert operation.user_errors_field in operation.document
    if operation.kind is OperationKind.MUTATION:
        assert operation.estimate({}) >= 10  # a mutation costs at least 10 points


def test_order_snapshot_stays_under_the_single_query_limit() -> None:
    variables = {
        "lineItemsFirst": ops_orders.DEFAULT_ORDER_LINE_ITEMS_FIRST,
        "fulfillmentOrdersFirst": ops_orders.DEFAULT_FULFILLMENT_ORDERS_FIRST,
        "fulfillmentOrderLineItemsFirst": ops_orders.DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST,
        "fulfillmentsFirst": ops_orders.DEFAULT_FULFILLMENTS_FIRST,
        "fulfillmentLineItemsFirst": ops_orders.DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST,
    }
    assert ops_orders.ORDER.estimate(variables) < 1000
    bigger = {**variables, "fulfillmentOrdersFirst": 20, "fulfillmentOrderLineItemsFirst": 100}
    assert ops_orders.ORDER.estimate(bigger) > 1000  # why the defaults are smaller


def test_non_idempotent_mutations_are_never_retried_blindly() -> None:
    unsafe = {op.name for op in OPERATIONS if not op.retry_safe}
    assert {"OrderCreate", "OrderCancel", "FulfillmentCreate", "OrderMarkAsPaid",
            "OrderCreateManualPayment"} <= unsafe
    assert all(op.retry_safe for op in OPERATIONS if op.kind is OperationKind.QUERY)


def test_refund_directive_only_where_the_version_knows_it() -> None:
    operation, document = refund_create_document("2025-10", "refund-1")
    assert operation is REFUND_CREATE
    assert "@idempotent" not in document
    assert not operation.retry_safe

    operation, document = refund_create_document("2026-04", "7c3c6a52-1e7f-4a8e-9d0c-3b2f1d0e9a11")
    assert operation.retry_safe
    definition = _definition(document)
    [field] = definition.selection_set.selections
    assert isinstance(field, graphql.FieldNode)
    assert field.name.value == "refundCreate"
    [directive] = field.directives
    assert directive.name.value == "idempotent"
    [argument] = directive.arguments
    assert argument.name.value == "key"
    assert isinstance(argument.value, graphql.StringValueNode)
    assert argument.value.value == "7c3c6a52-1e7f-4a8e-9d0c-3b2f1d0e9a11"


@pytest.mark.parametrize("key", ["", 'a"b', "x" * 256, "with space"])
def test_refund_rejects_keys_that_could_break_the_document(key: str) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        refund_create_document("2026-04", key)
