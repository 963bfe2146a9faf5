"""The returns desk: requests waiting for the seller, read live from TikTok, and the seller's
answer (approve, or reject with a reason from TikTok's list). Used by ``orderbridge returns``
and ``/api/returns``. The rules (which decision fits, the order of the queue, auto-approval)
are ``domain/returns.py``; this module only fetches and sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from orderbridge.adapters.tiktok import ReturnFilter
from orderbridge.adapters.tiktok.after_sale import RejectReason, ReturnRequest
from orderbridge.adapters.tiktok.translate import to_domain_return
from orderbridge.domain.observed import ReturnRecord
from orderbridge.domain.returns import SELLER_STATUSES, SellerTask, auto_approvable, seller_tasks
from orderbridge.errors import ConfigurationError

__all__ = ["Answer", "ReturnsClient", "answer_return", "auto_approve", "pending_tasks", "task_json"]


class ReturnsClient(Protocol):
    """The part of ``TikTokClient`` the desk uses."""

    def iter_returns(self, filters: ReturnFilter | None = None, *, page_size: int = ...) -> AsyncIterator[
        ReturnRequest]: ...

    async def approve_return(self, return_id: str, decision: str, idempotency_key: str, *,
                             partial_refund: Decimal | None = None, currency: str = ...) -> None: ...

    async def reject_return(self, return_id: str, decision: str, reject_reason: str,
                            idempotency_key: str, *, comment: str = ...) -> None: ...

    async def reject_reasons(self, return_id: str, *, locale: str = ...) -> list[RejectReason]: ...


@dataclass(frozen=True, slots=True)
class Answer:
    return_id: str
    decision: str
    reason: str = ""


async def _records(client: ReturnsClient, filters: ReturnFilter) -> list[ReturnRecord]:
    return [to_domain_return(r) async for r in client.iter_returns(filters)]


async def pending_tasks(client: ReturnsClient) -> list[SellerTask]:
    """Requests the seller must answer, soonest deadline first."""
    return seller_tasks(await _records(client, ReturnFilter(return_status=SELLER_STATUSES)))


async def _one(client: ReturnsClient, return_id: str) -> ReturnRecord:
    found = await _records(client, ReturnFilter(return_ids=(return_id,)))
    if not found:
        raise ConfigurationError(f"TikTok has no return {return_id} for this shop")
    return found[0]


async def answer_return(client: ReturnsClient, return_id: str, *, approve: bool,
                        reason: str = "") -> Answer:
    """Approve, or reject with ``reason`` (a name from Get Reject Reasons). The decision is
    the one the request's state calls for; the idempotency key is the return id, decision and
    status, so a retry (or a second click) is answered by TikTok without acting twice."""
    tasks = seller_tasks([await _one(client, return_id)])
    if not tasks:
        raise ConfigurationError(f"return {return_id} is not waiting for the seller")
    task = tasks[0]
    key = f"{return_id}-{task.status.lower()}"
    if approve:
        await client.approve_return(return_id, task.approve, f"{key}-approve")
        return Answer(return_id, task.approve)
    names = [r.name for r in await client.reject_reasons(return_id)]
    if reason not in names:
        raise ConfigurationError(
            f"reject reason must be one of TikTok's for {return_id}: {', '.join(names) or 'none offered'}")
    await client.reject_return(return_id, task.reject, reason, f"{key}-reject")
    return Answer(return_id, task.reject, reason)


async def auto_approve(client: ReturnsClient, limit: Decimal | None) -> list[Answer]:
    """Policy: approve at once every pending refund-only request of at most ``limit``."""
    if limit is None:
        return []
    records = await _records(client, ReturnFilter(return_status=SELLER_STATUSES, return_types=("REFUND",)))
    answers = []
    for record in records:
        if auto_approvable(record, limit):
            answers.append(await answer_return(client, record.return_id, approve=True))
    return answers


def task_json(task: SellerTask, connection: str = "") -> dict[str, Any]:
    """One queue row as JSON (CLI ``--json`` and ``/api/returns``)."""
    return {
        "return_id": task.return_id, "tiktok_order_id": task.order_id, "return_type": task.return_type,
        "status": task.status, "deadline": task.deadline.isoformat() if task.deadline else None,
        "refund_total": f"{task.refund_total:.2f}", "approve_decision": task.approve,
        "reject_decision": task.reject, **({"connection": connection} if connection else {}),
    }
