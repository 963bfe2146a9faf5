"""A record of every call made to a remote API, for the order timeline and the dashboard.

Clients accept a ``CallRecorder`` and report each attempt (including retries and failures)
to it. The engine's recorder writes them to the database; tests use ``MemoryRecorder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = ["ApiCall", "CallRecorder", "MemoryRecorder", "NullRecorder"]


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One attempt against a remote API."""

    api: str  # "tiktok", "shopify", "amazon_mcf", "shipbob"
    operation: str  # e.g. "orders.search", "orderCreate"
    method: str
    path: str  # without host and without secrets
    started_at: datetime
    duration_ms: float
    status: int | None  # HTTP status; None when no response arrived
    ok: bool
    code: str | None = None  # vendor code (TikTok code, Shopify error/userError code)
    message: str | None = None
    request_id: str | None = None  # remote request id (TikTok request_id, Shopify X-Request-Id)
    attempt: int = 1
    order_ref: str | None = None  # TikTok order id or Shopify order gid when known
    details: dict[str, Any] = field(default_factory=dict)


class CallRecorder(Protocol):
    """Receives every ApiCall. Must not raise and must not block for long."""

    def record(self, call: ApiCall) -> None: ...


class NullRecorder:
    """Discards calls."""

    def record(self, call: ApiCall) -> None:
        return None


class MemoryRecorder:
    """Keeps calls in a list (tests, the demo)."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def record(self, call: ApiCall) -> None:
        self.calls.append(call)
