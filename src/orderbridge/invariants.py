"""The invariants of lifecycle.md, checked from the outside after (or during) a run.

``check_invariants(control, services, connection_id, now=...)`` reads both sandboxes through
the control API (unmasked TikTok orders, cancellations, packages; Shopify orders with their
holds, transactions, fulfilments and claimed inventory; mutation counts) and the engine's
database (links, exceptions of every status, the timeline's actions, the inbox), and says
for each invariant whether it holds, naming every offending TikTok order in a sentence.

The checks trust the sandboxes' records (what really happened) over the engine's memory:
the engine's own bookkeeping is only used to find *why* something is acceptable (an
exception raised, a person's override).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import select

from orderbridge.adapters.db import EventKind, connections, links, transaction
from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.db.tables import events as events_table
from orderbridge.adapters.db.tables import inbox as inbox_table
from orderbridge.adapters.db.tables import order_exceptions as exceptions_table
from orderbridge.bootstrap import Services
from orderbridge.clock import from_unix
from orderbridge.devkit import ControlClient
from orderbridge.domain.carriers import resolve_carrier
from orderbridge.domain.policy import (
    REMORSE_WINDOW,
    CreateAt,
    Policy,
    SampleOrders,
    TikTokShippedOrders,
)
from orderbridge.domain.tracking import validate_tracking

__all__ = ["InvariantReport", "InvariantResult", "Violation", "check_invariants"]

# Mirroring a TikTok change may take one periodic re-check plus a little work (lifecycle.md:
# "within one reconcile interval"); this is the slack on top of the policy's interval.
RECONCILE_SLACK: Final = timedelta(minutes=5)
# States in which the engine must come back to a link by itself.
IN_FLIGHT_STATES: Final = frozenset({"creating", "create_unknown", "cancelling"})
TERRITORIES: Final = frozenset({
    "puerto rico", "guam", "u.s. virgin islands", "us virgin islands", "virgin islands",
    "american samoa", "northern mariana islands", "armed forces americas", "armed forces europe",
    "armed forces pacific", "pr", "gu", "vi", "as", "mp", "aa", "ae", "ap",
})
STATUS_ORDER: Final = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING",
                       "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED")
TRACKING_CODES: Final = frozenset({
    "UNSUPPORTED_CARRIER", "INVALID_TRACKING", "NO_TRACKING", "MULTI_TRACKING_SPLIT",
    "DUPLICATE_TRACKING", "NON_MCF_TRACKING", "TRACKING_LOCKED", "TRACKING_CHANGED_AFTER_PUSH",
    "FULFILMENT_CANCELLED_AFTER_PUSH", "TIKTOK_REJECTED", "FULFILLED_BUT_CANCELLED",
})
CANCEL_CODES: Final = frozenset({
    "FULFILLED_BUT_CANCELLED", "SHOPIFY_CANCELLED", "SHOPIFY_ORDER_GONE", "CANCEL_REQUEST_PENDING",
    "CANCEL_REQUEST_BLOCKED", "SHOPIFY_REJECTED", "TIKTOK_REJECTED",
})
# Without a Shopify order, an eligible order is explained only by these (open) codes.
NO_ORDER_CODES: Final = frozenset({
    "UNKNOWN_SHIPPING_TYPE", "MASKED_RECIPIENT", "SHOPIFY_ORDER_GONE", "UNSUPPORTED_DESTINATION",
    "TIKTOK_SHIPPED",
})
RELEASE_ACTIONS: Final = ("release_hold", "record_payment")


@dataclass(frozen=True, slots=True)
class Violation:
    """One order breaking one invariant, in a plain sentence."""

    tiktok_order_id: str
    sentence: str


@dataclass(slots=True)
class InvariantResult:
    """One invariant: what it says, how many orders it looked at, what broke it."""

    number: int
    name: str
    statement: str
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    def fail(self, order_id: str, sentence: str) -> None:
        self.violations.append(Violation(order_id, sentence))


@dataclass(slots=True)
class InvariantReport:
    """Every invariant's result at ``checked_at``."""

    checked_at: datetime
    results: list[InvariantResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def result(self, number: int) -> InvariantResult:
        return next(r for r in self.results if r.number == number)

    def failing(self) -> list[InvariantResult]:
        return [r for r in self.results if not r.passed]

    def lines(self) -> list[str]:
        """The report as plain text lines (one per invariant, then one per violation)."""
        out: list[str] = []
        for r in self.results:
            verdict = "PASS" if r.passed else "FAIL"
            out.append(f"{verdict}  {r.number}. {r.name} ({r.checked} checked): {r.statement}")
            out.extend(f"      {v.tiktok_order_id}: {v.sentence}" for v in r.violations)
        return out


@dataclass(slots=True)
class _Db:
    links: dict[str, LinkRow]
    codes: dict[int, dict[str, str]]  # link id -> code -> status (open wins)
    actions: dict[int, list[tuple[datetime, str]]]  # link id -> (at, summary) of successful actions
    unprocessed_inbox: list[tuple[str, str, datetime]]
    policy: Policy


@dataclass(slots=True)
class _World:
    tiktok: dict[str, dict[str, Any]]
    cancellations: dict[str, list[dict[str, Any]]]
    packages: dict[str, list[dict[str, Any]]]  # order id -> packages naming it
    shopify: dict[str, list[dict[str, Any]]]  # TikTok id -> Shopify orders referring to it
    mutations: dict[str, dict[str, int]]  # Shopify order gid -> root field -> count


def _read_db(services: Services, connection_id: int) -> _Db:
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, connection_id)
        if row is None:
            raise ValueError(f"no connection {connection_id}")
        policy = services.policy(row)
        found = links.list_links(conn, connection_id=connection_id, limit=1_000_000)
        by_id = {link.id: link for link in found}
        codes: dict[int, dict[str, str]] = defaultdict(dict)
        ex = exceptions_table
        for link_id, code, status in conn.execute(
                select(ex.c.link_id, ex.c.code, ex.c.status).where(ex.c.link_id.in_(list(by_id)))):
            if codes[link_id].get(code) != "open":
                codes[link_id][code] = status
        actions: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
        ev = events_table
        for link_id, at, summary in conn.execute(
                select(ev.c.link_id, ev.c.at, ev.c.summary)
                .where(ev.c.connection_id == connection_id, ev.c.kind == EventKind.ACTION.value)):
            if link_id is not None:
                actions[link_id].append((at, summary))
        ib = inbox_table
        unprocessed = [(str(s), str(e), at) for s, e, at in conn.execute(
            select(ib.c.source, ib.c.event_id, ib.c.received_at)
            .where(ib.c.connection_id == connection_id, ib.c.processed_at.is_(None)))]
    return _Db({link.tiktok_order_id: link for link in found}, codes, actions, unprocessed, policy)


