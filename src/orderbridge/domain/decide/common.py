"""What the ``decide`` modules share: the decision under construction and small queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from orderbridge.domain.actions import Action
from orderbridge.domain.address import ShippingAddress
from orderbridge.domain.exceptions import ENGINE_CODES, ExceptionCode, Issue, IssueAction
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.money import MoneyPlan, plan_money
from orderbridge.domain.observed import (
    CancellationStatus,
    CancellationType,
    Observed,
    ShopifyLineItem,
    ShopifyOrderView,
    SkuState,
)
from orderbridge.domain.order import TikTokOrder, TikTokStatus, UnitGroup, group_units, is_at_least
from orderbridge.domain.policy import REMORSE_WINDOW, Policy

__all__ = ["Ctx", "Decision"]

_DONE_CANCEL_STATUSES = frozenset({CancellationStatus.SUCCESS, CancellationStatus.COMPLETE})


@dataclass(frozen=True, slots=True)
class Decision:
    """What ``decide`` wants done, the link's new memory, and when to look again.

    ``actions`` run in order (stop at the first non-success); ``issues`` are the link's
    current exceptions; ``resolved`` the codes that no longer apply; ``notes`` go on the
    link's timeline. ``next_due_at`` is ``None`` when the link is finished.
    """

    actions: tuple[Action, ...]
    memory: LinkMemory
    next_due_at: datetime | None
    issues: tuple[Issue, ...]
    resolved: tuple[ExceptionCode, ...]
    notes: tuple[str, ...]


@dataclass(slots=True)
class Ctx:
    """The decision under construction (mutable while ``decide`` runs, then frozen)."""

    memory: LinkMemory
    observed: Observed
    policy: Policy
    now: datetime
    order: TikTokOrder
    actions: list[Action] = field(default_factory=list)
    messages: dict[ExceptionCode, list[str]] = field(default_factory=dict)
    details: dict[ExceptionCode, dict[str, str]] = field(default_factory=dict)
    offers: dict[ExceptionCode, tuple[IssueAction, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dues: list[datetime] = field(default_factory=list)
    evaluated: bool = True
    finished: bool = False
    _plan: MoneyPlan | None = None

    # --- building ---

    def update(self, **changes: Any) -> None:
        """Change the memory (it is saved with the decision)."""
        self.memory = replace(self.memory, **changes)

    def due(self, when: datetime) -> None:
        """Look at the link again no later than ``when``."""
        self.dues.append(when)

    def note(self, text: str) -> None:
        """A line for the link's timeline."""
        if text not in self.notes:
            self.notes.append(text)

    def act(self, action: Action) -> bool:
        """Ask for ``action`` unless it was refused recently (then wait for the retry time)."""
        rejection = self.memory.rejection(action.key)
        if rejection is not None and self.now < rejection.at + self.policy.rejected_retry:
            self.due(rejection.at + self.policy.rejected_retry)
            return False
        if action not in self.actions:
            self.actions.append(action)
        return True

    def flag(
        self,
        code: ExceptionCode,
        message: str,
        data: Mapping[str, str] | None = None,
        offers: Iterable[IssueAction] = (IssueAction.DISMISS,),
    ) -> None:
        """Raise ``code`` on the link (unless a person dismissed it); repeats add sentences."""
        if code.value in self.memory.dismissed:
            return
        sentences = self.messages.setdefault(code, [])
        if message not in sentences:
            sentences.append(message)
        self.details.setdefault(code, {}).update(data or {})
        self.offers[code] = tuple(dict.fromkeys((*self.offers.get(code, ()), *offers)))

    def decision(self, next_due_at: datetime | None) -> Decision:
        """Freeze what was built."""
        issues = tuple(
            Issue(
                code=code,
                message=" ".join(sentences),
                data=self.details[code],
                actions=self.offers[code],
            )
            for code, sentences in self.messages.items()
        )
        resolved: tuple[ExceptionCode, ...] = ()
        if self.evaluated:
            resolved = tuple(
                c for c in ExceptionCode if c not in self.messages and c not in ENGINE_CODES
            )
        ordered = sorted(self.actions, key=lambda a: int(a.priority))
        return Decision(
            tuple(ordered), self.memory, next_due_at, issues, resolved, tuple(self.notes)
        )

    # --- queries ---

    @property
    def plan(self) -> MoneyPlan:
        """The money plan for the units not cancelled (computed once)."""
        if self._plan is None:
            self._plan = plan_money(self.order, self.cancelled_line_ids())
        return self._plan

    def cancelled_line_ids(self) -> frozenset[str]:
        """TikTok units cancelled: by their status, or by a completed cancellation record."""
        ids = {
            item.id
            for item in self.order.line_items
            if item.display_status.strip().upper().startswith("CANCEL")
            or item.package_status.strip().upper().startswith("CANCEL")
        }
        for record in self.observed.cancellations:
            if record.status in _DONE_CANCEL_STATUSES:
                ids.update(record.line_item_ids)
        return frozenset(ids)

    def all_units_cancelled(self) -> bool:
        """Whether TikTok cancelled the whole order (by status or unit by unit)."""
        if self.order.status is TikTokStatus.CANCELLED:
            return True
        ids = {item.id for item in self.order.line_items}
        return bool(ids) and ids <= self.cancelled_line_ids()

    def pending_requests(self) -> list[Any]:
        """Buyer cancellation requests awaiting the seller that we have not approved."""
        return [
            c
            for c in self.observed.cancellations
            if c.type is CancellationType.BUYER_CANCEL
            and c.status is CancellationStatus.PENDING
            and c.cancel_id not in self.memory.cancels_approved
        ]

    def release_due(self) -> datetime | None:
        """The release rule's due time, or ``None`` before AWAITING_SHIPMENT.

        max(paid_time + 1 h, first seen AWAITING_SHIPMENT) + the auto-approval extra.
        """
        first = self.memory.first_seen_awaiting_at
        if first is None or not is_at_least(self.order.status, TikTokStatus.AWAITING_SHIPMENT):
            return None
        base = first
        if self.order.paid_time is not None:
            base = max(base, self.order.paid_time + REMORSE_WINDOW)
        return base + self.policy.auto_approval_delay


