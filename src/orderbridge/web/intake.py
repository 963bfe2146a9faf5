"""Webhook intake: store the delivery, then mark the orders it names due — one transaction.

Webhooks are hints (docs/architecture.md): nothing here acts on a payload's content. A
verified delivery is written to the inbox keyed by (source, event id) — a redelivery is
recognised by the unique key and changes nothing — and, in the same transaction, the
links of the orders it names are made due now (created if new). The worker then fetches
the truth. A Shopify delivery is also counted on the links it names
(``links.count_shopify_hints``): a pass made due by TikTok alone may then decide on the
Shopify snapshot it last read (``engine/freshness.py``). These functions are synchronous
(the web layer runs them in a thread) and call no remote API, so the answer goes out well
within TikTok's 3 s and Shopify's 5 s. The one exception is Shopify's ``app/uninstalled``:
stored here, then confirmed by the web layer with one quick call to Shopify before anything
is disconnected (``engine/uninstall.py``).

Nothing here is per process: a redelivery to another web process is still one inbox row
(the unique key; its INSERT waits for the first one's commit), a new link is created once
(``ON CONFLICT DO NOTHING``), and marking due sends the ``NOTIFY`` that wakes workers
wherever they run (``adapters/db/wake.py``). Put any number of web processes behind a
load balancer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from orderbridge.adapters.db import (
    Connection,
    EventKind,
    InboxSource,
    events,
    inbox,
    intake,
    links,
    scrub,
    transaction,
)
from orderbridge.adapters.shopify.webhooks import WebhookHeaders
from orderbridge.adapters.tiktok import (
    MalformedWebhook,
    WebhookEvent,
    WebhookEventType,
    parse_webhook,
)
from orderbridge.domain.link import LinkState
from orderbridge.engine.ports import Store
from orderbridge.web import compliance
from orderbridge.web.limits import json_too_deep
from orderbridge.web.stock_intake import INVENTORY_TOPIC, inventory_changed
from orderbridge.web.webhook_checks import shopify_problem

__all__ = ["Intake", "shopify_delivery", "tiktok_delivery"]

log = logging.getLogger(__name__)

# TikTok event types whose ``data.order_id`` names the order to look at again.
ORDER_EVENTS: Final = frozenset({
    WebhookEventType.ORDER_STATUS_CHANGE, WebhookEventType.RECIPIENT_ADDRESS_UPDATE,
    WebhookEventType.CANCELLATION_STATUS_CHANGE, WebhookEventType.RETURN_STATUS_CHANGE,
})
# Shopify topic prefixes that concern one of our orders.
ORDER_TOPIC_PREFIXES: Final = ("orders/", "fulfillments/", "refunds/", "fulfillment_orders/")
COMPLIANCE_TOPICS: Final = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
SHOPIFY_ORDER_GID: Final = "gid://shopify/Order/"
SHOPIFY_FO_GID: Final = "gid://shopify/FulfillmentOrder/"
HOLD_RELEASED_TOPIC: Final = "fulfillment_orders/hold_released"
# Where fulfillment_orders/* payloads name fulfilment orders: placed_on_hold / hold_released
# (fulfillment_order), split (fulfillment_order = the original, remaining_ and
# replacement_fulfillment_order = new ones), moved (original_ and moved_fulfillment_order),
# merged (fulfillment_order = the result). The engine knows only the ones it held, so every
# one of them is looked up: the original finds the link, a new one never does.
FULFILLMENT_ORDER_KEYS: Final = (
    "fulfillment_order", "original_fulfillment_order", "remaining_fulfillment_order",
    "replacement_fulfillment_order", "moved_fulfillment_order",
)


@dataclass(frozen=True, slots=True)
class Intake:
    """What became of one delivery."""

    new: bool  # False: a duplicate, ignored
    error: str | None = None  # a signed delivery we could not read: answered 400, kept
    links_due: tuple[int, ...] = ()
    # app/uninstalled (new or redelivered): connections to confirm with Shopify before
    # disconnecting them (engine/uninstall.py), and the delivery's inbox key.
    confirm_uninstall: tuple[int, ...] = ()
    inbox_key: str = ""


def _malformed_key(body: bytes) -> str:
    return "malformed:" + hashlib.sha256(body).hexdigest()[:40]


def _store_malformed(services: Store, source: str, body: bytes, headers: dict[str, str],
                     topic: str | None, error: str, connection_id: int | None = None) -> Intake:
    now, key = services.clock.now(), _malformed_key(body)
    with transaction(services.db) as conn:
        new = inbox.store(conn, source, key, received_at=now, body=body, topic=topic, headers=headers,
                          connection_id=connection_id)
        intake.finish(conn, source, key, now, error)
    return Intake(new=new, error=error)


def _due(conn: Connection, connection_id: int, order_ids: Sequence[str], now: datetime,
         summary: str, data: dict[str, Any], *, create: bool = True) -> list[int]:
    """Make the links of these TikTok orders due now (created if new, unless ``create`` is
    False: then only the links we hold); timeline entries.

    Any number of web processes run this at once: the orders are taken in sorted order, so
    two deliveries naming the same orders lock their links in the same order (no deadlock).
    """
    ids: list[int] = []
    for order_id in sorted(set(order_ids)):
        link = (links.get_or_create_link(conn, connection_id, order_id, now, priority=links.CREATE_PRIORITY)[0]
                if create else links.find_link(conn, connection_id, order_id))
        if link is None:
            continue
        ids.append(link.id)
        events.append(conn, link.id, EventKind.EVENT, summary, data, at=now, connection_id=connection_id)
    links.mark_due(conn, now, ids=ids)
    return ids


# --- TikTok -------------------------------------------------------------------------


def _package_orders(event: WebhookEvent) -> list[str]:
    found: list[str] = []
    for package in event.data.get("package_list") or []:
        if isinstance(package, dict):
            found.extend(str(o) for o in package.get("order_id_list") or [] if isinstance(o, str | int))
    return found


def _tiktok_orders(event: WebhookEvent) -> list[str] | None:
    """Order ids named by an order-level event; None if the event lacks them."""
    if event.event_type in ORDER_EVENTS:
        return [event.order_id] if event.order_id else None
    if event.event_type is WebhookEventType.PACKAGE_UPDATE:
        return _package_orders(event) or None
    return []


def _stale(event: WebhookEvent, now: datetime, max_age_seconds: float) -> str | None:
    """Why a verified event's timestamp is too far from now to trust, or None.

    TikTok signs the body only with the app secret, with no expiry: a genuine body captured
    once can be replayed for ever. Its ``timestamp`` is inside the signature, so an old one
    cannot be made new.
    """
    age = (now - event.timestamp).total_seconds()
    if abs(age) <= max_age_seconds:
        return None
    when = "old" if age > 0 else "in the future"
    return (f"sent {event.timestamp.isoformat(timespec='seconds')}, {abs(age) / 3600:.1f} h {when} "
            f"(limit {max_age_seconds / 3600:g} h): not trusted")


def _stale_delivery(conn: Connection, cid: int, event: WebhookEvent, topic: str, order_ids: list[str],
                    now: datetime, stale: str) -> list[int]:
    """A stale event is acted on only through a fresh read: the links we already hold of the
    orders it names are made due (the worker reads TikTok's truth); it creates no link (the
    poller finds genuinely new orders) and changes no connection (a stale deauthorisation
    leaves the connection alone: if the seller really left, the next poll fails and parks it)."""
    log.warning("TikTok webhook %s (%s) for shop %s %s; orders %s re-read, nothing else done",
                event.tts_notification_id, topic, event.shop_id, stale, ",".join(order_ids) or "-")
    summary = f"TikTok webhook {topic}, {stale}: re-reading the order"
    due = _due(conn, cid, order_ids, now, summary, dict(event.data), create=False)
    if not order_ids:
        events.append(conn, None, EventKind.WARNING, f"TikTok webhook {topic} not acted on: {stale}",
                      dict(event.data), at=now, connection_id=cid)
    return due


def tiktok_delivery(services: Store, body: bytes, headers: dict[str, str]) -> Intake:
    """Store a verified TikTok webhook and mark the orders it names due.

    A shop id with no connection, or a timestamp older than ``tiktok_webhook_max_age_seconds``
    (``_stale``), is stored with the reason and answered 200 (a 4xx would only make TikTok
    retry), with one log line; neither is acted on beyond a fresh read of links we hold."""
    depth = services.settings.max_json_depth
    if json_too_deep(body, depth):  # json.loads would recurse into a RecursionError (a 500)
        return _store_malformed(services, InboxSource.TIKTOK, body, headers, None, f"JSON nested deeper than {depth}")
    try:
        event = parse_webhook(body)
    except MalformedWebhook as exc:
        return _store_malformed(services, InboxSource.TIKTOK, body, headers, None, str(exc))
    kind = event.event_type
    topic = kind.name if kind is not None else f"type_{event.type}"
    order_ids = _tiktok_orders(event)
    now = services.clock.now()
    with transaction(services.db) as conn:
        cid = intake.tiktok_shop_connection(conn, event.shop_id)
        key = event.dedupe_key
        if not inbox.store(conn, InboxSource.TIKTOK, key, received_at=now, body=body, topic=topic,
                           headers=headers, connection_id=cid):
            return Intake(new=False)
        if order_ids is None:
            error = f"{topic} webhook without the order ids it should name"
            intake.finish(conn, InboxSource.TIKTOK, key, now, error)
            return Intake(new=True, error=error)
        if cid is None:
            reason = f"no connection for TikTok shop {event.shop_id}: not acted on"
            log.warning("TikTok webhook %s (%s, orders %s): %s", key, topic, ",".join(order_ids) or "-", reason)
            intake.finish(conn, InboxSource.TIKTOK, key, now, reason)
            return Intake(new=True)
        stale = _stale(event, now, services.settings.tiktok_webhook_max_age_seconds)
        due: list[int] = []
        if stale is not None:
            due = _stale_delivery(conn, cid, event, topic, order_ids, now, stale)
            intake.finish(conn, InboxSource.TIKTOK, key, now, stale)
            return Intake(new=True, links_due=tuple(due))
        if order_ids:
            due = _due(conn, cid, order_ids, now, f"TikTok webhook {topic}", dict(event.data))
        elif kind is WebhookEventType.SELLER_DEAUTHORIZATION:
            intake.disconnect(conn, cid, now)
            events.append(conn, None, EventKind.WARNING,
                          "The seller deauthorised the app on TikTok: the connection is disconnected; "
                          "reconnect with `orderbridge connect tiktok`", dict(event.data),
                          at=now, connection_id=cid)
        elif kind is WebhookEventType.UPCOMING_AUTHORIZATION_EXPIRATION:
            events.append(conn, None, EventKind.WARNING,
                          "TikTok authorisation expires soon: the seller must re-authorise "
                          "(`orderbridge connect tiktok`)", dict(event.data), at=now, connection_id=cid)
        intake.finish(conn, InboxSource.TIKTOK, key, now, None)
    return Intake(new=True, links_due=tuple(due))


# --- Shopify ------------------------------------------------------------------------


def _order_refs(topic: str, payload: dict[str, Any]) -> list[str]:
    """Candidate stored ids (gid and numeric) of the Shopify order a payload concerns."""
    refs: list[Any] = []
    if topic.startswith("orders/"):
        refs = [payload.get("admin_graphql_api_id"), payload.get("id")]
    else:
        refs = [payload.get("order_id")]
        for key in FULFILLMENT_ORDER_KEYS:
            nested = payload.get(key)
            if isinstance(nested, dict):
                refs.append(nested.get("order_id"))
    out: list[str] = []
    for ref in refs:
        if isinstance(ref, bool) or not isinstance(ref, str | int) or ref == "":
            continue
        text = str(ref)
        out.append(text)
        out.append(text if text.startswith("gid://") else SHOPIFY_ORDER_GID + text)
        if text.startswith(SHOPIFY_ORDER_GID):
            out.append(text[len(SHOPIFY_ORDER_GID):])
    return list(dict.fromkeys(out))


def _fo_gid(ref: Any) -> str | None:
    """A fulfilment order id as the links' memory stores it (a gid), or None."""
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        return None
    text = str(ref).strip()
    if text.isdigit():
        return SHOPIFY_FO_GID + text
    return text if text.startswith(SHOPIFY_FO_GID) and text[len(SHOPIFY_FO_GID):].isdigit() else None


