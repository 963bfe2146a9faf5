"""Building the default world and realistic orders (addresses, taxes, payment, SLAs).

SLA calendar (sandbox approximation, documented): deadlines are the end of the Nth US
business day (11:59:59 pm Pacific) after the Pacific date of payment; only weekends are
skipped, not federal holidays.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from orderbridge.clock import as_utc
from orderbridge.sandbox.tiktok.constants import (
    DEFAULT_APP_KEY,
    DEFAULT_APP_NAME,
    DEFAULT_APP_SECRET,
    DEFAULT_CURRENCY,
    DEFAULT_REDIRECT_URI,
    DEFAULT_SERVICE_ID,
    DEFAULT_SHOP_NAMES,
    DEFAULT_STOCK,
    DeliveryOption,
)
from orderbridge.sandbox.tiktok.state import (
    Address,
    App,
    Charges,
    LineItem,
    Payment,
    Product,
    Shop,
    Sku,
    World,
)

__all__ = [
    "CENT",
    "DEFAULT_ADDRESSES",
    "ItemSpec",
    "add_business_days",
    "build_default_world",
    "build_lines",
    "compute_payment",
    "money",
    "tax_rate_for",
]

PACIFIC = ZoneInfo("America/Los_Angeles")
CENT = Decimal("0.01")
IMAGE_BASE = "https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/sbx"

# Combined state + typical local sales-tax rates (sandbox approximation).
STATE_TAX_RATES: dict[str, Decimal] = {
    "CA": Decimal("0.0725"), "NY": Decimal("0.08875"), "TX": Decimal("0.0825"),
    "WA": Decimal("0.101"), "FL": Decimal("0.07"), "IL": Decimal("0.1025"),
    "CO": Decimal("0.0881"), "MN": Decimal("0.06875"), "PA": Decimal("0.06"),
    "NJ": Decimal("0.06625"), "MA": Decimal("0.0625"), "GA": Decimal("0.089"),
    "OR": Decimal("0"), "DE": Decimal("0"), "MT": Decimal("0"), "NH": Decimal("0"),
    "AK": Decimal("0"),
}
DEFAULT_US_TAX_RATE = Decimal("0.06")
# Retail delivery fees: Colorado on every order, Minnesota from $100 (sandbox values).
COLORADO_RDF = Decimal("0.28")
MINNESOTA_RDF = Decimal("0.50")
MINNESOTA_RDF_THRESHOLD = Decimal("100")

DEFAULT_ADDRESSES: tuple[Address, ...] = (
    Address("Jordan Lee", "(+1)4085550142", "1199 Coleman Ave", "Apt 12", "San Jose",
            "Santa Clara", "California", "CA", "95110"),
    Address("Maria Gonzalez", "(+1)5125550199", "2400 E Cesar Chavez St", "", "Austin",
            "Travis", "Texas", "TX", "78702"),
    Address("Aiden Park", "(+1)2125550117", "350 W 42nd St", "Unit 18C", "New York",
            "New York", "New York", "NY", "10036"),
    Address("Priya Shah", "(+1)2065550163", "1520 Pike Pl", "", "Seattle", "King",
            "Washington", "WA", "98101"),
    Address("Sam Whitaker", "(+1)3035550188", "1701 Wynkoop St", "Suite 200", "Denver",
            "Denver", "Colorado", "CO", "80202"),
    Address("Chloe Martin", "(+1)6125550134", "800 Nicollet Mall", "", "Minneapolis",
            "Hennepin", "Minnesota", "MN", "55402"),
)

DEFAULT_CATALOGUE: tuple[tuple[str, str, str, str], ...] = (
    # product title, sku name, seller sku, price
    ("Bamboo Matcha Whisk Set", "Natural", "MW-SET-NAT", "24.99"),
    ("Bamboo Matcha Whisk Set", "Black", "MW-SET-BLK", "26.99"),
    ("Ceramic Matcha Bowl", "White", "BOWL-WHT", "18.00"),
    ("Ceramic Matcha Bowl", "Green", "BOWL-GRN", "18.00"),
    ("Ceremonial Matcha 30g", "30g tin", "MATCHA-CER-30", "29.50"),
    ("Culinary Matcha 100g", "100g bag", "MATCHA-CUL-100", "15.75"),
    ("Whisk Holder", "Ceramic", "WHISK-HOLDER", "9.99"),
    ("Bamboo Scoop", "Chashaku", "SCOOP-BMB", "6.49"),
    # Two Shopify variants share this SKU in the Shopify sandbox (an ambiguous link).
    ("Matcha Sampler", "Trio", "DUP-SKU", "12.00"),
)


def money(value: Decimal | str | int | float) -> Decimal:
    """A Decimal rounded half-up to cents (floats are taken via their str)."""
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    return dec.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_rate_for(address: Address) -> Decimal:
    """Sales-tax rate of the destination (0 outside the US)."""
    if address.region_code != "US":
        return Decimal("0")
    return STATE_TAX_RATES.get(address.state_code.upper(), DEFAULT_US_TAX_RATE)


def add_business_days(anchor: datetime, days: int) -> datetime:
    """End (23:59:59 Pacific) of the ``days``-th business day after ``anchor``'s Pacific date."""
    day: date = as_utc(anchor).astimezone(PACIFIC).date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            added += 1
    end = datetime.combine(day, time(23, 59, 59), tzinfo=PACIFIC)
    return as_utc(end)


