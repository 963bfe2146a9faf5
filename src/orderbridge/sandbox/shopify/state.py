"""The Shopify sandbox's world: shops, apps, tokens, catalog, inventory, and the orders
(their records: ``order_records.py``).

Plain dataclasses, mutated by the resolvers and the control API. Ids are 13-digit numbers
(as Shopify's are) and every resource is addressed on the wire by its gid,
``gid://shopify/<Type>/<number>``.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from orderbridge.sandbox.common.ids import IdGenerator
from orderbridge.sandbox.shopify.order_records import (
    EditSession,
    Fulfillment,
    FulfillmentOrder,
    HoldRelease,
    Job,
    Order,
)
from orderbridge.sandbox.shopify.versions import SERVED

__all__ = [
    "API_VERSION",
    "App",
    "CostTally",
    "Plan",
    "Shop",
    "Subscription",
    "Token",
    "Variant",
    "World",
    "gid",
    "parse_gid",
]

API_VERSION = SERVED  # the Admin API version the sandbox emulates (versions.py)
CENT = Decimal("0.01")

# Time-driven behaviours (virtual time), each changeable through the control API.
DEFAULT_FULFILLMENT_ORDER_DELAY = timedelta(seconds=1.5)
DEFAULT_INDEX_LAG = timedelta(seconds=3)
DEFAULT_CANCEL_JOB_DELAY = timedelta(seconds=2)
DEFAULT_SERVICE_CANCEL_ACCEPT_DELAY = timedelta(seconds=5)
DEFAULT_BUCKET_SIZE = 1000.0
DEFAULT_DEV_STORE_CREATE_CAP = 5  # orders per minute on development/trial stores
SEARCH_WINDOW = timedelta(days=60)  # orders(query:) without read_all_orders
MAX_HOLDS_PER_APP = 10

FULL_SCOPES = (
    "read_orders", "write_orders", "read_all_orders", "read_products", "write_products",
    "read_inventory", "write_inventory", "read_locations", "read_customers", "write_customers",
    "read_order_edits", "write_order_edits", "read_fulfillments", "write_fulfillments",
    "read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders",
    "read_third_party_fulfillment_orders", "write_third_party_fulfillment_orders",
    "read_assigned_fulfillment_orders", "write_assigned_fulfillment_orders",
)
FULFILLMENT_ORDER_SCOPES = frozenset(s for s in FULL_SCOPES if s.endswith("_fulfillment_orders"))


class Plan(StrEnum):
    """Shop plan presets: GraphQL restore rate (points/s) and display name."""

    STANDARD = "standard"  # Basic / Shopify: 100 points/s
    ADVANCED = "advanced"  # 200 points/s
    PLUS = "plus"  # 1000 points/s
    ENTERPRISE = "enterprise"  # 2000 points/s
    DEVELOPMENT = "development"  # development store: 100 points/s and 5 orderCreate per minute


PLAN_RESTORE_RATE = {Plan.STANDARD: 100.0, Plan.ADVANCED: 200.0, Plan.PLUS: 1000.0,
                     Plan.ENTERPRISE: 2000.0, Plan.DEVELOPMENT: 100.0}
PLAN_DISPLAY_NAME = {Plan.STANDARD: "Basic", Plan.ADVANCED: "Advanced", Plan.PLUS: "Shopify Plus",
                     Plan.ENTERPRISE: "Enterprise", Plan.DEVELOPMENT: "Developer Preview"}


def gid(kind: str, number: int) -> str:
    """The global id of a resource."""
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: Any, kind: str | None = None) -> int | None:
    """The number in a gid (``None`` when it is not one, or not of ``kind``)."""
    if not isinstance(value, str) or not value.startswith("gid://shopify/"):
        return None
    parts = value[len("gid://shopify/"):].split("?")[0].split("/")
    if len(parts) != 2 or (kind is not None and parts[0] != kind) or not parts[1].isdigit():
        return None
    return int(parts[1])


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class App:
    id: int
    title: str
    handle: str
    api_key: str
    client_secret: str
    source_handles: tuple[str, ...] = ()  # sourceName handles registered for attribution


@dataclass
class Token:
    token: str
    app_id: int
    shop: str
    scopes: frozenset[str]
    expires_at: datetime | None = None  # an expiring offline token (OAuth with expiring=1)


@dataclass
class Variant:
    id: int
    product_id: int
    product_title: str
    title: str
    sku: str
    price: Decimal
    inventory_item_id: int
    inventory_policy: str = "DENY"
    requires_shipping: bool = True


@dataclass
class Location:
    id: int
    name: str
    service_app_id: int | None = None  # set for a fulfilment service's location (3PL app)
    service_handle: str | None = None


@dataclass
class Subscription:
    id: int
    app_id: int
    shop: str
    topic: str
    uri: str
    created_at: datetime
    include_fields: list[str] = field(default_factory=list)


@dataclass
class CostTally:
    """The sandbox's own accounting of GraphQL requests of one (shop, app, root field)."""

    requests: int = 0  # requests priced (throttled ones included)
    throttled: int = 0  # refused with THROTTLED: nothing executed, nothing charged
    requested_points: int = 0  # requested cost of the executed requests
    actual_points: int = 0  # what the bucket kept after the refund (actual cost)


