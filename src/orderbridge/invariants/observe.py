"""What the invariant checker reads: both sandboxes (the truth) and the engine's database."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from orderbridge.adapters.db import LinkRow, connections, intake, links, orders, transaction
from orderbridge.clock import from_unix
from orderbridge.devkit import ControlClient
from orderbridge.domain.policy import Policy
from orderbridge.engine.ports import Clients

__all__ = ["Db", "EngineException", "SandboxWorld", "read_db", "read_world"]

TERRITORIES: Final = frozenset({
    "puerto rico", "guam", "u.s. virgin islands", "us virgin islands", "virgin islands",
    "american samoa", "northern mariana islands", "armed forces americas", "armed forces europe",
    "armed forces pacific", "pr", "gu", "vi", "as", "mp", "aa", "ae", "ap",
})
STATUS_ORDER: Final = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING",
                       "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED")


@dataclass(frozen=True, slots=True)
class EngineException:
    """One exception the engine raised on a link: its code, status and data."""

    code: str
    status: str
    data: dict[str, Any]

    @property
    def open(self) -> bool:
        return self.status == "open"


@dataclass(slots=True)
class Db:
    links: dict[str, LinkRow]  # TikTok order id -> link
    exceptions: dict[int, list[EngineException]]  # link id -> every exception, any status
    unprocessed_inbox: list[tuple[str, str, datetime]]
    policy: Policy


@dataclass(slots=True)
class SandboxWorld:
    tiktok: dict[str, dict[str, Any]]
    cancellations: dict[str, list[dict[str, Any]]]
    packages: dict[str, list[dict[str, Any]]]  # order id -> packages naming it
    shopify: dict[str, list[dict[str, Any]]]  # TikTok id -> Shopify orders referring to it
    mutations: dict[str, dict[str, int]]  # Shopify order gid -> root field -> count
    hold_releases: dict[str, list[dict[str, Any]]]  # Shopify order gid -> releases, in time order


def read_db(services: Clients, connection_id: int) -> Db:
    """Links, exceptions (with their data) and the unprocessed inbox of one connection."""
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, connection_id)
        if row is None:
            raise ValueError(f"no connection {connection_id}")
        policy = services.policy(row)
        found = links.list_links(conn, connection_id=connection_id, limit=1_000_000)
        ids = [link.id for link in found]
        exceptions: dict[int, list[EngineException]] = defaultdict(list)
        for e in orders.exceptions_of(conn, ids):
            exceptions[e.link_id].append(EngineException(e.code, e.status, dict(e.data or {})))
        unprocessed = intake.unprocessed(conn, connection_id)
    return Db({link.tiktok_order_id: link for link in found}, exceptions, unprocessed, policy)


def tiktok_refs(order: dict[str, Any]) -> set[str]:
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


async def read_world(control: ControlClient, shop_id: str, domain: str) -> SandboxWorld:
    """Everything both sandboxes know about one connection's shops."""
    raw_orders, raw_cancels, raw_packages, raw_shopify, counts, releases = await asyncio.gather(
        control.call("GET", "/tiktok/orders", shop=shop_id), control.tiktok_cancellations(),
        control.tiktok_packages(), control.shopify_orders(shop=domain),
        control.mutation_counts(shop=domain), control.hold_releases(shop=domain))
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
        for ref in tiktok_refs(order):
            shopify[ref].append(order)
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for release in releases:
        by_order[str(release["order_id"])].append(release)
    return SandboxWorld(tiktok, cancellations, packages, shopify, dict(counts.get("per_order") or {}),
                        by_order)


def status_at_least(status: str, floor: str) -> bool:
    return status in STATUS_ORDER and STATUS_ORDER.index(status) >= STATUS_ORDER.index(floor)


def unix(value: Any) -> datetime | None:
    """A TikTok time (Unix seconds; 0 or absent = unset)."""
    return from_unix(int(value)) if value else None


def iso(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def tiktok_shipped(order: dict[str, Any]) -> bool:
    return order.get("shipping_type") == "TIKTOK" or order.get("fulfillment_type") == "FULFILLMENT_BY_TIKTOK"


def territory(order: dict[str, Any]) -> bool:
    address = order.get("recipient_address") or {}
    if address.get("region_code") not in (None, "", "US"):
        return True
    names = {str(d.get("address_name", "")).casefold() for d in address.get("district_info") or []
             if d.get("address_level") == "L1"}
    return bool(names & TERRITORIES)
