"""``orderbridge play``: act on the running sandboxes as the buyer, the merchant and the clock.

The commands of docs/getting-started.md: place an order on TikTok, advance the sandbox
clock, fulfil in Shopify with a valid tracking number, and look at both sides. They talk to
the control API named in the sandbox's info file (``orderbridge sandbox --info-file``), so
no port or id is typed by hand. ``play order`` prints only the new order id on stdout (for
``ORDER=$(…)``); everything else a person reads.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console

__all__ = ["parse_duration", "register"]

T = TypeVar("T")

play_app = typer.Typer(
    help="Act on the running sandboxes (`orderbridge sandbox`): place orders, advance the clock, fulfil.",
    no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

InfoOpt = Annotated[Path, typer.Option(
    "--info-file", envvar="ORDERBRIDGE_SANDBOX_INFO",
    help="the file `orderbridge sandbox --info-file` wrote")]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``30m``, ``1h``, ``1h30m``, ``2d`` (a clear error otherwise)."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise typer.BadParameter(f"{text!r} is not a duration (e.g. 3600, 30m, 1h, 1h30m, 2d)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _control(info_file: Path, work: Callable[[Any, dict[str, Any]], Awaitable[T]]) -> T:
    """Run ``work(control, info)``; a missing sandbox or a refusal is one line and exit 1."""
    from orderbridge.devkit import ControlClient, SandboxError

    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
        url = str(info["control_url"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        err_console.print(f"[bold red]error:[/] cannot read sandbox info {info_file}: {exc} "
                          "(start the sandboxes: make sandbox)")
        raise typer.Exit(2) from None

    async def main() -> T:
        async with httpx.AsyncClient(timeout=30) as http:
            return await work(ControlClient(url, http), info)

    try:
        return asyncio.run(main())
    except SandboxError as exc:
        err_console.print(f"[bold red]refused:[/] {exc}")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        err_console.print(f"[bold red]error:[/] the sandbox at {url} does not answer ({exc.__class__.__name__}); "
                          "is `make sandbox` still running?")
        raise typer.Exit(1) from None


@play_app.command("order")
def place_order(
    seller_skus: Annotated[list[str], typer.Argument(help="seller SKUs, e.g. MW-SET-NAT (one unit each; repeat for more)")],
    unpaid: Annotated[bool, typer.Option("--unpaid", help="the buyer has not paid yet")] = False,
    shop_index: Annotated[int, typer.Option("--shop-index", min=0, help="which sandbox shop")] = 0,
    info_file: InfoOpt = Path("sandbox-info.json"),
) -> None:
    """A buyer orders on TikTok; prints the new order id (alone, on stdout)."""

    async def work(control: Any, info: dict[str, Any]) -> str:
        units: dict[str, int] = {}
        for sku in seller_skus:
            units[sku] = units.get(sku, 0) + 1
        shop = info["tiktok"]["shops"][shop_index]["shop_id"]
        order = await control.place_order(
            shop=shop, payment="pending" if unpaid else "paid",
            items=[{"seller_sku": sku, "units": n} for sku, n in units.items()])
        return str(order["id"]) + "\t" + str(order["status"])

    order_id, status = _control(info_file, work).split("\t")
    err_console.print(f"TikTok order {order_id} placed ({status})")
    print(order_id)


@play_app.command("advance")
def advance(
    duration: Annotated[str, typer.Argument(help="how far: 3600, 30m, 1h, 1h30m, 2d")],
    info_file: InfoOpt = Path("sandbox-info.json"),
) -> None:
    """Move the sandboxes' clock forward; every timer that became due runs (the engine follows)."""
    seconds = parse_duration(duration)

    async def work(control: Any, _info: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await control.advance(seconds)
        return result

    clock = _control(info_file, work)
    console.print(f"sandbox clock advanced {seconds:g} s: now {clock.get('now')}")


@play_app.command("fulfil")
def fulfil(
    tiktok_order_id: Annotated[str, typer.Argument(help="the TikTok order id")],
    carrier: Annotated[str, typer.Option(help="USPS or UPS")] = "USPS",
    tracking: Annotated[str | None, typer.Option(help="tracking number (default: a valid one is made up)")] = None,
    info_file: InfoOpt = Path("sandbox-info.json"),
) -> None:
    """The merchant fulfils the order's Shopify mirror with a tracking number (all units)."""
    from orderbridge.devkit import tracking_number
    from orderbridge.domain.carriers import Carrier

    chosen = {"USPS": Carrier.USPS, "UPS": Carrier.UPS}.get(carrier.upper())
    if chosen is None:
        raise typer.BadParameter("carrier must be USPS or UPS")
    company = carrier.upper()
    number = tracking or tracking_number(chosen, int(tiktok_order_id[-9:]) if tiktok_order_id[-9:].isdigit() else 1)

    async def work(control: Any, _info: dict[str, Any]) -> str:
        from orderbridge.devkit import SandboxError

        mirrors = await control.shopify_orders(source_identifier=tiktok_order_id)
        if not mirrors:
            raise SandboxError(f"no Shopify order mirrors TikTok order {tiktok_order_id} yet "
                                     "(is `orderbridge run` running? see `orderbridge order`)")
        done: dict[str, Any] = await control.fulfil(str(mirrors[0]["id"]), company, number)
        return f"{mirrors[0].get('name')} fulfilled ({done.get('name')}), {company} {number}"

    console.print(f"Shopify order {_control(info_file, work)}")


@play_app.command("show")
def show(
    tiktok_order_id: Annotated[str, typer.Argument(help="the TikTok order id")],
    info_file: InfoOpt = Path("sandbox-info.json"),
) -> None:
    """Both sides as the sandboxes hold them: TikTok status and tracking, Shopify order and holds."""

    async def work(control: Any, _info: dict[str, Any]) -> list[str]:
        order = await control.tiktok_order(tiktok_order_id)
        lines = [f"TikTok {order['id']}: {order['status']}"]
        for package in await control.tiktok_packages(tiktok_order_id):
            lines.append(f"  package {package['package_id']}: {package['shipping_provider_name']} "
                         f"{package['tracking_number']}")
        for mirror in await control.shopify_orders(source_identifier=tiktok_order_id):
            holds = [h["handle"] or h["reason"] for fo in mirror.get("fulfillment_orders", []) for h in fo["holds"]]
            states = sorted({fo["status"] for fo in mirror.get("fulfillment_orders", [])})
            lines.append(f"Shopify {mirror.get('name')}: {mirror.get('financial_status')}, "
                         f"{mirror.get('fulfillment_status') or 'unfulfilled'}; fulfilment orders "
                         f"{', '.join(states) or 'none yet'}; holds {', '.join(holds) or 'none'}")
        return lines

    for line in _control(info_file, work):
        console.print(line)


def register(app: typer.Typer) -> None:
    """Add ``play`` to ``app``."""
    app.add_typer(play_app, name="play")
