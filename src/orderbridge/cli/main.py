"""The ``orderbridge`` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orderbridge import __version__
from orderbridge.cli import auth as auth_commands
from orderbridge.cli import cancellations as cancellation_commands
from orderbridge.cli import engine as engine_commands
from orderbridge.cli import exceptions as exception_commands
from orderbridge.cli import play as play_commands
from orderbridge.cli import returns as returns_commands
from orderbridge.cli import sla as sla_commands
from orderbridge.cli import stock as stock_commands
from orderbridge.cli.connect import register as register_connect_commands
from orderbridge.errors import ConfigurationError

app = typer.Typer(
    name="orderbridge",
    help="Mirror TikTok Shop orders into Shopify and send fulfilment back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="The key that encrypts tokens at rest.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
# connect tiktok|shopify|sandbox|webhooks, connections, skus import|link|list, policy show|set
register_connect_commands(app)

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line


# Commands whose own output is the story (the sandbox's URLs; a narrated demo, which prints
# every exception an order raises as it happens, "+UNMAPPED_SKU"): their default log level
# is quieter unless a level is asked for (flag or setting).
_QUIET_BY_DEFAULT = {"demo": "error", "sandbox": "warning"}


def _package_version() -> str:
    """The installed distribution's version (the metadata a wheel carries), else the source's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("orderbridge")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return __version__


def _print_version(value: bool) -> None:
    if value:
        console.print(f"orderbridge {_package_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    _version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="print the version and exit")] = False,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, help="log more: -v is --log-level debug")] = 0,
    log_level: Annotated[str | None, typer.Option(
        help="debug | info | warning | error (default: ORDERBRIDGE_LOG_LEVEL, info)")] = None,
    log_format: Annotated[str | None, typer.Option(
        help="console | json: one JSON object per line (default: ORDERBRIDGE_LOG_FORMAT)")] = None,
) -> None:
    """Mirror TikTok Shop orders into Shopify and send fulfilment back."""
    from orderbridge.logs import LOG_LEVELS, configure_logging
    from orderbridge.settings import load_settings

    if log_level is not None and log_level not in LOG_LEVELS:
        raise typer.BadParameter(f"must be one of {', '.join(LOG_LEVELS)}", param_hint="--log-level")
    if log_format is not None and log_format not in ("console", "json"):
        raise typer.BadParameter("must be console or json", param_hint="--log-format")
    level: str
    fmt: str
    try:
        settings = load_settings()
        level, fmt = settings.log_level, settings.log_format
        level_set = "log_level" in settings.model_fields_set
    except ConfigurationError:  # the command itself reports bad settings when it needs them
        level, fmt, level_set = "info", "console", False
    if not level_set and ctx.invoked_subcommand in _QUIET_BY_DEFAULT:
        level = _QUIET_BY_DEFAULT[ctx.invoked_subcommand]
    if verbose:
        level = "debug"
    if log_level is not None:
        level = log_level
    configure_logging(level, "json" if (log_format or fmt) == "json" else "console")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version (same as --version)."""
    console.print(f"orderbridge {_package_version()}", highlight=False)


@app.command()
def keygen() -> None:
    """Print a new key for ORDERBRIDGE_SECRET_KEY (encrypts tokens at rest)."""
    from cryptography.fernet import Fernet

    console.print(Fernet.generate_key().decode())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored token under the first key of ORDERBRIDGE_SECRET_KEY.

    Run with ORDERBRIDGE_SECRET_KEY="NEW,OLD" (every process already running with both keys,
    so none stops working); afterwards ORDERBRIDGE_SECRET_KEY="NEW" is enough.
    """
    from datetime import UTC, datetime

    from orderbridge.adapters.db import TokenCipher, connections, make_engine, transaction
    from orderbridge.cli.db import require_current_database
    from orderbridge.settings import load_settings

    try:
        settings = load_settings()
        cipher = TokenCipher(settings.secret_key)
        require_current_database(settings.database_url)  # tokens to rotate live in an existing one
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as conn:  # all or nothing: a failure leaves every row as it was
            changed = connections.rotate_tokens(conn, cipher, now=datetime.now(UTC))
    except ConfigurationError as exc:
        raise _fail(f"{exc}; nothing was changed") from None
    finally:
        engine.dispose()
    keys = len([k for k in (settings.secret_key or "").split(",") if k.strip()])
    console.print(f"re-encrypted the tokens of {changed} connection(s) under the first key")
    if keys > 1:
        console.print("the old key(s) are no longer needed: set ORDERBRIDGE_SECRET_KEY to the first key alone")


@db_app.command("upgrade")
def db_upgrade(
    database_url: Annotated[str | None, typer.Option(help="overrides ORDERBRIDGE_DATABASE_URL")] = None,
) -> None:
    """Apply database migrations up to the newest."""
    from orderbridge.adapters.db import DriverError, migrate
    from orderbridge.settings import load_settings

    try:
        settings = load_settings(**({"database_url": database_url} if database_url else {}))
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None
    from orderbridge.cli.db import database_error

    try:
        migrate.upgrade(settings.database_url)
    except DriverError as exc:  # unreachable server, missing database or directory: name it
        raise _fail(str(database_error(settings.database_url, exc))) from None
    console.print(f"database at head: {migrate.current(settings.database_url)}")