def _tiktok_refs(order: dict[str, Any]) -> set[str]:
    """The TikTok order ids a Shopify order claims to mirror (source id, tag, attribute)."""
    refs = {str(order.get("source_identifier") or "")}
    for tag in str(order.get("tags") or "").split(","):
        tag = tag.strip()
        if tag.startswith("tiktok-") and tag[7:].isdigit():
            refs.add(tag[7:])
    for attribute in order.get("note_attributes") or []:
        if attribute.get("name") == "tiktok_order_id":
            refs.add(str(attribute.get("value")))
    refs.discard("")
    return refs


async def _read_world(control: ControlClient, shop_id: str, domain: str) -> _World:
    raw_orders, raw_cancels, raw_packages, raw_shopify, counts = await asyncio.gather(
        control.call("GET", "/tiktok/orders", shop=shop_id), control.tiktok_cancellations(),
        control.tiktok_packages(), control.shopify_orders(shop=domain), control.mutation_counts(shop=domain))
    tiktok = {str(o["id"]): o for o in raw_orders}
    cancellations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in raw_cancels:
        cancellations[str(record.get("order_id"))].append(record)
    packages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for package in raw_packages:
        for order_id in package.get("orders") or {}:
            packages[str(order_id)].append(package)
    shopify: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for order in raw_shopify:
        for ref in _tiktok_refs(order):
            shopify[ref].append(order)
    return _World(tiktok, cancellations, packages, shopify, dict(counts.get("per_order") or {}))


def _status_at_least(status: str, floor: str) -> bool:
    return status in STATUS_ORDER and STATUS_ORDER.index(status) >= STATUS_ORDER.index(floor)


def _time(value: Any) -> datetime | None:
    return from_unix(int(value)) if value else None


