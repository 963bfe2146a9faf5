"""Exceptions from the command line: the fix shown for each one is a command that exists.

An exception stores the domain's action (``link_sku``, ``retry``, ``approve`` …); people read
``fix_command`` instead: ``orderbridge skus link …`` for a SKU, ``orderbridge connect …`` for
a lost authorisation, and ``orderbridge exceptions act ID ACTION`` for the actions an
operator takes on the order (the same override the JSON API's
``POST /api/exceptions/{id}/action`` applies, recorded on the timeline as ``cli:<login>``).
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from orderbridge.domain.exceptions import IssueAction

__all__ = ["fix_command", "register"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line
exceptions_app = typer.Typer(help="Act on an order's exception (the fix `status` shows).", no_args_is_help=True)


def fix_command(action: str | None, exception_id: int, data: dict[str, Any] | None,
                connection: str | None = None) -> str:
    """The command that takes ``action`` on exception ``exception_id`` ("" when none applies).

    ``connection``: the connection's name, given when several exist (commands need ``-c``).
    """
    if not action:
        return ""
    info = data or {}
    pick = f" -c {shlex.quote(connection)}" if connection else ""
    if action == IssueAction.LINK_SKU:
        sku = str(info.get("seller_sku") or info.get("sku_id") or "<TikTok SKU>")
        hint = " (candidates: orderbridge skus list)" if info.get("candidates") else ""
        return f"orderbridge skus link {shlex.quote(sku)} <Shopify variant gid>{pick}{hint}"
    if action == IssueAction.RECONNECT:
        name = shlex.quote(connection) if connection else "NAME"
        return f"orderbridge connect tiktok --name {name} (or connect shopify)"
    if action == IssueAction.SHIP_NOW:  # the merchant ships; the tracking answers the buyer
        return "fulfil the order in Shopify now (its tracking reaches TikTok by itself)"
    return f"orderbridge exceptions act {exception_id} {action}"


@exceptions_app.command("act")
def act(
    exception_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="the id `status` shows")],
    action: Annotated[str, typer.Argument(help="retry | approve | push_anyway | cancel_on_tiktok | dismiss")],
    reason: Annotated[str | None, typer.Option(help="for cancel_on_tiktok: the reason sent to TikTok")] = None,
) -> None:
    """Take an exception's action: recorded on the order (read by the next decision), order due now."""
    from orderbridge.adapters.db import links, make_engine, order_exceptions, transaction
    from orderbridge.cli.auth import cli_actor
    from orderbridge.cli.db import require_current_database
    from orderbridge.settings import load_settings
    from orderbridge.web.overrides import LinkBusy, OverrideRefused, apply_override, memory_change

    settings = load_settings()
    require_current_database(settings.database_url)
    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        with transaction(engine) as conn:
            exc = order_exceptions.get_exception(conn, exception_id)
            if exc is None:
                raise _refused(f"no exception {exception_id} (ids: orderbridge status)")
            link = links.get_link(conn, exc.link_id)
            if link is None:
                raise _refused(f"exception {exception_id} belongs to no order")
            if action in (IssueAction.LINK_SKU, IssueAction.RECONNECT):  # not an override: a command
                raise _refused(f"{action} is done with: {fix_command(action, exception_id, exc.data)}")
            try:
                change = memory_change(action, exc.code, exc.data, reason)
                apply_override(conn, link, action=action, code=exc.code, change=change, now=now, by=cli_actor())
            except OverrideRefused as err:
                raise _refused(str(err)) from None
            except LinkBusy as err:
                raise _refused(str(err)) from None
            if action == IssueAction.DISMISS:
                order_exceptions.dismiss(conn, exception_id, now=now)
    finally:
        engine.dispose()
    console.print(f"{action} on {exc.code} of TikTok order {link.tiktok_order_id}: recorded; the order is due "
                  "now (`orderbridge order` shows what the engine does)", highlight=False)


def _refused(message: str) -> typer.Exit:
    err_console.print(f"[bold red]refused:[/] {message}")
    return typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``exceptions act`` to ``app``."""
    app.add_typer(exceptions_app, name="exceptions")
