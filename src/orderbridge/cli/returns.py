"""``orderbridge returns``: requests waiting for the seller (from TikTok, soonest deadline
first) and delivered orders inside their 30-day return window; ``returns approve`` and
``returns reject --reason`` answer a request (``returns reasons`` lists TikTok's reasons)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orderbridge.cli.output import JsonOpt, emit

__all__ = ["register"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line
returns_app = typer.Typer(help="Returns and refunds: the seller's queue and the return window.",
                          invoke_without_command=True)
ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="connection name or id")]


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def _run(work: Any) -> Any:
    from orderbridge.cli.engine import _with_services
    from orderbridge.errors import ConfigurationError, OrderBridgeError

    try:
        return _with_services(work, existing=True)
    except ConfigurationError as exc:
        _fail(str(exc))
    except OrderBridgeError as exc:  # TikTok refused or could not be reached: one line
        _fail(f"TikTok: {exc}")


def _connections(services: Any, name: str | None) -> list[Any]:
    from orderbridge.adapters.db import connections, transaction
    from orderbridge.engine.connect import find_connection

    if name is not None:
        return [find_connection(services, name)]
    with transaction(services.db, write=False) as conn:
        return [c for c in connections.list_connections(conn, services.cipher) if c.tiktok_shop_id]


@returns_app.callback()
def list_returns(ctx: typer.Context, connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """Requests that need the seller (approve or reject before the deadline), and the delivered
    orders still inside their 30-day return window."""
    if ctx.invoked_subcommand is not None:
        return

    async def work(services: Any) -> dict[str, Any]:
        from orderbridge.adapters.db import transaction
        from orderbridge.engine.returns_desk import pending_tasks, task_json
        from orderbridge.engine.returns_window import read_windows, window_json

        tasks: list[dict[str, Any]] = []
        rows = _connections(services, connection)
        for row in rows:
            client = services.tiktok_client(row)
            tasks += [task_json(t, row.name if len(rows) > 1 else "") for t in await pending_tasks(client)]
        cid = rows[0].id if connection is not None and rows else None
        with transaction(services.db, write=False) as conn:
            windows = [window_json(w) for w in read_windows(conn, services.clock.now(), connection_id=cid)]
        return {"needs_seller": tasks, "return_windows": windows}

    found = _run(work)
    if as_json:
        emit(found)
        return
    _print(found)


def _print(found: dict[str, Any]) -> None:
    tasks, windows = found["needs_seller"], found["return_windows"]
    if not tasks:
        console.print("no return waits for the seller")
    else:
        table = Table(title=f"returns waiting for the seller ({len(tasks)}): TikTok decides at the deadline")
        for column in ("return", "TikTok order", "type", "status", "deadline", "refund", "approve with"):
            table.add_column(column)
        for t in tasks:
            table.add_row(t["return_id"], t["tiktok_order_id"], t["return_type"], t["status"],
                          t["deadline"] or "-", t["refund_total"], t["approve_decision"])
        console.print(table)
    table = Table(title=f"delivered orders inside the 30-day return window ({len(windows)})")
    for column in ("TikTok order", "Shopify", "delivered", "window closes"):
        table.add_column(column)
    for w in windows:
        table.add_row(w["tiktok_order_id"], w["shopify_order_name"] or "-", w["delivered_at"],
                      w["return_window_closes_at"])
    console.print(table)


def _answer(return_id: str, connection: str | None, *, approve: bool, reason: str = "") -> dict[str, Any]:
    async def work(services: Any) -> dict[str, Any]:
        from orderbridge.engine.returns_desk import answer_return

        rows = _connections(services, connection)
        if len(rows) != 1:
            _fail("several connections: name one with -c")
        answer = await answer_return(services.tiktok_client(rows[0]), return_id, approve=approve, reason=reason)
        return {"return_id": answer.return_id, "decision": answer.decision, "reject_reason": answer.reason}

    result: dict[str, Any] = _run(work)
    return result


@returns_app.command("approve")
def approve(return_id: Annotated[str, typer.Argument(help="TikTok return id")],
            connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """Approve a request (the decision its state calls for: refund, return, receipt, replacement)."""
    result = _answer(return_id, connection, approve=True)
    if as_json:
        emit(result)
    else:
        console.print(f"{return_id}: {result['decision']} sent to TikTok")


@returns_app.command("reject")
def reject(return_id: Annotated[str, typer.Argument(help="TikTok return id")],
           reason: Annotated[str, typer.Option("--reason", help="a name from `orderbridge returns reasons`")],
           connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """Reject a request with one of TikTok's reasons for it."""
    result = _answer(return_id, connection, approve=False, reason=reason)
    if as_json:
        emit(result)
    else:
        console.print(f"{return_id}: {result['decision']} ({reason}) sent to TikTok")


@returns_app.command("reasons")
def reasons(return_id: Annotated[str, typer.Argument(help="TikTok return id")],
            connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """TikTok's reject reasons for one request."""
    async def work(services: Any) -> list[dict[str, str]]:
        rows = _connections(services, connection)
        if len(rows) != 1:
            _fail("several connections: name one with -c")
        return [{"name": r.name, "text": r.text} for r in await services.tiktok_client(rows[0]).reject_reasons(return_id)]

    found: list[dict[str, str]] = _run(work)
    if as_json:
        emit(found)
        return
    for r in found:
        console.print(f"{r['name']}: {r['text']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``returns`` to ``app``."""
    app.add_typer(returns_app, name="returns")
