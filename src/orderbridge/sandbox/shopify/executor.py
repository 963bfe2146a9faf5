"""Running one GraphQL request the way Shopify answers it.

Parse, validate (Shopify-style error codes on graphql-core's messages), price the query,
charge the bucket, execute, refund the difference, attach ``extensions.cost``. Nothing a
client sends can raise out of here: an internal error becomes Shopify's "Internal error".
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from orderbridge.sandbox.shopify import (
    resolvers_cancel,
    resolvers_catalog,
    resolvers_edit,
    resolvers_fulfillment,
    resolvers_orders,
    resolvers_shipments,
)
from orderbridge.sandbox.shopify.context import Ctx
from orderbridge.sandbox.shopify.cost import MAX_QUERY_COST, Buckets, actual_cost, requested_cost
from orderbridge.sandbox.shopify.variables import variable_errors

__all__ = ["GraphQLExecutor", "first_root_field", "load_schema"]

log = logging.getLogger(__name__)

RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"
MAX_VALIDATION_ERRORS = 25
# Parsed documents and their validation kept, by query text.
DOCUMENT_CACHE_SIZE = 512
_CODES = (
    ("Cannot query field", "undefinedField"),
    ("Unknown argument", "argumentNotAccepted"),
    ("is required, but it was not provided", "missingRequiredArguments"),
    ("Unknown type", "undefinedType"),
    ("Variable", "variableMismatch"),  # validation: a variable used where its type does not fit
    ("Unknown directive", "undefinedDirective"),
    ("must have a selection of subfields", "selectionMismatch"),
    ("must not have a selection", "selectionMismatch"),
    ("Expected value of type", "argumentLiteralsIncompatible"),
    ("cannot represent", "argumentLiteralsIncompatible"),
    ("Field", "fieldConflict"),
)


_UNDEFINED = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")


def load_schema() -> GraphQLSchema:
    """The SDL schema with every root resolver attached."""
    sdl = resources.files("orderbridge.sandbox.shopify").joinpath("schema.graphql").read_text()
    schema = build_schema(sdl)
    queries = (resolvers_orders.QUERIES | resolvers_cancel.QUERIES | resolvers_fulfillment.QUERIES
               | resolvers_catalog.QUERIES)
    mutations = (resolvers_orders.MUTATIONS | resolvers_cancel.MUTATIONS | resolvers_fulfillment.MUTATIONS
                 | resolvers_shipments.MUTATIONS | resolvers_catalog.MUTATIONS | resolvers_edit.MUTATIONS)
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    for name, resolver in queries.items():
        schema.query_type.fields[name].resolve = resolver
    for name, resolver in mutations.items():
        schema.mutation_type.fields[name].resolve = resolver
    missing = [n for n in schema.mutation_type.fields if n not in mutations]
    missing += [n for n in schema.query_type.fields if n not in queries]
    assert not missing, f"schema fields without resolvers: {missing}"
    return schema


def first_root_field(document: DocumentNode, operation_name: str | None) -> str:
    """The fault-plan key: the operation's first root field ("orderCreate", "order", ...)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return "unknown"
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            return selection.name.value
    return "unknown"


def _shape(error: GraphQLError, request_id: str, internal: bool = False) -> dict[str, Any]:
    if internal:
        return {"message": "Internal error. Looks like something went wrong on our end.\n"
                           f"Request ID: {request_id} (include this in support requests).",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}}
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    extensions = dict(error.extensions or {})
    if "code" not in extensions and error.path is None:
        extensions["code"] = next((code for text, code in _CODES if text in error.message), "validationError")
    match = _UNDEFINED.search(error.message)
    if match and extensions.get("code") == "undefinedField":
        extensions.update(typeName=match.group(2), fieldName=match.group(1))
    if extensions:
        out["extensions"] = extensions
    return out


