"""The order link's persistent memory: what we have done about one TikTok order.

``LinkMemory`` is frozen and round-trips through a JSON dict (``to_json``/``from_json``), the
``memory`` column of ``order_links``. ``decide`` returns a new memory; the engine records
each action's outcome with ``apply_outcome`` (in ``outcome.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "CANCEL_JOB_WAIT",
    "LinkMemory",
    "LinkState",
    "PushedPackage",
    "Rejection",
    "UnitAllocation",
]


# How long an orderCancel job we started counts as running when no read shows it finished.
CANCEL_JOB_WAIT = timedelta(minutes=10)


class LinkState(StrEnum):
    """Where the mirror of one order stands (values are stored: never rename)."""

    NEW = "new"  # nothing created yet (waiting for the policy, or blocked by an exception)
    CREATING = "creating"  # the create attempt is recorded; its outcome is not (yet) known
    CREATE_UNKNOWN = "create_unknown"  # the create's outcome was lost: searching Shopify
    CREATED_HELD = "created_held"  # the Shopify order exists under our hold
    RELEASED = "released"  # our hold is released (or was by hand): the merchant ships
    CANCELLING = "cancelling"  # Shopify cancel sent; its job has not finished
    CANCELLED = "cancelled"  # the Shopify order is cancelled (or never made: cancelled first)
    SKIPPED = "skipped"  # not ours under the policy (TikTok-shipped, skipped sample)
    GONE = "gone"  # the Shopify order was deleted by the merchant: never re-created
    DONE = "done"  # finished: delivered + 90 days passed, nothing more to do


@dataclass(frozen=True, slots=True)
class UnitAllocation:
    """One TikTok unit assigned to a Shopify fulfilment (stable across retries)."""

    line_id: str
    shopify_line_item_id: str
    fulfillment_id: str


@dataclass(frozen=True, slots=True)
class PushedPackage:
    """A package TikTok has: the fulfilment it came from and what was sent."""

    fulfillment_id: str
    tracking_number: str
    provider_id: str
    line_ids: tuple[str, ...]
    pushed_at: datetime
    package_id: str = ""
    corrections: int = 0


@dataclass(frozen=True, slots=True)
class Rejection:
    """An action a remote refused: not repeated before ``at`` + the policy's retry time."""

    key: str
    target: str
    message: str
    at: datetime


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMemory:
    """The link's state. Tuples of ids are sets kept in insertion order (stable JSON)."""

    state: LinkState = LinkState.NEW
    shopify_order_id: str | None = None
    first_seen_at: datetime | None = None
    first_seen_awaiting_at: datetime | None = None
    create_attempted_at: datetime | None = None
    create_attempts: int = 0
    search_started_at: datetime | None = None
    empty_searches: int = 0
    last_empty_search_at: datetime | None = None
    held_fulfillment_order_ids: tuple[str, ...] = ()
    released_fulfillment_order_ids: tuple[str, ...] = ()
    hold_released_by_hand: bool = False
    released_at: datetime | None = None
    payment_recorded: bool = False
    address_fingerprint: str = ""
    cancel_sent_at: datetime | None = None
    cancel_job_id: str = ""  # the orderCancel job Shopify started (for the timeline)
    fs_cancel_requested_at: datetime | None = None
    threepl_cancel_requested: bool = False
    threepl_routed: str = ""  # the reference of the 3PL order route_to created
    threepl_searched_at: datetime | None = None  # the last fallback search for the 3PL order
    allocation: tuple[UnitAllocation, ...] = ()
    packages: tuple[PushedPackage, ...] = ()
    removed_line_ids: tuple[str, ...] = ()
    # Shopify custom lines left in place because their variant costs less than the buyer paid
    custom_lines_kept: tuple[str, ...] = ()
    cancels_approved: tuple[str, ...] = ()
    cancels_person_approved: tuple[str, ...] = ()
    refunds_done: tuple[str, ...] = ()
    returns_approved: tuple[str, ...] = ()
    notes_written: tuple[str, ...] = ()
    push_anyway: tuple[str, ...] = ()
    push_anyway_used: int = 0
    dismissed: tuple[str, ...] = ()
    tiktok_cancel_reason: str = ""
    tiktok_cancel_done: bool = False
    masked_since: datetime | None = None
    rejections: tuple[Rejection, ...] = ()
    last_tiktok_status: str = ""

    # --- person overrides (the dashboard's buttons) ---

    def allow_push_anyway(self, tracking_number: str) -> LinkMemory:
        """A person accepts this tracking number despite INVALID_TRACKING (counted on use)."""
        return replace(self, push_anyway=_add(self.push_anyway, tracking_number.strip().upper()))

    def dismiss(self, code: str) -> LinkMemory:
        """A person acknowledged the issue ``code``: stop raising it on this order."""
        return replace(self, dismissed=_add(self.dismissed, code))

    def cancel_job_pending(self, now: datetime) -> bool:
        """Whether the ``orderCancel`` job we started may still be running at ``now``.

        Shopify cancels asynchronously and an order read cannot show a running job, so for
        ``CANCEL_JOB_WAIT`` after the cancel is sent the job counts as running (no second
        cancel); the read's ``cancelled_at`` ends the wait earlier (done is done).
        """
        return (
            self.state is LinkState.CANCELLING
            and self.cancel_sent_at is not None
            and now < self.cancel_sent_at + CANCEL_JOB_WAIT
        )

    def approve_cancellation(self, cancel_id: str) -> LinkMemory:
        """A person approves a buyer's request: the desk stops the goods, then approves."""
        return replace(self, cancels_person_approved=_add(self.cancels_person_approved, cancel_id))

    def request_tiktok_cancel(self, reason: str) -> LinkMemory:
        """A person chose "cancel on TikTok too" for a SHOPIFY_CANCELLED order."""
        return replace(self, tiktok_cancel_reason=reason)

    def retry(self) -> LinkMemory:
        """A person asks for refused actions to be tried again now."""
        return replace(self, rejections=())

    # --- queries ---

    def allocated(self) -> dict[str, UnitAllocation]:
        """TikTok line id -> its allocation."""
        return {a.line_id: a for a in self.allocation}

    def package_of(self, fulfillment_id: str) -> PushedPackage | None:
        """The package pushed for a Shopify fulfilment, if any."""
        return next((p for p in self.packages if p.fulfillment_id == fulfillment_id), None)

    def rejection(self, key: str) -> Rejection | None:
        """The remembered rejection of the action named ``key``, if any."""
        return next((r for r in self.rejections if r.key == key), None)

    # --- JSON ---

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 text)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                out[f.name] = _dt(value)
            elif f.name == "allocation":
                out[f.name] = [[a.line_id, a.shopify_line_item_id, a.fulfillment_id] for a in value]
            elif f.name == "packages":
                out[f.name] = [
                    {
                        "fulfillment_id": p.fulfillment_id,
                        "tracking_number": p.tracking_number,
                        "provider_id": p.provider_id,
                        "line_ids": list(p.line_ids),
                        "pushed_at": _dt(p.pushed_at),
                        "package_id": p.package_id,
                        "corrections": p.corrections,
                    }
                    for p in value
                ]
            elif f.name == "rejections":
                out[f.name] = [
                    {"key": r.key, "target": r.target, "message": r.message, "at": _dt(r.at)}
                    for r in value
                ]
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkMemory:
        """Read ``to_json``'s output back; unknown keys are ignored, missing ones default."""
        default = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            raw = data[f.name]
            current = getattr(default, f.name)
            if f.name == "state":
                values[f.name] = LinkState(raw)
            elif f.name == "allocation":
                values[f.name] = tuple(UnitAllocation(*item) for item in raw)
            elif f.name == "packages":
                values[f.name] = tuple(
                    PushedPackage(
                        fulfillment_id=p["fulfillment_id"],
                        tracking_number=p["tracking_number"],
                        provider_id=p["provider_id"],
                        line_ids=tuple(p["line_ids"]),
                        pushed_at=datetime.fromisoformat(p["pushed_at"]),
                        package_id=p.get("package_id", ""),
                        corrections=int(p.get("corrections", 0)),
                    )
                    for p in raw
                )
            elif f.name == "rejections":
                values[f.name] = tuple(
                    Rejection(r["key"], r["target"], r["message"], datetime.fromisoformat(r["at"]))
                    for r in raw
                )
            elif isinstance(current, tuple):
                values[f.name] = tuple(raw)
            elif f.name.endswith("_at") or f.name in ("masked_since",):
                values[f.name] = _parse_dt(raw)
            else:
                values[f.name] = raw
        return cls(**values)


def _add(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return items if item in items else (*items, item)


# Kept public for the sibling modules (decide, outcome) without widening ``__all__``.
add_unique = _add