def _fulfillment_order_ids(payload: dict[str, Any]) -> list[str]:
    """Every fulfilment order a fulfillment_orders/* payload names, as gids."""
    refs: list[Any] = []
    for key in FULFILLMENT_ORDER_KEYS:
        value = payload.get(key)
        if isinstance(value, dict):
            refs.append(value.get("id"))
    intents = payload.get("merge_intents")
    for intent in intents if isinstance(intents, list) else []:
        if isinstance(intent, dict):
            refs.append(intent.get("fulfillment_order_id"))
    return list(dict.fromkeys(i for i in map(_fo_gid, refs) if i is not None))


def _links_for(conn: Connection, connection_ids: list[int], topic: str, payload: dict[str, Any]) -> list[int]:
    ids: list[int] = []
    refs = _order_refs(topic, payload)
    for cid in connection_ids:
        ids.extend(intake.link_ids_of_shopify_order(conn, cid, refs))
        # fulfillment_orders/* payloads carry the fulfilment order, not the order: look for
        # it in the memory of the links still under our hold (only there does a hold placed,
        # released, split or moved matter: the few orders inside their remorse window, so
        # the scan stays small however many orders the store has).
        for fo_id in _fulfillment_order_ids(payload):
            found = intake.links_whose_memory_names(conn, cid, fo_id, state=LinkState.CREATED_HELD.value)
            ids.extend(link_id for link_id, memory in found
                       if not (topic == HOLD_RELEASED_TOPIC and _released_by_us(memory, fo_id)))
    return list(dict.fromkeys(int(i) for i in ids))