def line_map(
    groups: tuple[UnitGroup, ...],
    view: ShopifyOrderView,
    variants: Mapping[str, str | None] | None = None,
) -> list[tuple[UnitGroup, ShopifyLineItem]]:
    """Each TikTok unit group with its Shopify line (by the TikTok SKU attribute, then SKU).

    Groups of one SKU at several prices take that SKU's lines in order. ``variants`` (TikTok
    sku id -> the variant it resolves to) finds the line an order edit added in place of a
    swapped-out custom line: that line has no TikTok attribute and may carry the merchant's
    own SKU, so neither attribute nor SKU would find it.
    """
    used: set[str] = set()
    pairs: list[tuple[UnitGroup, ShopifyLineItem]] = []
    # Lines still carrying units first: a swapped-out custom line keeps its attribute at 0.
    lines = sorted(view.line_items, key=lambda line: line.current_quantity <= 0)
    for group in groups:
        variant = (variants or {}).get(group.sku_id)
        match = next(
            (line for line in lines if line.id not in used and line.tiktok_sku_id == group.sku_id
             and line.current_quantity > 0),
            None,
        ) or next(
            (line for line in lines if line.id not in used and not line.tiktok_sku_id
             and variant is not None and line.variant_id == variant and line.current_quantity > 0),
            None,
        ) or next(
            (line for line in lines if line.id not in used and line.tiktok_sku_id == group.sku_id),
            None,
        ) or next(
            (
                line
                for line in lines
                if line.id not in used
                and not line.tiktok_sku_id
                and group.seller_sku
                and line.sku == group.seller_sku
            ),
            None,
        )
        if match is not None:
            used.add(match.id)
            pairs.append((group, match))
    return pairs


def order_lines(ctx: Ctx, view: ShopifyOrderView) -> list[tuple[UnitGroup, ShopifyLineItem]]:
    """``line_map`` over all of the order's units (a swapped line found by its variant)."""
    variants = {sku_id: r.variant_id for sku_id, r in ctx.observed.skus.items()
                if r.state is SkuState.MAPPED}
    return line_map(group_units(ctx.order.line_items), view, variants)


def fingerprint(address: ShippingAddress) -> str:
    """A stable text naming an address (to notice a change)."""
    return repr(address)
