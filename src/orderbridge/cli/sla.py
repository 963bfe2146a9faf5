"""``orderbridge sla``: the SLA desk, every order not yet scanned by its carrier, least time
left first (``--json`` for scripts, like the other read commands)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orderbridge.cli.output import JsonOpt, emit

__all__ = ["register", "sla_command"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line


def _local(value: dict[str, Any] | None, zone: Any) -> str:
    if value is None:
        return "-"
    at: datetime = value["at"]
    mark = "" if value["source"] == "from_tiktok" else " (computed)"
    return at.astimezone(zone).strftime("%a %m-%d %H:%M %Z") + mark


def sla_command(
    connection: Annotated[str | None, typer.Option("--connection", "-c",
                                                   help="only this connection (name or id)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Orders to ship and not yet scanned by the carrier, least business time left first."""
    from orderbridge.adapters.db import transaction
    from orderbridge.cli.engine import _services
    from orderbridge.domain.sla_desk import format_left
    from orderbridge.engine.connect import find_connection
    from orderbridge.engine.sla_desk import desk_json, read_desk
    from orderbridge.errors import ConfigurationError

    services = _services(existing=True)
    try:
        calendar = services.sla_calendar
        try:
            cid = None if connection is None else find_connection(services, connection).id
        except ConfigurationError as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None
        with transaction(services.db, write=False) as conn:
            rows = read_desk(conn, calendar, services.clock.now(), connection_id=cid)
    finally:
        services.db.dispose()
    found = [desk_json(row) for row in rows]
    if as_json:
        emit(found)
        return
    if not found:
        console.print("the SLA desk is empty: every order to ship has its carrier scan")
        return
    several = len({row.connection_id for row in rows}) > 1
    table = Table(title=f"SLA desk ({len(found)}): dispatch is measured at the carrier's first scan")
    columns = ["TikTok order", *(["connection"] if several else []), "Shopify", "state", "business time left",
               "dispatch by", "delivery by", "auto-cancel", "3PL", "alerted"]
    for column in columns:
        table.add_column(column)
    for row, item in zip(rows, found, strict=True):
        left = row.entry.business_left
        left_text = "-" if left is None else ("BREACHED " if row.entry.breached else "") + format_left(left)
        option = f" {item['delivery_option']}" if item["delivery_option"] else ""
        table.add_row(
            item["tiktok_order_id"], *([item["connection"]] if several else []),
            item["shopify_order_name"] or "-", item["desk_state"].replace("_", " "), left_text,
            _local(item["dispatch_deadline"], calendar.zone),
            _local(item["delivery_deadline"], calendar.zone) + option,
            _local(item["auto_cancel_deadline"], calendar.zone),
            item["threepl_status"], ", ".join(item["alerts_sent"]) or "-",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``sla`` to ``app``."""
    app.command("sla")(sla_command)
