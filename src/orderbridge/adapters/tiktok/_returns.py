"""Return and Refund endpoints of ``TikTokClient`` for the seller's answer (kept apart for
size): Approve Return, Reject Return and Get Reject Reasons (``/return_refund/202309``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.adapters.tiktok._catalog import CatalogEndpoints
from orderbridge.adapters.tiktok.after_sale import RejectReason, RejectReasons

__all__ = ["APPROVE_DECISIONS", "REJECT_DECISIONS", "ReturnEndpoints"]

MAX_KEY = 255  # idempotency_key: at most 255 characters
APPROVE_DECISIONS = frozenset({
    "APPROVE_REFUND", "APPROVE_RETURN", "APPROVE_RECEIVED_PACKAGE", "APPROVE_REPLACEMENT",
    "ISSUE_REPLACEMENT_REFUND", "OFFER_PARTIAL_REFUND",
})
REJECT_DECISIONS = frozenset({
    "REJECT_REFUND", "REJECT_RETURN", "REJECT_RECEIVED_PACKAGE", "REJECT_REPLACEMENT",
})


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"idempotency_key must be 1-{MAX_KEY} characters")


class ReturnEndpoints(CatalogEndpoints):
    """The seller's side of a buyer's return, refund or replacement request."""

    async def approve_return(self, return_id: str, decision: str, idempotency_key: str, *,
                             partial_refund: Decimal | None = None, currency: str = "USD") -> None:
        """Approve Return with ``decision``; ``OFFER_PARTIAL_REFUND`` needs ``partial_refund``.
        Retried safely: the same ``idempotency_key`` is answered without acting twice."""
        _check_key(idempotency_key)
        if decision not in APPROVE_DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(sorted(APPROVE_DECISIONS))}")
        if (decision == "OFFER_PARTIAL_REFUND") != (partial_refund is not None):
            raise ValueError("partial_refund goes with OFFER_PARTIAL_REFUND, and only with it")
        body: dict[str, Any] = {"decision": decision}
        if partial_refund is not None:
            body["partial_refund"] = {"currency": currency, "amount": f"{partial_refund:.2f}"}
        await self._call(
            "returns.approve", "POST", "/return_refund/202309/returns/{return_id}/approve",
            idempotent=True, path_params={"return_id": return_id},
            query={"idempotency_key": idempotency_key}, body=body,
        )

    async def reject_return(self, return_id: str, decision: str, reject_reason: str,
                            idempotency_key: str, *, comment: str = "") -> None:
        """Reject Return; ``reject_reason`` is a name from ``reject_reasons``."""
        _check_key(idempotency_key)
        if decision not in REJECT_DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(sorted(REJECT_DECISIONS))}")
        body: dict[str, Any] = {"decision": decision, "reject_reason": reject_reason}
        if comment:
            body["comment"] = comment
        await self._call(
            "returns.reject", "POST", "/return_refund/202309/returns/{return_id}/reject",
            idempotent=True, path_params={"return_id": return_id},
            query={"idempotency_key": idempotency_key}, body=body,
        )

    async def reject_reasons(self, return_id: str, *, locale: str = "en-US") -> list[RejectReason]:
        """Get Reject Reasons for one return (or cancellation)."""
        data = await self._call(
            "returns.reject_reasons", "GET", "/return_refund/202309/reject_reasons",
            idempotent=True, query={"return_or_cancel_id": return_id, "locale": locale},
        )
        return RejectReasons.model_validate(data).reasons
