"""``orderbridge cancellations``: the cancellation desk (pending buyer requests, nearest TikTok
deadline first; ``--json`` for scripts) and ``orderbridge cancellations approve ORDER
[--cancel-downstream]`` (the same approval as ``POST /api/cancellations/{order}/approve``,
recorded on the timeline as ``cli:<login>``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orderbridge.cli.output import JsonOpt, emit

__all__ = ["register"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line
cancellations_app = typer.Typer(
    help="The cancellation desk: buyers' pending cancellation requests (TikTok's Reject is retired "
         "for US sellers: ship an order to refuse its request).",
    invoke_without_command=True)

ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="only this connection (name or id)")]


def _connection_id(services: Any, connection: str | None) -> int | None:
    from orderbridge.engine.connect import find_connection
    from orderbridge.errors import ConfigurationError

    try:
        return None if connection is None else int(find_connection(services, connection).id)
    except ConfigurationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _close(services: Any) -> None:
    """Release the database and stop a sandbox clock's poller (``clock_source = sandbox:``)."""
    from orderbridge.clock import RemoteClock

    if isinstance(services.clock, RemoteClock):
        services.clock.close()
    services.db.dispose()


def _left(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0:
        return f"PAST by {-seconds // 3600}h{(-seconds % 3600) // 60:02d}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


@cancellations_app.callback()
def desk(ctx: typer.Context, connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """Pending buyer cancellation requests: TikTok's deadline, whether the goods can still be
    stopped (and why not), what stopping them takes."""
    if ctx.invoked_subcommand is not None:
        return
    from orderbridge.adapters.db import transaction
    from orderbridge.cli.engine import _services
    from orderbridge.engine.cancel_desk import desk_json, read_cancel_desk

    services = _services(existing=True)
    try:
        cid = _connection_id(services, connection)
        with transaction(services.db, write=False) as conn:
            items = read_cancel_desk(conn, connection_id=cid)
        now = services.clock.now()
    finally:
        _close(services)
    found = [desk_json(item, now) for item in items]
    if as_json:
        emit(found)
        return
    if not found:
        console.print("the cancellation desk is empty: no buyer cancellation request is pending")
        return
    table = Table(title=f"Cancellation desk ({len(found)}): answer before TikTok's deadline")
    for column in ("TikTok order", "Shopify", "state", "left", "stoppable", "why not / steps", "3PL", "reason"):
        table.add_column(column)
    for item in found:
        threepl = f"{item['threepl']} {item['threepl_order_id']} {item['threepl_status'] or ''}".strip() \
            if item["threepl"] else "-"
        table.add_row(item["tiktok_order_id"], item["shopify_order_name"] or "-", item["state"].replace("_", " "),
                      _left(item["seconds_left"]), "yes" if item["stoppable"] else "NO",
                      item["why_not"] or "; ".join(item["steps"]), threepl, item["reason"] or "-")
    console.print(table)


@cancellations_app.command("approve")
def approve(
    order: Annotated[str, typer.Argument(help="the TikTok order id")],
    cancel_downstream: Annotated[bool, typer.Option(
        "--cancel-downstream", help="let OrderBridge cancel at the 3PL (or ask the fulfilment service) first")] = False,
    connection: ConnectionOpt = None,
) -> None:
    """Approve the buyer's request: OrderBridge stops the goods, then approves on TikTok."""
    from orderbridge.adapters.db import transaction
    from orderbridge.cli.auth import cli_actor
    from orderbridge.cli.engine import _services
    from orderbridge.engine.cancel_desk import ApprovalRefused
    from orderbridge.web.cancel_api import approve_request
    from orderbridge.web.overrides import LinkBusy

    services = _services(existing=True)
    try:
        cid = _connection_id(services, connection)
        now = services.clock.now()
        try:
            with transaction(services.db) as conn:
                item = approve_request(conn, order, connection_id=cid, cancel_downstream=cancel_downstream,
                                       now=now, by=cli_actor())
        except LookupError as err:
            err_console.print(f"[bold red]not found:[/] {err}")
            raise typer.Exit(1) from None
        except (ApprovalRefused, LinkBusy) as err:
            err_console.print(f"[bold red]refused:[/] {err}")
            raise typer.Exit(1) from None
    finally:
        _close(services)
    console.print(f"approval of request {item.cancel_id} on TikTok order {order} recorded; OrderBridge now "
                  f"does: {'; then '.join(item.steps)} (`orderbridge order {order}` shows it)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``cancellations`` (and ``cancellations approve``) to ``app``."""
    app.add_typer(cancellations_app, name="cancellations")
