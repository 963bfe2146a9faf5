"""What the transport needs to know about one GraphQL operation.

Each operation declares, next to its document: the root field whose payload carries the
result and ``userErrors``; whether it may be sent again when the outcome of an attempt is
unknown (a timeout after the request left); and an estimate of its *requested* cost, which
the throttle must see in the bucket before sending.

Requested cost follows Shopify's published rules: scalars and enums cost 0, an object 1,
a connection 2 plus ``first`` times the cost of one node, a mutation 10 plus its
selection. The estimates here round up; the real figure comes back in
``extensions.cost.requestedQueryCost`` and is used for the retry after a ``THROTTLED``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "MUTATION_BASE_COST",
    "CostEstimate",
    "Operation",
    "OperationKind",
    "connection_cost",
    "int_var",
]

MUTATION_BASE_COST = 10  # Shopify's documented default cost of a mutation
CONNECTION_BASE_COST = 2  # the connection object plus its pageInfo/edges wrapper

CostEstimate = Callable[[Mapping[str, Any]], int]


class OperationKind(StrEnum):
    """GraphQL operation types we send."""

    QUERY = "query"  # reads; always safe to send again
    MUTATION = "mutation"  # writes; safe to resend only if declared idempotent


def connection_cost(first: int, node_cost: int) -> int:
    """Requested cost of a connection of ``first`` nodes costing ``node_cost`` each."""
    return CONNECTION_BASE_COST + max(0, first) * max(1, node_cost)


def int_var(variables: Mapping[str, Any], name: str, default: int) -> int:
    """An integer variable (page size) or ``default`` when absent or malformed."""
    value = variables.get(name, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class Operation:
    """One named GraphQL operation and how to send it."""

    name: str  # the operationName inside the document; also what the call records show
    document: str
    root_field: str  # top-level field whose payload is the result
    kind: OperationKind
    retry_safe: bool  # may be re-sent after an attempt whose outcome is unknown
    cost: CostEstimate | int
    user_errors_field: str | None = None  # e.g. "userErrors", "orderCancelUserErrors"
    already_done_codes: frozenset[str] = frozenset()
    already_done_messages: tuple[str, ...] = ()

    def estimate(self, variables: Mapping[str, Any]) -> int:
        """Requested cost of sending this operation with ``variables``."""
        return self.cost if isinstance(self.cost, int) else max(1, self.cost(variables))
