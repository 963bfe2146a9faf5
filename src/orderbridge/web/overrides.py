"""Operator overrides (the dashboard's buttons) written into a link's memory.

``decide()`` reads a person's choices from ``LinkMemory`` itself (``push_anyway``,
``dismissed``, ``cancels_person_approved``, ``tiktok_cancel_reason``, ``rejections``), so an
override is applied with LinkMemory's own methods (``allow_push_anyway``, ``dismiss``,
``approve_cancellation``, ``request_tiktok_cancel``, ``retry``). Each one is also appended
to ``memory["overrides"]`` as ``{code, action, at}`` (a trail; ``LinkMemory.from_json``
ignores the key, so the worker's next save may drop it — the timeline keeps the record).

The memory belongs to the worker that holds the link's lease, so an override is written
only while no lease is held, with the link's version checked and bumped by the worker's own
save (``link_overrides.save_unleased`` through ``links.save_link``); a leased link answers
``LinkBusy`` (HTTP 409: try again in a moment).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, Final

from orderbridge.adapters.db import (
    Connection,
    EventKind,
    ExceptionRow,
    LinkRow,
    events,
    link_overrides,
    links,
    order_exceptions,
)
from orderbridge.domain.exceptions import IssueAction
from orderbridge.domain.link import LinkMemory

__all__ = [
    "DEFAULT_TIKTOK_CANCEL_REASON",
    "LinkBusy",
    "OverrideRefused",
    "act_on_exception",
    "apply_override",
    "memory_change",
]

DEFAULT_TIKTOK_CANCEL_REASON: Final = "The seller cancelled the order in Shopify"
_ATTEMPTS: Final = 3
# Who holds the link for the instant of an override's write (never seen outside it).
_OWNER: Final = "operator-override"


class LinkBusy(RuntimeError):
    """A worker holds the link's lease right now."""


class OverrideRefused(ValueError):
    """The action does not apply (unknown, or the exception lacks what it needs)."""


def memory_change(
    action: str, code: str, data: dict[str, Any] | None, reason: str | None
) -> Callable[[LinkMemory], LinkMemory]:
    """The LinkMemory change for ``action`` on an exception ``code`` with ``data``."""
    info = data or {}
    if action == IssueAction.PUSH_ANYWAY:
        number = str(info.get("tracking_number") or "")
        if not number:
            raise OverrideRefused("push_anyway needs an exception naming a tracking number")
        return lambda m: m.allow_push_anyway(number)
    if action == IssueAction.APPROVE:
        cancel_id = str(info.get("cancel_id") or "")
        if not cancel_id:
            raise OverrideRefused("approve needs an exception naming a cancellation request")
        return lambda m: m.approve_cancellation(cancel_id)
    if action == IssueAction.CANCEL_ON_TIKTOK:
        text = reason or DEFAULT_TIKTOK_CANCEL_REASON
        return lambda m: m.request_tiktok_cancel(text)
    if action == IssueAction.DISMISS:
        return lambda m: m.dismiss(code)
    if action == IssueAction.RETRY:
        return lambda m: m.retry()
    if action == IssueAction.LINK_SKU:
        raise OverrideRefused("link the SKU with POST /api/sku-links (the order resumes by itself)")
    if action == IssueAction.RECONNECT:
        raise OverrideRefused("reconnect with `orderbridge connect tiktok` / `connect shopify`")
    known = ", ".join(a.value for a in IssueAction if a not in (IssueAction.LINK_SKU, IssueAction.RECONNECT))
    raise OverrideRefused(f"unknown action {action!r}; one of: {known}")


def apply_override(
    conn: Connection, link: LinkRow, *, action: str, code: str,
    change: Callable[[LinkMemory], LinkMemory], now: datetime, by: str | None = None,
) -> LinkRow:
    """Write ``change`` into the link's memory (unleased, version checked), due now; the
    timeline says who (``by``, the operator's user name) did it."""
    current: LinkRow | None = link
    for _ in range(_ATTEMPTS):
        if current is None:
            raise LookupError(f"link {link.id} no longer exists")
        if current.lease_owner is not None and current.lease_expires_at is not None \
                and current.lease_expires_at > now:
            raise LinkBusy(f"order {current.tiktok_order_id} is being processed; try again in a moment")
        memory = dict(current.memory)
        memory.update(change(LinkMemory.from_json(current.memory)).to_json())
        trail = memory.get("overrides")
        memory["overrides"] = [*(trail if isinstance(trail, list) else []),
                               {"code": code, "action": action, "at": now.isoformat(),
                                **({"by": by} if by else {})}]
        moved = link_overrides.save_unleased(conn, current, _OWNER, now=now, memory=memory)
        if moved is not None:
            links.count_shopify_hints(conn, [current.id])  # a person's action: look afresh
            links.mark_due(conn, now, ids=[current.id])
            events.append(conn, current.id, EventKind.EVENT,
                          f"operator: {action} on {code}" + (f" (by {by})" if by else ""),
                          {"action": action, "code": code, "by": by}, at=now,
                          connection_id=current.connection_id)
            fresh = links.get_link(conn, current.id)
            assert fresh is not None
            return fresh
        current = links.get_link(conn, link.id)
    raise LinkBusy(f"order {link.tiktok_order_id} keeps changing; try again in a moment")


def act_on_exception(
    conn: Connection, exception_id: int, action: str, reason: str | None, *, now: datetime, by: str,
    within: Collection[int] | None = None,
) -> tuple[ExceptionRow, LinkRow]:
    """Take an exception's action for an operator (the API's and the dashboard's buttons):
    written into the order's memory, on its timeline, the order due now; ``dismiss`` also
    closes the exception. LookupError for an unknown exception, or one of an order outside
    ``within`` (the connection ids the operator may see; None: all); OverrideRefused, LinkBusy."""
    found = order_exceptions.get_exception(conn, exception_id)
    link = links.get_link(conn, found.link_id) if found is not None else None
    if found is None or link is None or (within is not None and link.connection_id not in within):
        raise LookupError(f"no exception {exception_id}")
    change = memory_change(action, found.code, found.data, reason)
    fresh = apply_override(conn, link, action=action, code=found.code, change=change, now=now, by=by)
    if action == IssueAction.DISMISS:
        order_exceptions.dismiss(conn, exception_id, now=now)
    after = order_exceptions.get_exception(conn, exception_id)
    assert after is not None
    return after, fresh
