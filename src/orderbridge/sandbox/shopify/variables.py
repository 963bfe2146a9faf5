"""Variable errors as Shopify's GraphQL server words them.

A variable whose value does not fit its declared type stops the request before anything
runs, and Shopify answers (graphql-ruby's wording; seen in Shopify answers quoted by client
code, e.g. "Variable $input of type ProductInput! was provided invalid value for variants
(Field is not defined on ProductInput)")::

    {"errors": [{"message": "Variable $order of type OrderCreateOrderInput! was provided
                  invalid value for fulfillment.shipmentStatus (Expected \"shipped\" to be one
                  of: ATTEMPTED_DELIVERY, ...)",
                 "locations": [{"line": 1, "column": 10}],
                 "extensions": {"code": "INVALID_VARIABLE", "value": {...the variable...},
                                "problems": [{"path": ["fulfillment", "shipmentStatus"],
                                              "explanation": "Expected ..."}]}}]}

Every problem of the variable is listed; those with a path are named in the message.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    print_ast,
)
from graphql.utilities import type_from_ast

__all__ = ["variable_errors"]

Path = list[str | int]


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)


def _problems(kind: GraphQLInputType, value: Any, path: Path, out: list[dict[str, Any]]) -> None:
    if isinstance(kind, GraphQLNonNull):
        if value is None:
            out.append({"path": path, "explanation": "Expected value to not be null"})
            return
        _problems(kind.of_type, value, path, out)
        return
    if value is None:
        return
    if isinstance(kind, GraphQLList):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            _problems(kind.of_type, item, [*path, index] if isinstance(value, list) else path, out)
        return
    if isinstance(kind, GraphQLInputObjectType):
        if not isinstance(value, dict):
            out.append({"path": path, "explanation": f"Expected {_shown(value)} to be a key-value object."})
            return
        for key in value:
            if key not in kind.fields:
                out.append({"path": [*path, key], "explanation": f"Field is not defined on {kind.name}"})
        for name, field in kind.fields.items():
            if name in value:
                _problems(field.type, value[name], [*path, name], out)
            elif isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined:
                out.append({"path": [*path, name], "explanation": "Expected value to not be null"})
        return
    if isinstance(kind, GraphQLEnumType):
        if not isinstance(value, str) or value not in kind.values:
            shown = value if isinstance(value, str) else _shown(value)
            out.append({"path": path,
                        "explanation": f'Expected "{shown}" to be one of: {", ".join(kind.values)}'})
        return
    if isinstance(kind, GraphQLScalarType):
        try:
            kind.parse_value(value)
        except (GraphQLError, TypeError, ValueError):
            out.append({"path": path, "explanation": f"Could not coerce value {_shown(value)} to {kind.name}"})


def variable_errors(schema: GraphQLSchema, operation: OperationDefinitionNode,
                    variables: dict[str, Any]) -> list[dict[str, Any]]:
    """Shopify's error entries for the operation's ill-typed variables (empty when all fit)."""
    errors: list[dict[str, Any]] = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        kind = type_from_ast(schema, definition.type)
        if kind is None:
            continue  # an unknown type is a validation error, reported before this
        if name not in variables and (definition.default_value is not None
                                      or not isinstance(kind, GraphQLNonNull)):
            continue
        value = variables.get(name)
        problems: list[dict[str, Any]] = []
        _problems(kind, value, [], problems)  # type: ignore[arg-type]
        if not problems:
            continue
        named = [f"{'.'.join(str(p) for p in problem['path'])} ({problem['explanation']})"
                 for problem in problems if problem["path"]]
        message = f"Variable ${name} of type {print_ast(definition.type)} was provided invalid value"
        if named:
            message += " for " + ", ".join(named)
        entry: dict[str, Any] = {"message": message}
        if definition.loc is not None:
            entry["locations"] = [{"line": definition.loc.source.get_location(definition.loc.start).line,
                                   "column": definition.loc.source.get_location(definition.loc.start).column}]
        entry["extensions"] = {"code": "INVALID_VARIABLE", "value": value, "problems": problems}
        errors.append(entry)
    return errors