@dataclass
class Shop:
    domain: str
    name: str
    currency: str
    location_ids: list[int]
    plan: Plan = Plan.STANDARD
    bucket_size: float = DEFAULT_BUCKET_SIZE
    create_cap: int | None = None  # orderCreate per minute; None = no cap
    next_number: int = 1001
    create_times: deque[datetime] = field(default_factory=deque)
    id: int = 0
    # The store's own sales tax (taxes.py): rate per destination state (province code) and
    # whether shipping is taxed. Empty: the store collects no tax itself (the channel does).
    tax_rates: dict[str, Decimal] = field(default_factory=dict)
    tax_shipping: bool = False

    def restore_rate(self) -> float:
        return PLAN_RESTORE_RATE[self.plan]


@dataclass
class Timing:
    """Delays of the awkward behaviours (virtual time)."""

    fulfillment_order_delay: timedelta = DEFAULT_FULFILLMENT_ORDER_DELAY
    index_lag: timedelta = DEFAULT_INDEX_LAG
    cancel_job_delay: timedelta = DEFAULT_CANCEL_JOB_DELAY
    service_cancel_accept_delay: timedelta = DEFAULT_SERVICE_CANCEL_ACCEPT_DELAY


ID_PREFIXES = {kind: ("5", 13) for kind in (
    "order", "line", "ship", "fo", "foline", "hold", "fulfillment", "fline", "transaction",
    "refund", "rline", "job", "sub", "edit", "variant", "product", "item", "location", "shop",
    "app", "metafield", "customer", "calc",
)}


@dataclass
class World:
    """Everything the sandbox knows."""

    ids: IdGenerator = field(default_factory=lambda: IdGenerator(ID_PREFIXES))
    timing: Timing = field(default_factory=Timing)
    shops: dict[str, Shop] = field(default_factory=dict)
    apps: dict[int, App] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)
    variants: dict[int, Variant] = field(default_factory=dict)
    variant_shop: dict[int, str] = field(default_factory=dict)
    inventory: dict[tuple[int, int], int] = field(default_factory=dict)  # (item, location) -> available
    # called with (inventory item id, location id) after every change of an available quantity
    inventory_listeners: list[Callable[[int, int], None]] = field(default_factory=list)
    orders: dict[int, Order] = field(default_factory=dict)
    fulfillment_orders: dict[int, FulfillmentOrder] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    edits: dict[int, EditSession] = field(default_factory=dict)
    idempotency: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    mutation_counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (shop, field)
    order_mutation_counts: Counter[tuple[int, str]] = field(default_factory=Counter)
    compliance_urls: dict[int, str] = field(default_factory=dict)  # app id -> URL
    hold_releases: list[HoldRelease] = field(default_factory=list)  # in time order
    # (shop, app id, first root field) -> what its requests cost (benchmarks read these)
    costs: dict[tuple[str, int, str], CostTally] = field(default_factory=dict)

    def new_id(self, kind: str) -> int:
        return self.ids.next_int(kind)

    # ------------------------------------------------------------------ look-ups
    def order_in(self, shop: str, number: int | None) -> Order | None:
        order = self.orders.get(number) if number is not None else None
        return order if order is not None and order.shop == shop else None

    def fo_in(self, shop: str, number: int | None) -> FulfillmentOrder | None:
        fo = self.fulfillment_orders.get(number) if number is not None else None
        if fo is None or self.orders[fo.order_id].shop != shop:
            return None
        return fo

    def variant_in(self, shop: str, number: int | None) -> Variant | None:
        variant = self.variants.get(number) if number is not None else None
        return variant if variant is not None and self.variant_shop.get(variant.id) == shop else None

    def variant_of_item(self, item_id: int) -> Variant | None:
        return next((v for v in self.variants.values() if v.inventory_item_id == item_id), None)

    def find_fulfillment(self, shop: str, number: int | None) -> Fulfillment | None:
        for order in self.orders.values():
            if order.shop == shop:
                for fulfillment in order.fulfillments:
                    if fulfillment.id == number:
                        return fulfillment
        return None

    # ------------------------------------------------------------------ inventory
    def available(self, variant: Variant, location_id: int) -> int:
        return self.inventory.get((variant.inventory_item_id, location_id), 0)

    def adjust(self, variant: Variant, location_id: int, delta: int) -> None:
        self.set_available(variant, location_id, self.available(variant, location_id) + delta)

    def set_available(self, variant: Variant, location_id: int, quantity: int) -> None:
        """Write an available quantity; listeners hear of it (inventory_levels/update)."""
        key = (variant.inventory_item_id, location_id)
        if self.inventory.get(key) == quantity:
            return
        self.inventory[key] = quantity
        for listener in self.inventory_listeners:
            listener(variant.inventory_item_id, location_id)

    # ------------------------------------------------------------------ catalog
    def add_variant(self, shop: Shop, sku: str, title: str, price: Decimal, available: int,
                    product_title: str | None = None, policy: str = "DENY") -> Variant:
        product_id = self.new_id("product")
        variant = Variant(self.new_id("variant"), product_id, product_title or title, "Default Title",
                          sku, price, self.new_id("item"), policy)
        self.variants[variant.id] = variant
        self.variant_shop[variant.id] = shop.domain
        for location_id in shop.location_ids:
            self.inventory[(variant.inventory_item_id, location_id)] = available
        return variant

    def tally(self, shop: str, app_id: int, root_field: str) -> CostTally:
        """The cost accounting of one (shop, app, root field), created on first use."""
        key = (shop, app_id, root_field)
        found = self.costs.get(key)
        if found is None:
            found = self.costs[key] = CostTally()
        return found

    def count(self, shop: str, field_name: str, order_id: int | None = None) -> None:
        """Count one executed mutation (benchmarks read these)."""
        self.mutation_counts[(shop, field_name)] += 1
        if order_id is not None:
            self.order_mutation_counts[(order_id, field_name)] += 1