@app.command()
def sandbox(
    info_file: Annotated[Path | None, typer.Option(help="write base URLs and credentials here as JSON")] = None,
    host: Annotated[str, typer.Option(envvar="ORDERBRIDGE_SANDBOX_HOST")] = "127.0.0.1",
    control_port: Annotated[int, typer.Option(envvar="ORDERBRIDGE_SANDBOX_CONTROL_PORT", help="0: any free port")] = 9000,
    tiktok_port: Annotated[int, typer.Option(envvar="ORDERBRIDGE_SANDBOX_TIKTOK_PORT")] = 9001,
    shopify_port: Annotated[int, typer.Option(envvar="ORDERBRIDGE_SANDBOX_SHOPIFY_PORT")] = 9002,
    amazon_mcf_port: Annotated[int, typer.Option(envvar="ORDERBRIDGE_SANDBOX_AMAZON_MCF_PORT")] = 9003,
    shipbob_port: Annotated[int, typer.Option(envvar="ORDERBRIDGE_SANDBOX_SHIPBOB_PORT")] = 9004,
    rate: Annotated[float, typer.Option(help="clock speed: 1 = real time, 60 = an hour a minute, 0 = frozen")] = 1.0,
    start: Annotated[str | None, typer.Option(help="clock start, ISO 8601 (default: now)")] = None,
    seed: Annotated[int, typer.Option(help="seed for ids and fault injection")] = 0,
) -> None:
    """Serve the TikTok Shop, Shopify, Amazon MCF and ShipBob sandboxes and the control API until interrupted."""
    from orderbridge.sandbox.runner import SandboxWorld, serve

    start_at = datetime.fromisoformat(start) if start else None

    async def main() -> None:
        world = SandboxWorld(seed=seed, start=start_at, rate=rate)
        ports = {"control": control_port, "tiktok": tiktok_port, "shopify": shopify_port,
                 "amazon_mcf": amazon_mcf_port, "shipbob": shipbob_port}
        running, stop = await serve(world, ports, host)
        info = running.info()
        if info_file is not None:
            running.write_info(info_file)
            console.print(f"TikTok Shop {running.urls['tiktok']}, Shopify {running.urls['shopify']}; "
                          f"base URLs and test credentials in {info_file}", highlight=False)
        else:
            console.print_json(json.dumps(info))
        console.print(
            f"[bold green]sandboxes running[/]: control {running.urls['control']} "
            f"(API docs at {running.urls['control']}/docs); press Ctrl-C to stop"
        )
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stopped.set)
        try:
            await stopped.wait()
        finally:
            await stop()

    try:
        asyncio.run(main())
    except OSError as exc:
        raise _fail(f"could not start the sandboxes: {exc}") from None


@app.command()
def demo(
    orders: Annotated[int, typer.Option("--orders", "-n", min=0, help="extra random paid orders besides the scripted mix")] = 5,
    keep_serving: Annotated[bool, typer.Option(
        "--serve/--exit",
        help="--exit (default): print the report and exit, non-zero if an invariant failed or an order ended "
             "unexpectedly; --serve: keep the sandboxes and the engine running afterwards (Ctrl-C stops)")] = False,
    rate: Annotated[float, typer.Option(help="clock speed while serving afterwards (1 = real time)")] = 1.0,
    seed: Annotated[int, typer.Option(help="seed of the sandboxes and the random orders")] = 7,
) -> None:
    """Run the engine against the local sandboxes on a day of orders and check the invariants (no accounts needed)."""
    from orderbridge.demo.run import run_demo

    ok = asyncio.run(run_demo(console, orders=orders, keep_serving=keep_serving, rate=rate, seed=seed))
    if not ok:
        raise typer.Exit(1)


# The engine's commands (run, status, order, backfill) live in cli/engine.py.
engine_commands.register(app)
# user add|list, token create|list|revoke (cli/auth.py).
auth_commands.register(app)
# exceptions act ID ACTION (cli/exceptions.py).
exception_commands.register(app)
# play order|advance|fulfil|show: acting on the running sandboxes (cli/play.py).
play_commands.register(app)
# sla: the SLA desk (cli/sla.py).
sla_commands.register(app)
# cancellations [approve ORDER]: the cancellation desk (cli/cancellations.py).
cancellation_commands.register(app)
# returns: the seller's return queue, approve/reject, the 30-day window (cli/returns.py).
returns_commands.register(app)
# stock diff|sync|problems: TikTok's stock against Shopify's (cli/stock.py).
stock_commands.register(app)


def main() -> None:
    """Console-script entry point: configuration errors become one clear line."""
    from orderbridge.adapters.db import DriverError

    try:
        app()
    except ConfigurationError as exc:
        err_console.print(f"[bold red]configuration error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except DriverError as exc:  # the database refused or is unreachable: one line, not a traceback
        lines = str(exc.orig or exc).strip().splitlines()
        err_console.print(f"[bold red]database error:[/] {lines[0] if lines else exc.__class__.__name__}",
                          highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
