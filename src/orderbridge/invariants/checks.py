"""The six checks: each reads the sandboxes' records and names every offending order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from orderbridge.domain.carriers import resolve_carrier
from orderbridge.domain.policy import REMORSE_WINDOW, CreateAt, SampleOrders, TikTokShippedOrders
from orderbridge.domain.tracking import validate_tracking
from orderbridge.invariants.explain import explains_fulfilment, explains_orphan, explains_total
from orderbridge.invariants.observe import (
    Db,
    EngineException,
    SandboxWorld,
    iso,
    money,
    status_at_least,
    territory,
    tiktok_shipped,
    unix,
)
from orderbridge.invariants.report import InvariantResult

__all__ = ["Checker"]

# Mirroring a TikTok change may take one periodic re-check plus a little work (lifecycle.md:
# "within one reconcile interval"); this is the slack on top of the policy's interval.
RECONCILE_SLACK: Final = timedelta(minutes=5)
# States in which the engine must come back to a link by itself.
IN_FLIGHT_STATES: Final = frozenset({"creating", "create_unknown", "cancelling"})
CANCEL_CODES: Final = frozenset({
    "FULFILLED_BUT_CANCELLED", "SHOPIFY_CANCELLED", "SHOPIFY_ORDER_GONE", "CANCEL_REQUEST_PENDING",
    "CANCEL_REQUEST_BLOCKED", "CANCEL_REQUEST_STOPPING", "SHOPIFY_REJECTED", "TIKTOK_REJECTED",
})
# Without a Shopify order, an eligible order is explained only by these (open) codes.
NO_ORDER_CODES: Final = frozenset({
    "UNKNOWN_SHIPPING_TYPE", "MASKED_RECIPIENT", "SHOPIFY_ORDER_GONE", "UNSUPPORTED_DESTINATION",
    "TIKTOK_SHIPPED",
})
FULFILLABLE: Final = frozenset({"OPEN", "IN_PROGRESS"})
PAYMENT_GATEWAY: Final = "TikTok Shop"


class Checker:
    """The checks over one connection's records at ``now``."""

    def __init__(self, db: Db, world: SandboxWorld, now: datetime) -> None:
        self.db, self.world, self.now = db, world, now
        self.interval = db.policy.open_recheck + RECONCILE_SLACK

    def exceptions(self, order_id: str) -> list[EngineException]:
        link = self.db.links.get(order_id)
        return self.db.exceptions.get(link.id, []) if link else []

    def codes(self, order_id: str) -> set[str]:
        """Codes ever raised on the order (any status)."""
        return {ex.code for ex in self.exceptions(order_id)}

    def open_codes(self, order_id: str) -> set[str]:
        return {ex.code for ex in self.exceptions(order_id) if ex.open}

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
            skipped = (tiktok_shipped(order) and policy.tiktok_shipped_orders is TikTokShippedOrders.SKIP) or (
                bool(order.get("is_sample_order")) and policy.samples is SampleOrders.SKIP)
            if skipped:
                if mirrors:
                    r.fail(oid, f"the policy skips it, yet Shopify has {names}")
                elif tiktok_shipped(order) and "TIKTOK_SHIPPED" not in self.codes(oid):
                    r.fail(oid, "TikTok ships it and it was skipped without the TIKTOK_SHIPPED explanation")
                continue
            if territory(order) and order.get("recipient_address"):
                if "UNSUPPORTED_DESTINATION" not in self.codes(oid) and status != "CANCELLED":
                    r.fail(oid, "it ships to a US territory or abroad and carries no UNSUPPORTED_DESTINATION")
                continue
            if mirrors or status == "CANCELLED":
                continue  # exactly one; a cancelled order may never have been made
            due = {CreateAt.UNPAID: True, CreateAt.PAID: bool(order.get("paid_time")),
                   CreateAt.RELEASED: status_at_least(status, "AWAITING_SHIPMENT")}[policy.create_at]
            if tiktok_shipped(order):  # import_fulfilled: imported from AWAITING_SHIPMENT on
                due = status_at_least(status, "AWAITING_SHIPMENT")
            if due and not self.open_codes(oid) & NO_ORDER_CODES:
                r.fail(oid, f"TikTok status {status}: eligible under create_at={policy.create_at.value} "
                            "but Shopify has no order for it")
        return r

    def release_due(self, order: dict[str, Any]) -> datetime | None:
        """When the release rule allows it, from TikTok's own times (paid, AWAITING_SHIPMENT)."""
        paid, awaiting = unix(order.get("paid_time")), unix(order.get("awaiting_shipment_time"))
        if awaiting is None:
            return None
        base = max(paid + REMORSE_WINDOW, awaiting) if paid is not None else awaiting
        return base + self.db.policy.auto_approval_delay

    def release(self) -> InvariantResult:
        r = InvariantResult(2, "release rule", "no Shopify order released before max(paid + 1 h, AWAITING_SHIPMENT)")
        handle = self.db.policy.hold_handle
        for oid, order in self.world.tiktok.items():
            mirrors = self.world.shopify.get(oid, [])
            if len(mirrors) != 1 or tiktok_shipped(order):
                continue  # an imported TikTok-shipped order is fulfilled at creation: no rule
            r.checked += 1
            shop = mirrors[0]
            name, due = shop.get("name"), self.release_due(order)
            allowed = due.isoformat() if due else "never (TikTok never reached AWAITING_SHIPMENT)"
            # Shopify's own history: who released our hold, and when.
            releases = [x for x in self.world.hold_releases.get(str(shop.get("admin_graphql_api_id")), [])
                        if x.get("handle") == handle]
            payments = [t for t in shop.get("transactions") or [] if t.get("gateway") == PAYMENT_GATEWAY]
            for x in releases:
                at = iso(x.get("at"))
                if at is None or (due is not None and at >= due):
                    continue
                if x.get("by_hold_owner"):
                    r.fail(oid, f"Shopify records our hold on {x.get('fulfillment_order_id')} of {name} "
                                f"released by {x.get('released_by')} at {at.isoformat()}, but the rule "
                                f"allowed it from {allowed}")
                elif "HOLD_RELEASED_BY_HAND" not in self.codes(oid):
                    r.fail(oid, f"Shopify records our hold on {name} released by {x.get('released_by')} at "
                                f"{at.isoformat()}, before the rule allows it, and the engine never "
                                "recorded it (no HOLD_RELEASED_BY_HAND)")
            for t in payments:
                at = iso(t.get("created_at"))
                if at is not None and (due is None or at < due):
                    r.fail(oid, f"the {PAYMENT_GATEWAY} payment on {name} was recorded at {at.isoformat()}, "
                                f"but the rule allowed the release from {allowed}")
            fulfillable = [fo for fo in shop.get("fulfillment_orders") or [] if fo.get("status") in FULFILLABLE]
            if fulfillable and not shop.get("cancelled_at") and not releases and not payments:
                when = "before the rule allows it" if due is None or self.now < due else "after the rule allows it"
                r.fail(oid, f"Shopify {name} is fulfillable at {self.now.isoformat()} ({when}) and Shopify "
                            "records no release of our hold by anyone: it was never held")
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
                                  if inv and inv.get("claimed")}
                    if unreturned:
                        r.fail(oid, f"Shopify {name} is cancelled but stock was not returned: {unreturned}")
            if status == "CANCELLED":
                cancelled_at = unix(order.get("cancel_time")) or self.now
                if shop is None or shop.get("cancelled_at"):
                    if shop is not None and (iso(shop.get("cancelled_at")) or self.now) > cancelled_at + self.interval:
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
                approved = unix(record.get("update_time"))
                if (record.get("cancel_type") == "BUYER_CANCEL" and record.get("cancel_status", "").endswith("SUCCESS")
                        and shop is not None and approved is not None):
                    stopped = iso(shop.get("cancelled_at"))
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
            every = (shop or {}).get("fulfillments") or []
            fulfilments = [f for f in every if f.get("status") == "success"]
            if not packages and (not fulfilments or tiktok_shipped(order)):
                continue  # TikTok ships it: the import's fulfilment is not ours to push
            r.checked += 1
            exceptions = self.exceptions(oid)
            # TikTok takes no tracking for a cancelled order: nothing to push (TikTok's record).
            cancelled = str(order.get("status")) == "CANCELLED"
            link = self.db.links.get(oid)
            anyway = set(link.memory.get("push_anyway") or []) if link else set()  # a person's override
            shopify_numbers: set[str] = set()
            for f in fulfilments:
                numbers = list(dict.fromkeys(str(n).strip() for n in f.get("tracking_numbers") or [] if n))
                shopify_numbers.update(numbers)
                units = sum(int(li.get("quantity") or 0) for li in f.get("line_items") or [])
                if len(numbers) != 1 and not (len(numbers) > 1 and units == 1):
                    if not cancelled and not explains_fulfilment(exceptions, f, None):
                        r.fail(oid, f"fulfilment {f.get('name')} has {len(numbers)} tracking numbers and no "
                                    "exception about it")
                    continue
                number, carrier = numbers[0], resolve_carrier(str(f.get("tracking_company") or ""))
                sent = [p for p in packages if p.get("tracking_number") == number]
                explained = cancelled or explains_fulfilment(exceptions, f, number)
                valid = carrier is not None and validate_tracking(carrier, number).valid
                if not valid and number not in anyway:
                    if sent:
                        r.fail(oid, f"{number} ({f.get('tracking_company')}) is not valid for its carrier, "
                                    "yet TikTok has it")
                    elif not explained:
                        r.fail(oid, f"{number} ({f.get('tracking_company')}) is invalid and no open exception "
                                    f"about fulfilment {f.get('name')} says so")
                    continue
                if len(sent) > 1:
                    r.fail(oid, f"{number} reached TikTok {len(sent)} times")
                elif not sent:
                    if not explained:
                        r.fail(oid, f"{number} from fulfilment {f.get('name')} never reached TikTok and no open "
                                    "exception about that fulfilment says why")
                else:
                    lines = len((sent[0].get("orders") or {}).get(oid) or [])
                    if lines != units:
                        r.fail(oid, f"package {number} carries {lines} units on TikTok; the fulfilment had {units}")
            gone = [f for f in every if f.get("status") != "success"]
            for package in packages:
                number = str(package.get("tracking_number"))
                if number not in shopify_numbers and not explains_orphan(exceptions, number, gone):
                    r.fail(oid, f"TikTok has tracking {number} that no Shopify fulfilment carries")
        return r

    def totals(self) -> InvariantResult:
        r = InvariantResult(5, "totals to the cent", "the Shopify total equals TikTok's total_amount, or an open "
                               "TOTALS_MISMATCH warning explains that very difference")
        for oid, order in self.world.tiktok.items():
            mirrors = self.world.shopify.get(oid, [])
            if len(mirrors) != 1:
                continue
            r.checked += 1
            tiktok_total = money((order.get("payment") or {}).get("total_amount"))
            shop = mirrors[0]
            # What the order totals now (order edits change it); a cancelled order keeps the original.
            shopify_total = money(shop.get("total_price") if shop.get("cancelled_at")
                                  else shop.get("current_total_price", shop.get("total_price")))
            if tiktok_total == shopify_total:
                continue
            if explains_total(self.exceptions(oid), tiktok_total, shopify_total):
                continue
            recorded = [ex.data for ex in self.exceptions(oid) if ex.code == "TOTALS_MISMATCH"]
            why = "and no TOTALS_MISMATCH warning says why" if not recorded else (
                "and no open TOTALS_MISMATCH records that difference (recorded: " + "; ".join(
                    f"tiktok_total {d.get('tiktok_total')}, difference {d.get('difference')}" for d in recorded) + ")")
            r.fail(oid, f"Shopify {shop.get('name')} totals {shopify_total}, the buyer paid {tiktok_total} "
                        f"on TikTok, {why}")
        return r

    def nothing_lost(self) -> InvariantResult:
        r = InvariantResult(6, "nothing lost", "every TikTok order has a link, every inbox row is processed, "
                               "and the link has seen TikTok's latest status")
        for source, event_id, received in self.db.unprocessed_inbox:
            r.fail(f"inbox {source}", f"{event_id} received {received.isoformat()} was never processed")
        for oid, order in self.world.tiktok.items():
            r.checked += 1
            link = self.db.links.get(oid)
            updated = unix(order.get("update_time")) or self.now
            stale = self.now > updated + self.interval
            if link is None:
                # Its creation was news (webhook or poll): a link is due one interval after it.
                created = unix(order.get("create_time")) or self.now
                if self.now > created + self.interval:
                    r.fail(oid, f"TikTok has it since {created.isoformat()} but the engine has no link")
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
