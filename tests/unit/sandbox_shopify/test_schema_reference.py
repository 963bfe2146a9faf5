"""The sandbox's schema against Shopify's 2026-10 reference, field for field.

tests/data/shopify_2026_10_types.json is the project's machine-readable description of the
types the engine uses, written from https://shopify.dev/docs/api/admin-graphql/2026-10/
(each type cites its page). A type of the sandbox that drifts from it (a field Shopify lacks,
a nullable one Shopify requires, a string where Shopify has an enum, a list where Shopify has
a connection, a deprecation forgotten) fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    print_ast,
)

from orderbridge.sandbox.shopify.executor import load_schema

REFERENCE = json.loads((Path(__file__).resolve().parents[2] / "data" / "shopify_2026_10_types.json")
                       .read_text(encoding="utf-8"))
TYPES: dict[str, dict[str, Any]] = REFERENCE["types"]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return load_schema()


def _with_default(value: GraphQLInputField | GraphQLArgument) -> str:
    text = str(value.type)
    default = value.ast_node.default_value if value.ast_node is not None else None
    return text + " = " + print_ast(default) if default is not None else text


def test_the_reference_pins_2026_10() -> None:
    assert REFERENCE["version"] == "2026-10"
    assert all(spec["url"].startswith("https://shopify.dev/docs/api/admin-graphql/2026-10/") for spec in TYPES.values())


@pytest.mark.parametrize("name", sorted(TYPES))
def test_sandbox_type_matches_the_reference(schema: GraphQLSchema, name: str) -> None:
    spec = TYPES[name]
    found = schema.get_type(name)
    assert found is not None, f"the sandbox has no type {name}"
    if spec["kind"] == "ENUM":
        assert isinstance(found, GraphQLEnumType)
        assert sorted(found.values) == spec["values"]
        return
    if spec["kind"] == "INPUT_OBJECT":
        assert isinstance(found, GraphQLInputObjectType)
        ours = {n: _with_default(f) for n, f in found.fields.items()}
        deprecated = sorted(n for n, f in found.fields.items() if f.deprecation_reason)
    else:
        assert isinstance(found, GraphQLObjectType)
        ours = {n: str(f.type) for n, f in found.fields.items()}
        deprecated = sorted(n for n, f in found.fields.items() if f.deprecation_reason and n in spec["fields"])
        for field, args in spec.get("args", {}).items():
            got = {a: _with_default(v) for a, v in found.fields[field].args.items()}
            assert got == args, f"{name}.{field} arguments"
    assert not set(spec.get("absent", [])) & set(ours), f"{name} has fields Shopify's 2026-10 lacks"
    if spec["complete"]:
        assert ours == spec["fields"]
    else:
        assert {n: ours.get(n) for n in spec["fields"]} == spec["fields"]
    assert deprecated == sorted(spec["deprecated"])
