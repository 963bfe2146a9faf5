"""``orderbridge stock diff|sync|problems``: TikTok's stock against Shopify's.

- ``diff``: every linked SKU and warehouse where TikTok's number is not what Shopify's stock
  gives (``--json`` for scripts);
- ``sync``: a full reconciliation: push every SKU that disagrees, with a progress bar;
- ``problems``: SKUs whose last push TikTok refused (promotion lock, shared stock, ...).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from orderbridge.cli.output import JsonOpt, emit

__all__ = ["register", "stock_app"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)
stock_app = typer.Typer(help="TikTok's stock against Shopify's (diff, sync, problems).", no_args_is_help=True)

ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="the connection (name or id); "
                                                   "the only one when omitted")]


def _connection(services: Any, name: str | None) -> Any:
    from orderbridge.adapters.db import connections, transaction
    from orderbridge.engine.connect import find_connection
    from orderbridge.errors import ConfigurationError

    try:
        if name is not None:
            return find_connection(services, name)
        with transaction(services.db, write=False) as conn:
            found = connections.list_connections(conn, services.cipher)
        if len(found) != 1:
            raise ConfigurationError(f"{len(found)} connections: name one with --connection")
        return found[0]
    except ConfigurationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _pusher(services: Any) -> Any:
    from orderbridge.engine.stock_push import StockPusher

    return StockPusher(db=services.db, clock=services.clock, cipher=services.cipher,
                       tiktok_for=services.tiktok_client, shopify_for=services.shopify_client)


def _print_diffs(diffs: list[Any], title: str) -> None:
    if not diffs:
        console.print("TikTok's stock agrees with Shopify's for every linked SKU")
        return
    table = Table(title=title)
    for column in ("TikTok SKU", "seller SKU", "product", "warehouse", "expected", "TikTok", "delta"):
        table.add_column(column)
    for d in diffs:
        row = d.to_json()
        table.add_row(row["tiktok_sku_id"], row["seller_sku"] or "-", row["product_id"] or "-",
                      row["warehouse_id"] or "(only one)", str(row["expected"]),
                      "-" if row["tiktok"] is None else str(row["tiktok"]), f"{row['delta']:+d}")
    console.print(table)


@stock_app.command("diff")
def diff_command(connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """Every SKU and warehouse where TikTok's number differs from Shopify's stock."""
    from orderbridge.cli.engine import _services
    from orderbridge.engine.stock_sync import stock_diff

    services = _services(existing=True)
    try:
        row = _connection(services, connection)
        diffs = asyncio.run(stock_diff(services.db, row, services.tiktok_client(row),
                                       services.shopify_client(row), services.clock.now()))
    finally:
        services.db.dispose()
    if as_json:
        emit([d.to_json() for d in diffs])
        return
    _print_diffs(diffs, f"stock that disagrees ({len(diffs)})")


@stock_app.command("sync")
def sync_command(connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """Full reconciliation: push every SKU whose TikTok number is not Shopify's."""
    from orderbridge.cli.engine import _services
    from orderbridge.engine.stock_sync import stock_sync

    services = _services(existing=True)
    try:
        row = _connection(services, connection)
        with Progress(TextColumn("pushing stock"), BarColumn(), MofNCompleteColumn(),
                      console=err_console, disable=as_json) as bar:
            task = bar.add_task("push", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            diffs, products = asyncio.run(stock_sync(
                services.db, row, services.tiktok_client(row), services.shopify_client(row),
                _pusher(services), services.clock.now(), progress))
    finally:
        services.db.dispose()
    if as_json:
        emit({"disagreed": [d.to_json() for d in diffs], "products_pushed": products})
        return
    _print_diffs(diffs, f"pushed ({len(diffs)} SKU/warehouse disagreed, {products} products)")


@stock_app.command("problems")
def problems_command(connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """SKUs whose stock TikTok refused (not retried until their stock changes again)."""
    from orderbridge.adapters.db import stock as stock_db
    from orderbridge.adapters.db import transaction
    from orderbridge.cli.engine import _services

    services = _services(existing=True)
    try:
        row = _connection(services, connection)
        with transaction(services.db, write=False) as conn:
            rows = stock_db.list_rows(conn, row.id, problems_only=True)
    finally:
        services.db.dispose()
    found: list[dict[str, Any]] = [{"tiktok_sku_id": r.tiktok_sku_id, "product_id": r.product_id, "kind": r.problem_kind,
              "code": r.problem_code, "message": r.problem_message,
              "at": r.problem_at.isoformat() if r.problem_at else None} for r in rows]
    if as_json:
        emit(found)
        return
    if not found:
        console.print("no stock problems")
        return
    table = Table(title=f"stock TikTok refused ({len(found)})")
    for column in ("TikTok SKU", "product", "kind", "code", "message", "since"):
        table.add_column(column)
    for f in found:
        table.add_row(*(str(f[k] if f[k] is not None else "-") for k in
                        ("tiktok_sku_id", "product_id", "kind", "code", "message", "at")))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``stock`` to ``app``."""
    app.add_typer(stock_app, name="stock")