class GraphQLExecutor:
    """Executes documents against the sandbox schema, with cost and throttling."""

    def __init__(self, buckets: Buckets) -> None:
        self.schema = load_schema()
        self.buckets = buckets
        # Validation errors per parsed document (the parse cache hands out the same
        # DocumentNode for the same text); the entry keeps its document alive, so the id
        # cannot be reused while it is cached.
        self._validated: dict[int, tuple[DocumentNode, list[GraphQLError]]] = {}

    def _validate(self, document: DocumentNode) -> list[GraphQLError]:
        hit = self._validated.get(id(document))
        if hit is not None and hit[0] is document:
            return hit[1]
        errors = validate(self.schema, document, max_errors=MAX_VALIDATION_ERRORS)
        if len(self._validated) >= DOCUMENT_CACHE_SIZE:
            self._validated.clear()
        self._validated[id(document)] = (document, errors)
        return errors

    def run(self, ctx: Ctx, document: DocumentNode, variables: dict[str, Any],
            operation_name: str | None) -> dict[str, Any]:
        """The JSON body of the answer (always HTTP 200 once we get here)."""
        errors = self._validate(document)
        if errors:
            return {"errors": [_shape(e, ctx.request_id) for e in errors]}
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            message = (f'No operation named "{operation_name}"' if operation_name
                       else "An operation name is required")
            return {"errors": [{"message": message, "extensions": {"code": "OPERATION_NOT_FOUND"}}]}
        ill_typed = variable_errors(self.schema, operation, variables)
        if ill_typed:
            return {"errors": ill_typed}
        return self._priced(ctx, document, operation, variables, operation_name)

    def _priced(self, ctx: Ctx, document: DocumentNode, operation: OperationDefinitionNode,
                variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
        requested = requested_cost(self.schema, document, operation, variables)
        root = next((s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)),
                    "unknown")
        tally = ctx.world.tally(ctx.shop.domain, ctx.app.id, root)
        tally.requests += 1
        bucket = self.buckets.get(ctx.app.id, ctx.shop.domain, ctx.shop.bucket_size, ctx.shop.restore_rate())
        if requested > MAX_QUERY_COST:
            return {"errors": [{
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                           f"({MAX_QUERY_COST}).\n\nSee {RATE_LIMITS_DOC} for more information on how the "
                           "cost of a query is calculated.\n\nTo query larger amounts of data with fewer "
                           "limits, bulk operations should be used instead.",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                        "throttleStatus": bucket.status()}}}
        if not self.buckets.take(bucket, requested):
            tally.throttled += 1
            return {"errors": [{"message": "Throttled",
                                "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC}}],
                    "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                            "throttleStatus": bucket.status()}}}
        body: dict[str, Any] = {}
        result = execute_sync(self.schema, document, context_value=ctx, variable_values=variables,
                              operation_name=operation_name)
        data, errors = result.data, result.errors
        if errors:
            shaped = []
            for error in errors:
                internal = error.original_error is not None and not isinstance(error.original_error, GraphQLError)
                if internal:
                    log.error("shopify sandbox resolver failed", exc_info=error.original_error)
                shaped.append(_shape(error, ctx.request_id, internal))
            body["errors"] = shaped
        body["data"] = data
        is_mutation = operation.operation is OperationType.MUTATION
        roots = len([s for s in operation.selection_set.selections if isinstance(s, FieldNode)])
        actual = min(requested, actual_cost(data, is_mutation, roots)) if data is not None else 0
        self.buckets.give_back(bucket, requested - actual)
        tally.requested_points += requested
        tally.actual_points += actual
        body["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                       "throttleStatus": bucket.status()}}
        return body


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parse(query: str) -> DocumentNode:
    return parse(query)


def parse_document(query: str) -> tuple[DocumentNode | None, dict[str, Any] | None]:
    """Parse, or Shopify's answer to a syntax error. Clients send the same few documents
    over and over, so parsed documents (and their validation) are cached by text, as a real
    GraphQL server does; documents are never mutated after parsing."""
    try:
        return _parse(query), None
    except GraphQLError as error:
        shaped: dict[str, Any] = {"message": error.message}
        if error.locations:
            shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        shaped["extensions"] = {"code": "parseError"}
        return None, {"errors": [shaped]}