@dataclass(frozen=True)
class ItemSpec:
    """One ordered SKU: ``units`` units, per-unit discounts."""

    product: Product
    sku: Sku
    units: int
    seller_discount: Decimal = Decimal("0")
    platform_discount: Decimal = Decimal("0")


def build_lines(world: World, items: list[ItemSpec], rate: Decimal, zero_total: str = "") -> list[LineItem]:
    """One line item per unit; ``zero_total`` = "platform"/"seller" makes every line $0."""
    lines: list[LineItem] = []
    for spec in items:
        for _ in range(spec.units):
            price = money(spec.sku.price)
            seller = money(spec.seller_discount)
            platform = money(spec.platform_discount)
            if zero_total == "platform":
                seller, platform = Decimal("0.00"), price
            elif zero_total == "seller":
                seller, platform = price, Decimal("0.00")
            sale = price - seller - platform
            lines.append(LineItem(
                id=world.ids.next("line"), sku_id=spec.sku.id, product_id=spec.product.id,
                product_name=spec.product.title, sku_name=spec.sku.name,
                seller_sku=spec.sku.seller_sku, sku_image=spec.product.image,
                original_price=price, seller_discount=seller, platform_discount=platform,
                tax_amount=money(sale * rate), tax_rate=rate,
            ))
    return lines


