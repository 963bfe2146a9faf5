"""The engine's commands of ``orderbridge``: run, status, order, backfill.

Registered on the main typer app by ``cli/main.py`` (``register(app)``), kept here so that the
engine's and the connection commands can change without editing one shared file.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from orderbridge.cli.exceptions import fix_command
from orderbridge.cli.output import JsonOpt, emit, row_dict
from orderbridge.errors import ConfigurationError

__all__ = ["register"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line
T = TypeVar("T")


def _services(*, existing: bool = False) -> Any:
    """Services; ``existing``: on a database that exists at the current migration, never
    creating or migrating one (read commands and ``run``); otherwise migrated to head."""
    from orderbridge.bootstrap import Services
    from orderbridge.cli.db import require_current_database
    from orderbridge.settings import load_settings

    settings = load_settings()
    if existing:
        require_current_database(settings.database_url)
    return Services.create(settings, migrate_db=not existing)


def _with_services(work: Callable[[Any], Awaitable[T]], *, existing: bool = False) -> T:
    async def main() -> T:
        services = _services(existing=existing)
        try:
            return await work(services)
        finally:
            await services.aclose()

    return asyncio.run(main())


def _date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run_command(
    role: Annotated[str, typer.Option(help="all (web + workers, one process) | web | worker")] = "all",
) -> None:
    """Run OrderBridge: the web app and/or the reconciler workers and pollers."""
    from orderbridge.cli.db import check_port_free
    from orderbridge.cli.runner import Role, run
    from orderbridge.settings import load_settings

    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter("role must be all, web or worker") from None
    settings = load_settings()
    if chosen is not Role.WORKER:
        check_port_free(settings.host, settings.port)
    elif settings.metrics_port:  # a worker's /metrics port (ORDERBRIDGE_METRICS_PORT)
        check_port_free(settings.host, settings.metrics_port, "ORDERBRIDGE_METRICS_PORT")

    async def main(services: Any) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)

        def ready(info: dict[str, Any]) -> None:
            console.print(f"[bold green]orderbridge running[/] ({chosen.value}): "
                          + ", ".join(f"{k}={v}" for k, v in info.items()))

        await run(services, chosen, stop, ready=ready)

    # The database must exist at the current migration: `run` never migrates (several
    # processes of different versions must not race to change the schema).
    _with_services(main, existing=True)


def status_command(as_json: JsonOpt = False) -> None:
    """Counts of orders by state per connection, and the open exceptions."""
    from orderbridge.adapters.db import connections, links, order_exceptions, transaction
    from orderbridge.engine.returns_window import inside_counts

    services = _services(existing=True)
    try:
        with transaction(services.db, write=False) as conn:
            windows = inside_counts(conn, services.clock.now())
            shops = [{**row_dict(row, "id", "name", "status", "tiktok_shop_id", "tiktok_shop_name",
                                 "shopify_domain"),
                      "orders_by_state": dict(sorted(links.count_by_state(conn, connection_id=row.id).items())),
                      "inside_return_window": windows.get(row.id, 0)}
                     for row in connections.list_connections(conn, services.cipher)]
            # Commands need -c NAME only when there are several connections.
            names = {shop["id"]: shop["name"] for shop in shops} if len(shops) > 1 else {}
            open_rows = []
            for exc in order_exceptions.open_exceptions(conn):
                link = links.get_link(conn, exc.link_id)
                open_rows.append({"tiktok_order_id": link.tiktok_order_id if link else None,
                                  **row_dict(exc, "id", "link_id", "code", "severity", "message", "action",
                                             "created_at"),
                                  "fix": fix_command(exc.action, exc.id, exc.data,
                                                     names.get(link.connection_id) if link else None)})
    finally:
        services.db.dispose()
    if as_json:
        emit({"connections": shops, "open_exceptions": open_rows})
        return
    table = Table(title="connections")
    for column in ("id", "name", "status", "TikTok shop", "Shopify store", "orders by state",
                   "in return window"):
        table.add_column(column)
    for shop in shops:
        text = ", ".join(f"{k} {v}" for k, v in shop["orders_by_state"].items()) or "none yet"
        table.add_row(str(shop["id"]), shop["name"], shop["status"],
                      shop["tiktok_shop_name"] or shop["tiktok_shop_id"], shop["shopify_domain"], text,
                      str(shop["inside_return_window"]))
    console.print(table)
    if not open_rows:
        console.print("no open exceptions")
        return
    exc_table = Table(title=f"open exceptions ({len(open_rows)})")
    for column in ("id", "TikTok order", "code", "severity", "what happened", "fix"):
        exc_table.add_column(column)
    for row in open_rows:
        exc_table.add_row(str(row["id"]), row["tiktok_order_id"] or str(row["link_id"]), row["code"],
                          row["severity"], row["message"], row["fix"])
    console.print(exc_table)


def order_command(
    tiktok_order_id: Annotated[str, typer.Argument(help="the TikTok order id")],
    calls: Annotated[bool, typer.Option("--calls/--no-calls", help="show every API call")] = True,
    as_json: JsonOpt = False,
) -> None:
    """One order: its link, its exceptions and its timeline (with API calls and request ids)."""
    from orderbridge.adapters.db import events, links, order_exceptions, orders, transaction

    services = _services(existing=True)
    found: list[dict[str, Any]] = []
    try:
        with transaction(services.db, write=False) as conn:
            ids = orders.ids_of_tiktok_order(conn, tiktok_order_id)
            for link_id in ids:
                link = links.get_link(conn, link_id)
                assert link is not None
                found.append({
                    **row_dict(link, "tiktok_order_id", "connection_id", "state", "tiktok_status",
                               "shopify_order_id", "shopify_order_name", "next_due_at", "last_error"),
                    "open_exceptions": [{**row_dict(e, "id", "code", "severity", "message", "action"),
                                         "fix": fix_command(e.action, e.id, e.data)}
                                        for e in order_exceptions.open_exceptions(conn, link_id=link.id)],
                    "timeline": [row_dict(e, "at", "kind", "summary", "remote_request_id", "duration_ms")
                                 for e in events.timeline(conn, link.id) if calls or e.kind != "api_call"],
                })
    finally:
        services.db.dispose()
    if not found:
        raise typer.Exit(_missing(tiktok_order_id))
    if as_json:
        emit(found)
        return
    for item in found:
        due = item["next_due_at"]
        console.print(
            f"[bold]TikTok order {item['tiktok_order_id']}[/] (connection {item['connection_id']}): "
            f"state [bold]{item['state']}[/], TikTok {item['tiktok_status'] or '?'}, Shopify "
            f"{item['shopify_order_name'] or item['shopify_order_id'] or 'none'}; next look "
            f"{due.isoformat() if due else 'never'}"
            + (f"; last error: {item['last_error']}" if item["last_error"] else ""))
        for exc in item["open_exceptions"]:
            console.print(f"  [red]{exc['code']}[/] ({exc['severity']}): {exc['message']}"
                          + (f" [bold]fix:[/] {exc['fix']}" if exc["fix"] else ""), highlight=False)
        table = Table(title="timeline")
        for column in ("at", "kind", "what", "request id"):
            table.add_column(column)
        for event in item["timeline"]:
            table.add_row(event["at"].strftime("%Y-%m-%d %H:%M:%S"), event["kind"], event["summary"],
                          event["remote_request_id"] or "")
        console.print(table)


def _missing(tiktok_order_id: str) -> int:
    err_console.print(f"[bold red]error:[/] no order {tiktok_order_id} is known")
    return 1


def backfill_command(
    connection: Annotated[str, typer.Option(help="connection name or id")],
    since: Annotated[str, typer.Option(help="first create date, YYYY-MM-DD (UTC)")],
    until: Annotated[str | None, typer.Option(help="end (exclusive), default: now")] = None,
) -> None:
    """Import TikTok orders created in a date range (orders already in Shopify are linked)."""
    from orderbridge.engine.connect import find_connection
    from orderbridge.engine.poller import backfill

    start, end = _date(since), (_date(until) if until else None)

    async def main(services: Any) -> None:
        row = find_connection(services, connection)
        with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task("orders", total=None)

            def step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = await backfill(services, row, start, end, step)
        console.print(f"{report.seen} orders seen, {report.created_links} new, "
                      f"{report.linked_existing} linked to orders already in Shopify; "
                      "the workers take it from here (orderbridge run)")

    try:
        _with_services(main)
    except ConfigurationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add the engine's commands to ``app``."""
    app.command("run")(run_command)
    app.command("status")(status_command)
    app.command("order")(order_command)
    app.command("backfill")(backfill_command)
