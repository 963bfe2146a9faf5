"""CLI commands that bring shops and SKUs in: ``connect``, ``connections``, ``skus``, ``policy``.

Registered on the main ``orderbridge`` app by ``register(app)`` (cli/main.py). Every command
reads settings with ``load_settings`` and builds ``Services.create(settings)``; a
configuration problem is one line on stderr and exit code 2, a refusal by a remote API
exit code 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from orderbridge.cli.output import JsonOpt, catalogue_progress, emit, row_dict
from orderbridge.errors import ConfigurationError, RemoteError

__all__ = ["register"]

T = TypeVar("T")

connect_app = typer.Typer(help="Connect a TikTok shop and a Shopify store.", no_args_is_help=True)
skus_app = typer.Typer(help="SKU links: TikTok SKU -> Shopify variant.", no_args_is_help=True)
policy_app = typer.Typer(help="A connection's policy.", no_args_is_help=True)

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line

ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="connection name (default: the only one)")]


def _run(work: Callable[[Any], Awaitable[T]], *, existing: bool = False,
         settings_overrides: dict[str, Any] | None = None) -> T:
    """Build Services, run ``work(services)``, close; errors become one line and an exit code.

    ``existing`` (read commands): the database must exist at the current migration and is
    never created; otherwise it is migrated to head first.
    """
    from orderbridge.bootstrap import Services
    from orderbridge.cli.db import require_current_database
    from orderbridge.settings import load_settings

    async def main() -> T:
        settings = load_settings(**(settings_overrides or {}))
        if existing:
            require_current_database(settings.database_url)
        services = Services.create(settings, migrate_db=not existing)
        try:
            return await work(services)
        finally:
            await services.aclose()

    try:
        return asyncio.run(main())
    except ConfigurationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except RemoteError as exc:
        err_console.print(f"[bold red]refused:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _connection(services: Any, name: str | None) -> Any:
    from orderbridge.adapters.db import connections, transaction
    from orderbridge.engine.connect import find_connection

    if name is not None:
        return find_connection(services, name)
    with transaction(services.db, write=False) as conn:
        rows = connections.list_connections(conn, services.cipher)
    if len(rows) != 1:
        raise ConfigurationError(f"{len(rows)} connections: choose one with --connection")
    return rows[0]


# --- connect --------------------------------------------------------------------------


@connect_app.command("tiktok")
def connect_tiktok(
    name: Annotated[str, typer.Option("--name", help="connection name")],
    code: Annotated[str | None, typer.Option("--code", help="exchange this authorization code directly")] = None,
    shop_id: Annotated[str | None, typer.Option("--shop-id", help="if the authorisation covers several shops")] = None,
) -> None:
    """Print the TikTok authorize link (or, with --code, exchange a code now)."""
    from orderbridge.adapters.tiktok import authorize_url
    from orderbridge.engine.connect import connect_tiktok_with_code
    from orderbridge.engine.oauth_state import make_state

    async def work(services: Any) -> None:
        s = services.settings
        if code is not None:
            row = await connect_tiktok_with_code(services, name, code, shop_id=shop_id)
            console.print(f"connected TikTok shop {row.tiktok_shop_name or row.tiktok_shop_id} as {row.name!r} "
                          f"(status {row.status})")
            return
        if not s.tiktok_service_id:
            raise ConfigurationError("ORDERBRIDGE_TIKTOK_SERVICE_ID is required for the authorize link")
        state = make_state(s.secret_key, name, services.clock.now())
        console.print(authorize_url(s.tiktok_authorize_url, s.tiktok_service_id, state), soft_wrap=True)
        console.print(f"Open the link as the seller. TikTok redirects to {s.base_url.rstrip('/')}"
                      "/oauth/tiktok/callback: the web app must be running there to receive it "
                      "(or pass the code from the redirect with --code).", highlight=False)

    _run(work)


@connect_app.command("shopify")
def connect_shopify_cmd(
    name: Annotated[str, typer.Option("--name", help="connection name")],
    domain: Annotated[str, typer.Option("--domain", help="the store's myshopify.com domain")],
    token: Annotated[str | None, typer.Option(
        "--token", help="an offline Admin API access token to store now (else: print the install link)")] = None,
    location: Annotated[str | None, typer.Option("--location", help="fulfilment location gid")] = None,
) -> None:
    """Print the link that installs the app on the store (or, with --token, store that token)."""
    from orderbridge.adapters.shopify.oauth import valid_shop_domain
    from orderbridge.engine.connect import connect_shopify
    from orderbridge.engine.shopify_install import CALLBACK_PATH, expect_install, install_url

    if valid_shop_domain(domain.strip()) is None:
        err_console.print(f"[bold red]error:[/] --domain {domain[:100]!r} is not a store's myshopify.com domain "
                          "(like example.myshopify.com)", highlight=False)
        raise typer.Exit(2)

    async def work(services: Any) -> None:
        if token is not None:
            row = await connect_shopify(services, name, domain, token, location)
            console.print(f"connected Shopify store {row.shopify_domain} as {row.name!r} "
                          f"(location {row.shopify_location_id}, status {row.status})", highlight=False)
            return
        s = services.settings
        if not s.shopify_client_id or not s.shopify_client_secret:
            raise ConfigurationError("ORDERBRIDGE_SHOPIFY_CLIENT_ID and ORDERBRIDGE_SHOPIFY_CLIENT_SECRET are "
                                     "required for the install link (or pass an access token with --token)")
        row = expect_install(services, name, domain)
        console.print(install_url(services, row.shopify_domain), soft_wrap=True, highlight=False)
        console.print(f"Open the link as the store's owner or staff. Shopify redirects to "
                      f"{s.base_url.rstrip('/')}{CALLBACK_PATH} (list it among the app's allowed redirection "
                      "URLs): the web app must be running there to receive it. The connection "
                      f"{row.name!r} then holds the store's token.", highlight=False)

    _run(work)


@connect_app.command("webhooks")
def connect_webhooks(connection: ConnectionOpt = None) -> None:
    """Subscribe the connection's shops to this deployment's webhook URLs (idempotent)."""
    from orderbridge.engine.connect import register_webhooks

    async def work(services: Any) -> None:
        report = await register_webhooks(services, _connection(services, connection))
        console.print(f"TikTok -> {report.tiktok_address}; Shopify -> {report.shopify_address} "
                      f"(created {len(report.shopify_topics)})", highlight=False)

    _run(work)


@connect_app.command("sandbox")
def connect_sandbox_cmd(
    info_file: Annotated[Path, typer.Option("--info-file", help="the file `orderbridge sandbox --info-file` wrote")],
    name: Annotated[str, typer.Option("--name")] = "sandbox",
    shop_index: Annotated[int, typer.Option("--shop-index")] = 0,
    write_config: Annotated[Path | None, typer.Option(
        "--write-config", help="also write the sandbox settings as TOML here (e.g. orderbridge.toml); "
        "its secrets go to <name>.secrets.toml beside it, mode 0600")] = None,
    wait: Annotated[float, typer.Option(
        "--wait", min=0, help="seconds to wait for the info file (the sandboxes starting)")] = 30.0,
) -> None:
    """Connect a sandbox shop on both sides, register the webhooks, import both catalogues,
    and follow the sandbox's clock."""
    from orderbridge.engine.connect import connect_sandbox, sandbox_settings
    from orderbridge.engine.skus import import_catalogues

    try:
        info = json.loads(_wait_for(info_file, wait).read_text(encoding="utf-8"))
        # The engine's clock is the sandbox's: advancing it (to skip a hold) moves the engine too.
        overrides: dict[str, Any] = {**sandbox_settings(info), "clock_source": f"sandbox:{info['control_url']}"}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        err_console.print(f"[bold red]error:[/] cannot read sandbox info {info_file}: {exc}", highlight=False)
        raise typer.Exit(2) from None

    async def work(services: Any) -> None:
        row = await connect_sandbox(services, info, name=name, shop_index=shop_index)
        console.print(f"connected {row.tiktok_shop_name} <-> {row.shopify_domain} as {row.name!r}; "
                      f"webhooks -> {services.settings.base_url.rstrip('/')}/webhooks/...", highlight=False)
        with catalogue_progress(console) as progress:
            report = await import_catalogues(services, row, progress)
        console.print(f"catalogues imported: {report.summary()}", highlight=False)
        for sku, variants in report.ambiguous.items():
            console.print(f"  AMBIGUOUS {sku}: {', '.join(variants)} (choose: orderbridge skus link {sku} <variant>)",
                          highlight=False)
        for sku in report.unmapped:
            console.print(f"  UNMAPPED  {sku} (no Shopify variant has this SKU: orderbridge skus link {sku} <variant>)",
                          highlight=False)
        console.print(f"clock: the sandbox's ({info['control_url']}/clock)", highlight=False)

    # The file about to be written may be the ORDERBRIDGE_CONFIG that settings must find:
    # start it empty (a named config file that is missing is an error), remove it on failure.
    placeholder = write_config if write_config is not None and not write_config.exists() else None
    if placeholder is not None:
        placeholder.write_text("", encoding="utf-8")
    try:
        if write_config is not None:
            overrides.update(_new_secret_key_if_none())
        _run(work, settings_overrides=overrides)
    except BaseException:
        if placeholder is not None:
            placeholder.unlink(missing_ok=True)
        raise
    if write_config is not None:
        _write_sandbox_config(write_config, overrides)
    else:
        console.print("Later commands need these settings too (or use --write-config):", highlight=False)
        for key, value in sorted(overrides.items()):
            console.print(f"  ORDERBRIDGE_{key.upper()}={value}", highlight=False, soft_wrap=True)