def _released_by_us(memory: Any, fo_id: str) -> bool:
    """Whether the link already recorded releasing this fulfilment order's hold itself: the
    webhook is then the echo of our own release, with nothing new to look at."""
    released = memory.get("released_fulfillment_order_ids") if isinstance(memory, dict) else None
    return isinstance(released, list) and fo_id in released


def shopify_delivery(services: Store, h: WebhookHeaders, body: bytes, headers: dict[str, str]) -> Intake:
    """Store a verified Shopify webhook and act on its topic (see module docstring)."""
    if not h.topic or not h.shop_domain or not (h.event_id or h.webhook_id):
        missing = ", ".join(h.missing()) or "x-shopify-event-id"
        return _store_malformed(services, InboxSource.SHOPIFY, body, headers, h.topic,
                                f"Shopify webhook without {missing}")
    topic, key = h.topic, f"{h.topic}:{h.event_id or h.webhook_id}"
    depth = services.settings.max_json_depth
    if json_too_deep(body, depth):  # json.loads would recurse into a RecursionError (a 500)
        return _store_malformed(services, InboxSource.SHOPIFY, body, headers, topic, f"JSON nested deeper than {depth}")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return _store_malformed(services, InboxSource.SHOPIFY, body, headers, topic,
                                f"Shopify webhook body is not a JSON object: {exc}")
    problem = shopify_problem(topic, payload, h.shop_domain)  # headers are not signed: check them
    if problem is not None:
        return _store_malformed(services, InboxSource.SHOPIFY, body, headers, topic, problem)
    now = services.clock.now()
    with transaction(services.db) as conn:
        cids = intake.shopify_store_connections(conn, h.shop_domain)
        fresh = inbox.store(conn, InboxSource.SHOPIFY, key, received_at=now, body=body, topic=topic,
                            headers=headers, connection_id=cids[0] if cids else None)
        if topic == "app/uninstalled":
            # Only a hint: Shopify is asked before anything is disconnected. A redelivery
            # (Shopify retries after our 503 when it could not be asked) is asked again.
            if fresh:
                intake.finish(conn, InboxSource.SHOPIFY, key, now, None if cids else
                        f"no connection for Shopify store {h.shop_domain}")
            return Intake(new=fresh, confirm_uninstall=tuple(intake.live_connections(conn, cids)), inbox_key=key)
        if not fresh:
            return Intake(new=False)
        due: list[int] = []
        error: str | None = None if cids else f"no connection for Shopify store {h.shop_domain}"
        if topic.startswith(ORDER_TOPIC_PREFIXES) and cids:
            due = _links_for(conn, cids, topic, payload)
            # Counted: the next pass reads the Shopify order unless its read began after this.
            links.count_shopify_hints(conn, due)
            links.mark_due(conn, now, ids=due)
            for link_id in due:
                events.append(conn, link_id, EventKind.EVENT, f"Shopify webhook {topic}",
                              {"event_id": h.event_id, "triggered_at": str(h.triggered_at)}, at=now)
        elif topic == INVENTORY_TOPIC and cids:
            error = inventory_changed(conn, cids, payload, now)[1]
        elif topic == "shop/redact" and intake.live_connections(conn, cids, limit=1):  # still installed
            error = f"shop/redact for {h.shop_domain}, where the app is still installed: not acted on"
        elif topic in COMPLIANCE_TOPICS:
            compliance.handle(conn, topic, payload, cids, h.shop_domain, now)
        intake.finish(conn, InboxSource.SHOPIFY, key, now, error)
    if topic == "shop/redact" and cids and error is None:  # no copy left in SQLite's files either
        scrub.flush_deleted(services.db, vacuum=True)
    return Intake(new=True, links_due=tuple(due))