def compute_payment(
    lines: list[LineItem],
    address: Address,
    original_shipping_fee: Decimal,
    shipping_seller_discount: Decimal,
    shipping_platform_discount: Decimal,
    charges: Charges | None = None,
) -> Payment:
    """The order payment block, satisfying the documented formulas; ``charges`` adds tax on
    shipping, handling, insurance (+ its tax) and may set the retail delivery fee. The total
    is ``sub_total + shipping_fee + tax + retail_delivery_fee + handling_fee +
    item_insurance_fee + item_insurance_tax``; ``tax`` is product tax + shipping tax."""
    extra = charges or Charges()
    original = sum((li.original_price for li in lines), Decimal("0.00"))
    seller = sum((li.seller_discount for li in lines), Decimal("0.00"))
    platform = sum((li.platform_discount for li in lines), Decimal("0.00"))
    sub_total = original - seller - platform
    ship_orig = money(original_shipping_fee)
    ship_seller = min(money(shipping_seller_discount), ship_orig)
    ship_platform = min(money(shipping_platform_discount), ship_orig - ship_seller)
    shipping_fee = ship_orig - ship_seller - ship_platform
    product_tax = sum((li.tax_amount for li in lines), Decimal("0.00"))
    shipping_tax = money(extra.shipping_fee_tax)
    tax = product_tax + shipping_tax
    rdf = Decimal("0.00")
    if extra.retail_delivery_fee is not None:
        rdf = money(extra.retail_delivery_fee)
    elif address.region_code == "US" and sub_total > 0:
        if address.state_code == "CO":
            rdf = COLORADO_RDF
        elif address.state_code == "MN" and sub_total >= MINNESOTA_RDF_THRESHOLD:
            rdf = MINNESOTA_RDF
    return Payment(
        currency=DEFAULT_CURRENCY, original_total_product_price=original, seller_discount=seller,
        platform_discount=platform, sub_total=sub_total, original_shipping_fee=ship_orig,
        shipping_fee_seller_discount=ship_seller, shipping_fee_platform_discount=ship_platform,
        shipping_fee_cofunded_discount=Decimal("0.00"), shipping_fee=shipping_fee,
        product_tax=product_tax, shipping_fee_tax=shipping_tax, tax=tax,
        retail_delivery_fee=rdf,
        total_amount=sub_total + shipping_fee + tax + rdf + money(extra.handling_fee)
        + money(extra.item_insurance_fee) + money(extra.item_insurance_tax),
        handling_fee=money(extra.handling_fee), item_insurance_fee=money(extra.item_insurance_fee),
        item_insurance_tax=money(extra.item_insurance_tax),
    )


def add_product(world: World, shop: Shop, title: str, skus: list[tuple[str, str, Decimal, int]],
                now: datetime) -> Product:
    """A product with SKUs ``(name, seller_sku, price, stock)`` stocked in the shop warehouse."""
    product = Product(
        id=world.ids.next("product"), shop_id=shop.id, title=title,
        image=f"{IMAGE_BASE}/{title.lower().replace(' ', '-')}.jpeg", create_time=now, update_time=now,
    )
    for name, seller_sku, price, stock in skus:
        product.skus.append(Sku(world.ids.next("sku"), seller_sku, name, money(price),
                                {shop.warehouse_id: stock}))
    shop.products[product.id] = product
    return product


def add_shop(world: World, name: str, now: datetime) -> Shop:
    """A US seller-shipping shop with its warehouse and delivery options."""
    rng = random.Random(f"{world.seed}:{name}")
    index = len(world.shops) + 1
    shop = Shop(
        id=world.ids.next("shop"), name=name,
        cipher="ROW_" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(22)),
        code=f"USLC{index:06d}SBX", warehouse_id=world.ids.next("warehouse"),
        open_id=world.ids.next("open_id"), created_at=now,
    )
    for option in DeliveryOption:
        shop.delivery_options[option] = world.ids.next("delivery_option")
    shop.tiktok_delivery_option_id = world.ids.next("delivery_option")
    world.shops[shop.id] = shop
    return shop


def build_default_world(seed: int, now: datetime) -> World:
    """One app, two seller-shipping US shops, each with the default catalogue."""
    world = World(seed)
    world.apps[DEFAULT_APP_KEY] = App(
        DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_SERVICE_ID, DEFAULT_APP_NAME, DEFAULT_REDIRECT_URI,
    )
    for shop_name in DEFAULT_SHOP_NAMES:
        shop = add_shop(world, shop_name, now)
        by_title: dict[str, list[tuple[str, str, Decimal, int]]] = {}
        for title, sku_name, seller_sku, price in DEFAULT_CATALOGUE:
            by_title.setdefault(title, []).append((sku_name, seller_sku, Decimal(price), DEFAULT_STOCK))
        for title, skus in by_title.items():
            add_product(world, shop, title, skus, now)
    return world