def _iso(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _tiktok_shipped(order: dict[str, Any]) -> bool:
    return order.get("shipping_type") == "TIKTOK" or order.get("fulfillment_type") == "FULFILLMENT_BY_TIKTOK"


def _territory(order: dict[str, Any]) -> bool:
    address = order.get("recipient_address") or {}
    if address.get("region_code") not in (None, "", "US"):
        return True
    names = {str(d.get("address_name", "")).casefold() for d in address.get("district_info") or []
             if d.get("address_level") == "L1"}
    return bool(names & TERRITORIES)


def _released(shop: dict[str, Any], hold_handle: str) -> bool:
    """The Shopify order is payable/fulfillable: paid by us, fulfilled, or an open FO without our hold."""
    if shop.get("cancelled_at"):
        return False
    if shop.get("fulfillments") or any(t.get("gateway") == "TikTok Shop" for t in shop.get("transactions") or []):
        return True
    for fo in shop.get("fulfillment_orders") or []:
        if fo.get("status") in ("OPEN", "IN_PROGRESS") and not any(
                h.get("handle") == hold_handle for h in fo.get("holds") or []):
            return True
    return False


class _Checker:
    def __init__(self, db: _Db, world: _World, now: datetime) -> None:
        self.db, self.world, self.now = db, world, now
        self.interval = db.policy.open_recheck + RECONCILE_SLACK

    def codes(self, order_id: str) -> dict[str, str]:
        link = self.db.links.get(order_id)
        return self.db.codes.get(link.id, {}) if link else {}

    def open_codes(self, order_id: str) -> set[str]:
        return {c for c, s in self.codes(order_id).items() if s == "open"}

    def one_order(self) -> InvariantResult:
        r = InvariantResult(1, "one Shopify order", "every eligible TikTok order has exactly one Shopify order, never two")
        policy = self.db.policy
        for oid, order in self.world.tiktok.items():
            r.checked += 1
            mirrors = self.world.shopify.get(oid, [])
            names = ", ".join(str(m.get("name")) for m in mirrors)
            status = str(order.get("status"))
            link = self.db.links.get(oid)
            if len(mirrors) > 1:
                r.fail(oid, f"{len(mirrors)} Shopify orders ({names}) mirror it; there must be one")
                continue
            if link is not None and mirrors and link.shopify_order_id not in (None, mirrors[0].get("admin_graphql_api_id")):
                r.fail(oid, f"the link points at {link.shopify_order_id} but Shopify's mirror is {names}")
            skipped = (_tiktok_shipped(order) and policy.tiktok_shipped_orders is TikTokShippedOrders.SKIP) or (
                bool(order.get("is_sample_order")) and policy.samples is SampleOrders.SKIP)
            if skipped:
                if mirrors:
                    r.fail(oid, f"the policy skips it, yet Shopify has {names}")
                elif _tiktok_shipped(order) and "TIKTOK_SHIPPED" not in self.codes(oid):
                    r.fail(oid, "TikTok ships it and it was skipped without the TIKTOK_SHIPPED explanation")
                continue
            if _territory(order) and order.get("recipient_address"):
                if "UNSUPPORTED_DESTINATION" not in self.codes(oid) and status != "CANCELLED":
                    r.fail(oid, "it ships to a US territory or abroad and carries no UNSUPPORTED_DESTINATION")
                continue
            if mirrors or status == "CANCELLED":
                continue  # exactly one; a cancelled order may never have been made
            due = {CreateAt.UNPAID: True, CreateAt.PAID: bool(order.get("paid_time")),
                   CreateAt.RELEASED: _status_at_least(status, "AWAITING_SHIPMENT")}[policy.create_at]
            if _tiktok_shipped(order):  # import_fulfilled: imported from AWAITING_SHIPMENT on
                due = _status_at_least(status, "AWAITING_SHIPMENT")
            if due and not self.open_codes(oid) & NO_ORDER_CODES:
                r.fail(oid, f"TikTok status {status}: eligible under create_at={policy.create_at.value} "
                            "but Shopify has no order for it")
        return r

    def release(self) -> InvariantResult:
        r = InvariantResult(2, "release rule", "no Shopify order released before max(paid + 1 h, AWAITING_SHIPMENT)")
        extra = self.db.policy.auto_approval_delay
        for oid, order in self.world.tiktok.items():
            mirrors = self.world.shopify.get(oid, [])
            if len(mirrors) != 1 or _tiktok_shipped(order):
                continue  # an imported TikTok-shipped order is fulfilled at creation: no rule
            r.checked += 1
            link = self.db.links.get(oid)
            paid = _time(order.get("paid_time"))
            first = None
            if link is not None:
                first = _iso(link.memory.get("first_seen_awaiting_at"))
            earliest = max(t for t in (paid + REMORSE_WINDOW if paid else None, first) if t is not None) \
                if (paid or first) else None
            due = earliest + extra if earliest else None
            ours = [(at, s) for at, s in self.db.actions.get(link.id, []) if s.startswith(RELEASE_ACTIONS)] \
                if link else []
            for at, summary in ours:
                if due is None or at < due:
                    when = due.isoformat() if due else "never (not paid)"
                    r.fail(oid, f"{summary.split(':')[0]} at {at.isoformat()}, but the rule allowed it from {when}")
            by_hand = "HOLD_RELEASED_BY_HAND" in self.codes(oid)
            if _released(mirrors[0], self.db.policy.hold_handle) and not ours and not by_hand:
                name = mirrors[0].get("name")
                if due is None or self.now < due:
                    r.fail(oid, f"Shopify {name} is fulfillable at {self.now.isoformat()} before the rule allows "
                                "it, and nothing records who released it")
                else:
                    r.fail(oid, f"Shopify {name} is fulfillable but neither we nor a recorded person released it")
        return r

    def cancellations(self) -> InvariantResult:
        r = InvariantResult(3, "cancellations mirrored", "every TikTok cancellation is mirrored (restocked once) "
                               "or raised as an exception")
        for oid, order in self.world.tiktok.items():
            mirrors = self.world.shopify.get(oid, [])
            shop = mirrors[0] if len(mirrors) == 1 else None
            records = self.world.cancellations.get(oid, [])
            status = str(order.get("status"))
            if status != "CANCELLED" and not records and not (shop and shop.get("cancelled_at")):
                continue
            r.checked += 1
            explained = bool(self.open_codes(oid) & CANCEL_CODES)
            name = shop.get("name") if shop else None
            if shop is not None:
                cancels = self.world.mutations.get(str(shop.get("admin_graphql_api_id")), {}).get("orderCancel", 0)
                if cancels > 1:
                    r.fail(oid, f"Shopify {name} was sent orderCancel {cancels} times")
                if shop.get("cancelled_at"):
                    unreturned = {sku: inv.get("claimed") for sku, inv in (shop.get("inventory") or {}).items()
                                  if inv.get("claimed")}
                    if unreturned:
                        r.fail(oid, f"Shopify {name} is cancelled but stock was not returned: {unreturned}")
            if status == "CANCELLED":
                cancelled_at = _time(order.get("cancel_time")) or self.now
                if shop is None or shop.get("cancelled_at"):
                    if shop is not None and (_iso(shop.get("cancelled_at")) or self.now) > cancelled_at + self.interval:
                        r.fail(oid, f"TikTok cancelled it at {cancelled_at.isoformat()}; Shopify {name} followed "
                                    f"only at {shop.get('cancelled_at')}")
                elif not explained and self.now > cancelled_at + self.interval:
                    r.fail(oid, f"TikTok cancelled it at {cancelled_at.isoformat()}; Shopify {name} is still "
                                "open and no exception says why")
            elif shop is not None and shop.get("cancelled_at") and not explained:
                r.fail(oid, f"Shopify {name} is cancelled while TikTok says {status}, with no exception")
            for record in records:
                pending = record.get("cancel_status") == "CANCELLATION_REQUEST_PENDING"
                if pending and status != "CANCELLED" and not explained and not (shop and shop.get("cancelled_at")):
                    r.fail(oid, f"the buyer's cancellation request {record.get('cancel_id')} is pending and "
                                "nobody was told (no CANCEL_REQUEST_* exception)")
                approved = _time(record.get("update_time"))
                if (record.get("cancel_type") == "BUYER_CANCEL" and record.get("cancel_status", "").endswith("SUCCESS")
                        and shop is not None and approved is not None):
                    stopped = _iso(shop.get("cancelled_at"))
                    if stopped is None or stopped > approved:
                        r.fail(oid, f"the request {record.get('cancel_id')} was approved on TikTok at "
                                    f"{approved.isoformat()} before Shopify {name} was cancelled")
        return r

    def tracking(self) -> InvariantResult:
        r = InvariantResult(4, "tracking once per package", "every valid tracking number reaches TikTok exactly "
                               "once per package")
        for oid, order in self.world.tiktok.items():
            mirrors = self.world.shopify.get(oid, [])
            packages = self.world.packages.get(oid, [])
            shop = mirrors[0] if len(mirrors) == 1 else None
            fulfilments = [f for f in (shop or {}).get("fulfillments") or [] if f.get("status") == "success"]
            if not packages and (not fulfilments or _tiktok_shipped(order)):
                continue  # TikTok ships it: the import's fulfilment is not ours to push
            r.checked += 1
            codes = self.codes(oid)
            explained = bool(set(codes) & TRACKING_CODES) or str(order.get("status")) == "CANCELLED"
            link = self.db.links.get(oid)
            anyway = set(link.memory.get("push_anyway") or []) if link else set()
            shopify_numbers: set[str] = set()
            for f in fulfilments:
                numbers = [str(n) for n in f.get("tracking_numbers") or [] if n]
                shopify_numbers.update(numbers)
                units = sum(int(li.get("quantity") or 0) for li in f.get("line_items") or [])
                if len(numbers) != 1:
                    if not explained:
                        r.fail(oid, f"fulfilment {f.get('name')} has {len(numbers)} tracking numbers and no exception")
                    continue
                number, carrier = numbers[0], resolve_carrier(str(f.get("tracking_company") or ""))
                sent = [p for p in packages if p.get("tracking_number") == number]
                valid = carrier is not None and validate_tracking(carrier, number).valid
                if not valid and number not in anyway:
                    if sent:
                        r.fail(oid, f"{number} ({f.get('tracking_company')}) is not valid for its carrier, "
                                    "yet TikTok has it")
                    elif not explained:
                        r.fail(oid, f"{number} ({f.get('tracking_company')}) is invalid and no exception says so")
                    continue
                if len(sent) > 1:
                    r.fail(oid, f"{number} reached TikTok {len(sent)} times")
                elif not sent:
                    if not explained:
                        r.fail(oid, f"{number} from fulfilment {f.get('name')} never reached TikTok")
                else:
                    lines = len((sent[0].get("orders") or {}).get(oid) or [])
                    if lines != units:
                        r.fail(oid, f"package {number} carries {lines} units on TikTok; the fulfilment had {units}")
            for package in packages:
                if package.get("tracking_number") not in shopify_numbers:
                    r.fail(oid, f"TikTok has tracking {package.get('tracking_number')} that no Shopify "
                                "fulfilment carries")
        return r

    def totals(self) -> InvariantResult:
        r = InvariantResult(5, "totals to the cent", "the Shopify total equals TikTok's total_amount, or a "
                               "TOTALS_MISMATCH warning explains it")
        for oid, order in self.world.tiktok.items():
            mirrors = self.world.shopify.get(oid, [])
            if len(mirrors) != 1:
                continue
            r.checked += 1
            tiktok_total = _money((order.get("payment") or {}).get("total_amount"))
            shop = mirrors[0]
            # What the order totals now (order edits change it); a cancelled order keeps the original.
            shopify_total = _money(shop.get("total_price") if shop.get("cancelled_at")
                                   else shop.get("current_total_price", shop.get("total_price")))
            if tiktok_total != shopify_total and "TOTALS_MISMATCH" not in self.codes(oid):
                r.fail(oid, f"Shopify {mirrors[0].get('name')} totals {shopify_total}, the buyer paid "
                            f"{tiktok_total} on TikTok, and no TOTALS_MISMATCH warning says why")
        return r

    def nothing_lost(self) -> InvariantResult:
        r = InvariantResult(6, "nothing lost", "every TikTok order has a link, every inbox row is processed, "
                               "and the link has seen TikTok's latest status")
        for source, event_id, received in self.db.unprocessed_inbox:
            r.fail(f"inbox {source}", f"{event_id} received {received.isoformat()} was never processed")
        for oid, order in self.world.tiktok.items():
            r.checked += 1
            link = self.db.links.get(oid)
            updated = _time(order.get("update_time")) or self.now
            stale = self.now > updated + self.interval
            if link is None:
                if stale:
                    r.fail(oid, f"TikTok has it since {_time(order.get('create_time'))} but the engine has no link")
                continue
            if link.state in IN_FLIGHT_STATES and link.next_due_at is None:
                r.fail(oid, f"the link is {link.state} and nothing will look at it again")
            if link.next_due_at is not None and self.now > link.next_due_at + self.interval:
                r.fail(oid, f"the link was due at {link.next_due_at.isoformat()} and never processed")
            status = str(order.get("status"))
            if stale and link.tiktok_status not in (status, None) and link.state not in ("skipped", "done"):
                r.fail(oid, f"TikTok says {status} since {updated.isoformat()}; the link still says "
                            f"{link.tiktok_status}")
        return r


async def check_invariants(
    control: ControlClient, services: Services, connection_id: int, *, now: datetime
) -> InvariantReport:
    """Check lifecycle.md's six invariants for one connection at ``now`` (the story clock).

    Call it when the engine has caught up (nothing due); a check in mid-flight reports the
    orders the engine has not reached yet.
    """
    db = await asyncio.to_thread(_read_db, services, connection_id)
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, connection_id)
    assert row is not None
    world = await _read_world(control, row.tiktok_shop_id, row.shopify_domain)
    checker = _Checker(db, world, now)
    results = [checker.one_order(), checker.release(), checker.cancellations(), checker.tracking(),
               checker.totals(), checker.nothing_lost()]
    return InvariantReport(now, results)
