"""Calculated query cost and the leaky bucket per (app, shop).

Requested cost, from the parsed document (Shopify's documented defaults): scalar and enum
fields 0, an object 1, a connection 2 + first/last x (cost of one node), a mutation 10.
Actual cost counts what came back. The bucket leaks on ``time.monotonic`` (throughput is
real time, not the story's virtual time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)

__all__ = ["MAX_QUERY_COST", "MUTATION_COST", "Bucket", "Buckets", "actual_cost", "requested_cost"]

MAX_QUERY_COST = 1000
MUTATION_COST = 10
CONNECTION_BASE_COST = 2


def _arg(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, variables)
    return None


def _is_list(t: GraphQLOutputType) -> bool:
    inner = t.of_type if isinstance(t, GraphQLNonNull) else t
    return isinstance(inner, GraphQLList)


class _Coster:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.schema, self.variables = schema, variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def fields(self, selection: SelectionSetNode | None, seen: frozenset[str] = frozenset()) -> list[FieldNode]:
        out: list[FieldNode] = []
        for sel in selection.selections if selection else ():
            if isinstance(sel, FieldNode):
                out.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                out.extend(self.fields(sel.selection_set, seen))
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                frag = self.fragments.get(sel.name.value)
                if frag is not None:
                    out.extend(self.fields(frag.selection_set, seen | {sel.name.value}))
        return out

    def selection(self, parent: Any, selection: SelectionSetNode | None) -> int:
        return sum(self.field(parent, f) for f in self.fields(selection))

    def field(self, parent: Any, node: FieldNode) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        if named.name.endswith("Connection"):
            size = _arg(node, "first", self.variables) or _arg(node, "last", self.variables) or 0
            per_node = 0
            for child in self.fields(node.selection_set):
                child_def = named.fields.get(child.name.value)
                if child_def is None or child.name.value == "pageInfo":
                    continue
                child_type = get_named_type(child_def.type)
                if child.name.value == "edges":
                    for edge_child in self.fields(child.selection_set):
                        if edge_child.name.value == "node" and isinstance(child_type, GraphQLObjectType):
                            per_node += self.field(child_type, edge_child)
                else:
                    per_node += 1 + self.selection(child_type, child.selection_set)
            return CONNECTION_BASE_COST + int(size) * per_node
        inner = 1 + self.selection(named, node.selection_set)
        if _is_list(definition.type):
            size = _arg(node, "first", self.variables)
            return inner * int(size) if isinstance(size, int) and size > 0 else inner
        return inner


def requested_cost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                   variables: dict[str, Any]) -> int:
    """The requested cost of ``operation``."""
    coster = _Coster(schema, document, variables)
    roots = coster.fields(operation.selection_set)
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST * len([f for f in roots if not f.name.value.startswith("__")])
    return sum(coster.field(schema.query_type, f) for f in roots)


def actual_cost(data: Any, is_mutation: bool, root_fields: int) -> int:
    """What the answer really cost: one point per object returned (mutations: 10 each)."""
    if is_mutation:
        return MUTATION_COST * root_fields

    def walk(value: Any, top: bool = False) -> int:
        if isinstance(value, list):
            return sum(walk(v) for v in value)
        if not isinstance(value, dict):
            return 0
        if "pageInfo" in value or "edges" in value or "nodes" in value:
            nodes = value.get("nodes") or [e.get("node") for e in value.get("edges") or [] if isinstance(e, dict)]
            return CONNECTION_BASE_COST + sum(walk(n) for n in nodes)
        return (0 if top else 1) + sum(walk(v) for v in value.values())

    return walk(data, top=True)


@dataclass
class Bucket:
    maximum: float
    rate: float
    available: float
    updated: float

    def refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self.updated) * self.rate)
        self.updated = now

    def status(self) -> dict[str, Any]:
        return {"maximumAvailable": float(self.maximum), "currentlyAvailable": int(self.available),
                "restoreRate": float(self.rate)}


@dataclass
class Buckets:
    """One leaky bucket per (app id, shop domain)."""

    monotonic: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[int, str], Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, app_id: int, shop: str, maximum: float, rate: float) -> Bucket:
        now = self.monotonic()
        with self._lock:
            bucket = self._buckets.get((app_id, shop))
            if bucket is None:
                bucket = self._buckets[(app_id, shop)] = Bucket(maximum, rate, maximum, now)
            bucket.refill(now)
            if (bucket.maximum, bucket.rate) != (maximum, rate):  # plan or size changed
                bucket.maximum, bucket.rate = maximum, rate
                bucket.available = min(bucket.available, maximum)
            return bucket

    def take(self, bucket: Bucket, cost: float) -> bool:
        with self._lock:
            if cost > bucket.available:
                return False
            bucket.available -= cost
            return True

    def give_back(self, bucket: Bucket, points: float) -> None:
        with self._lock:
            bucket.available = min(bucket.maximum, bucket.available + max(0.0, points))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