def _wait_for(path: Path, seconds: float) -> Path:
    """``path`` once it exists (the sandboxes write it when they answer), or after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    told = False
    while not path.exists() and time.monotonic() < deadline:
        if not told:
            err_console.print(f"waiting for {path} (start the sandboxes: make sandbox) ...", highlight=False)
            told = True
        time.sleep(0.2)
    return path


def _new_secret_key_if_none() -> dict[str, str]:
    """A fresh ``secret_key`` to write with the sandbox settings when none is configured."""
    from cryptography.fernet import Fernet

    from orderbridge.settings import load_settings

    try:
        configured = load_settings().secret_key
    except ConfigurationError:
        return {}  # the command reports the problem itself
    return {} if configured else {"secret_key": Fernet.generate_key().decode()}


def _write_sandbox_config(config: Path, values: dict[str, Any]) -> None:
    """Merge ``values`` into the TOML file ``config`` (its other keys kept) and write every
    secret (``SECRET_SETTINGS``, incl. any already in the file) to a 0600 secrets file beside
    it (``<stem>.secrets.toml``, named by the config's ``secrets_file``): no command leaves a
    secret in the config file, which people share, commit and paste."""
    import tomllib

    from orderbridge.private_files import write_private
    from orderbridge.settings import SECRET_SETTINGS

    def read(path: Path) -> dict[str, Any]:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        raw = tomllib.loads(text) if text.strip() else {}
        table = raw.get("orderbridge", raw)
        return dict(table) if isinstance(table, dict) else {}

    def toml(table: dict[str, Any]) -> str:
        return "".join(f"{k} = {json.dumps(v)}\n" for k, v in sorted(table.items()))

    secrets_file = config.with_name(f"{config.stem}.secrets.toml")
    merged = {**read(config), **values}
    secrets = {**read(secrets_file), **{k: v for k, v in merged.items() if k in SECRET_SETTINGS}}
    plain = {k: v for k, v in merged.items() if k not in SECRET_SETTINGS}
    write_private(secrets_file, toml(secrets))
    config.write_text(toml({**plain, "secrets_file": secrets_file.name}), encoding="utf-8")
    console.print(f"sandbox settings written to {config} (use ORDERBRIDGE_CONFIG={config}), "
                  f"its secrets to {secrets_file} (mode 0600)"
                  + ("; a new secret_key for this development database" if "secret_key" in values else ""),
                  highlight=False)


def list_connections(as_json: JsonOpt = False) -> None:
    """List the connections (no secrets)."""
    from orderbridge.adapters.db import connections, transaction

    async def work(services: Any) -> None:
        with transaction(services.db, write=False) as conn:
            rows = connections.list_connections(conn, services.cipher)
        if as_json:
            emit([row_dict(r, "id", "name", "status", "tiktok_shop_id", "tiktok_shop_name", "shopify_domain",
                           "shopify_location_id", "created_at") for r in rows])
            return
        table = Table("name", "status", "TikTok shop", "Shopify store", "location")
        for r in rows:
            table.add_row(r.name, r.status, f"{r.tiktok_shop_name or ''} {r.tiktok_shop_id}".strip(),
                          r.shopify_domain or "-", r.shopify_location_id or "-")
        console.print(table if rows else "no connections: see `orderbridge connect --help`")

    _run(work, existing=True)


# --- skus -----------------------------------------------------------------------------


@skus_app.command("import")
def skus_import(connection: ConnectionOpt = None) -> None:
    """Read both catalogues and link equal SKUs (explicit links are kept)."""
    from orderbridge.engine.skus import import_catalogues

    async def work(services: Any) -> None:
        with catalogue_progress(console) as progress:
            report = await import_catalogues(services, _connection(services, connection), progress)
        console.print(report.summary(), highlight=False)
        for sku, variants in report.ambiguous.items():
            console.print(f"  AMBIGUOUS {sku}: {', '.join(variants)}", highlight=False)
        for sku in report.unmapped:
            console.print(f"  UNMAPPED  {sku}", highlight=False)

    _run(work)


@skus_app.command("link")
def skus_link(
    tiktok_sku: Annotated[str, typer.Argument(help="TikTok SKU id or seller SKU")],
    variant_id: Annotated[str, typer.Argument(help="Shopify variant gid")],
    connection: ConnectionOpt = None,
) -> None:
    """Link a TikTok SKU to a Shopify variant; waiting orders resume by themselves."""
    from orderbridge.engine.skus import link_sku

    async def work(services: Any) -> None:
        report = link_sku(services, _connection(services, connection).id, tiktok_sku, variant_id)
        console.print(f"linked {', '.join(report.tiktok_sku_ids)} -> {variant_id}; "
                      f"{len(report.orders_resumed)} order(s) due now", highlight=False)

    _run(work)


@skus_app.command("list")
def skus_list(connection: ConnectionOpt = None) -> None:
    """Every imported TikTok SKU and how it resolves now."""
    from orderbridge.adapters.db import sku_links, transaction
    from orderbridge.engine.skus import resolve_skus

    async def work(services: Any) -> None:
        cid = _connection(services, connection).id
        with transaction(services.db, write=False) as conn:
            rows = sku_links.list_tiktok_skus(conn, cid)
            resolved = resolve_skus(conn, cid, [r.sku_id for r in rows], {r.sku_id: r.seller_sku or "" for r in rows})
        table = Table("seller SKU", "TikTok SKU id", "state", "variant / candidates")
        for r in rows:
            res = resolved[r.sku_id]
            table.add_row(r.seller_sku or "-", r.sku_id, res.state.value,
                          res.variant_id or ", ".join(res.candidates) or "-")
        console.print(table if rows else "no SKUs imported: run `orderbridge skus import`")

    _run(work)


# --- policy ---------------------------------------------------------------------------


@policy_app.command("show")
def policy_show(connection: ConnectionOpt = None, as_json: JsonOpt = False) -> None:
    """The effective policy (stored values over the defaults)."""
    from orderbridge.engine.connect import show_policy

    async def work(services: Any) -> None:
        policy = show_policy(_connection(services, connection))
        if as_json:
            emit(policy)
        else:
            console.print_json(json.dumps(policy, default=str))

    _run(work, existing=True)


@policy_app.command("set")
def policy_set(
    key: Annotated[str, typer.Argument(help="a policy key (see `policy show`)")],
    value: Annotated[str, typer.Argument(help="JSON value, or a bare word for a string")],
    connection: ConnectionOpt = None,
) -> None:
    """Set one policy key (validated before it is stored)."""
    from orderbridge.engine.connect import set_policy

    async def work(services: Any) -> None:
        stored = set_policy(services, _connection(services, connection), key, value)
        console.print(f"{key} = {json.dumps(stored[key])}", highlight=False)

    _run(work)


def register(app: typer.Typer) -> None:
    """Add these commands to the main app."""
    app.add_typer(connect_app, name="connect")
    app.add_typer(skus_app, name="skus")
    app.add_typer(policy_app, name="policy")
    app.command("connections")(list_connections)
