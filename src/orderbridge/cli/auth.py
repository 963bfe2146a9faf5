"""Operators' commands of ``orderbridge``: ``user add|password|list|grant|ungrant``,
``token create|list|revoke``.

They work on the database directly (whoever runs them already holds the database), so the
first admin is made here: ``orderbridge user add alice`` makes the first user an admin and
prints an API token for it, once. Every command is written to the audit log as
``cli:<login name>``.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orderbridge.adapters.db import (
    AlreadyExists,
    Connection,
    Role,
    UserRow,
    make_engine,
    migrate,
    operators,
    transaction,
    web_sessions,
)
from orderbridge.adapters.db.grants import connection_named, grant_connection, revoke_connection
from orderbridge.cli.db import require_current_database
from orderbridge.cli.output import JsonOpt, emit, row_dict
from orderbridge.settings import DEFAULT_TOKEN_DAYS, load_settings
from orderbridge.web import passwords

__all__ = ["cli_actor", "issue_token", "register"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line
user_app = typer.Typer(help="Operators (viewer, operator, admin).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer …).", no_args_is_help=True)
MAX_TOKEN_DAYS = 3650


@contextmanager
def _db(*, existing: bool = False) -> Iterator[Connection]:
    """A transaction on the database; ``existing`` (read commands): it must exist at the
    current migration (never created), else it is migrated to head first."""
    settings = load_settings()
    if existing:
        require_current_database(settings.database_url)
    else:
        migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as conn:
            yield conn
    finally:
        engine.dispose()


def cli_actor() -> str:
    """Who a CLI command acts as in audit and timeline entries: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (containers): still say it came from the CLI
        return "cli"


def _audit(conn: Connection, what: str, now: datetime) -> None:
    operators.audit(conn, at=now, actor=cli_actor(), method="CLI", path=what, status=0)


def issue_token(conn: Connection, user: UserRow, name: str, days: int, now: datetime) -> str:
    """A new token for ``user`` valid ``days`` days (audited); returns the token."""
    token, row = operators.create_token(conn, user, name, now=now, expires_at=now + timedelta(days=days))
    _audit(conn, f"token create {row.id} for {user.name}", now)
    return token


def _show_token(token: str, user: UserRow, days: int) -> None:
    console.print(f"API token for [bold]{user.name}[/] ({user.role}), valid {days} days — shown once, "
                  "store it now:")
    console.print(token, soft_wrap=True, highlight=False)
    console.print(f'use it as: curl -H "Authorization: Bearer {token[:8]}…" <base_url>/api/orders')


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="login name (letters, digits, . _ @ -)")],
    role: Annotated[Role | None, typer.Option(help="viewer | operator | admin (default: admin for the "
                                                   "first user, viewer after)")] = None,
    token: Annotated[bool, typer.Option("--token/--no-token", help="also create an API token")] = True,
    days: Annotated[int, typer.Option(min=1, max=MAX_TOKEN_DAYS, help="token validity")] = DEFAULT_TOKEN_DAYS,
) -> None:
    """Add an operator (the first one is an admin) and print an API token for them."""
    if not name or len(name) > 200 or not all(c.isalnum() or c in "._@-" for c in name):
        raise typer.BadParameter("use letters, digits and . _ @ - (at most 200)", param_hint="NAME")
    now = datetime.now(UTC)
    with _db() as conn:
        chosen = role or (Role.ADMIN if not operators.list_users(conn) else Role.VIEWER)
        try:
            user = operators.add_user(conn, name, chosen, now=now)
        except AlreadyExists as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(1) from None
        _audit(conn, f"user add {name} ({chosen.value})", now)
        secret = issue_token(conn, user, "cli", days, now) if token else None
    console.print(f"added [bold]{name}[/] ({chosen.value})")
    if secret:
        _show_token(secret, user, days)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    why = passwords.problem(password)
    if why:
        raise typer.BadParameter(why, param_hint="password")
    return password


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="the user")],
    stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from the first "
                                                                   "line of stdin (scripts)")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="remove the password (no dashboard sign-in)")] = False,
) -> None:
    """Set a user's dashboard password (argon2id); every session of theirs ends."""
    digest = None if clear else passwords.hash_password(_read_password(stdin))
    now = datetime.now(UTC)
    with _db() as conn:
        user = operators.find_user(conn, name)
        if user is None:
            err_console.print(f"[bold red]error:[/] no user {name!r} (`orderbridge user add {name}`)")
            raise typer.Exit(1)
        web_sessions.set_password_hash(conn, user.id, digest, now=now)
        _audit(conn, f"user password {name} ({'cleared' if clear else 'set'})", now)
    console.print(f"password of [bold]{name}[/] {'cleared' if clear else 'set'}; their sessions ended")


@user_app.command("grant")
def user_grant(
    name: Annotated[str, typer.Argument(help="the user (a viewer or an operator)")],
    connection: Annotated[str, typer.Argument(help="the connection's name")],
) -> None:
    """Let a user see (and, as an operator, act on) a connection's orders; admins see all."""
    _grant(name, connection, give=True)


@user_app.command("ungrant")
def user_ungrant(
    name: Annotated[str, typer.Argument(help="the user")],
    connection: Annotated[str, typer.Argument(help="the connection's name")],
) -> None:
    """Take a connection away from a user (its orders answer 404 to them from now on)."""
    _grant(name, connection, give=False)


def _grant(name: str, connection: str, *, give: bool) -> None:
    now = datetime.now(UTC)
    with _db() as conn:
        user = operators.find_user(conn, name)
        cid = connection_named(conn, connection)
        if user is None or cid is None:
            what = f"user {name!r}" if user is None else f"connection {connection!r}"
            err_console.print(f"[bold red]error:[/] no {what}")
            raise typer.Exit(1)
        changed = grant_connection(conn, user.id, cid, now=now) if give else revoke_connection(conn, user.id, cid)
        _audit(conn, f"user {'grant' if give else 'ungrant'} {name} {connection}", now)
    verb = "may now see" if give else "no longer sees"
    console.print(f"[bold]{name}[/] {verb} {connection}" + ("" if changed else " (unchanged)")
                  + (" — an admin sees every connection anyway" if user.role == Role.ADMIN.value else ""))


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """Every operator with their role."""
    with _db(existing=True) as conn:
        rows = operators.list_users(conn)
    if as_json:
        emit([row_dict(u) for u in rows])
        return
    table = Table(title="users")
    for column in ("id", "name", "role", "created", "disabled"):
        table.add_column(column)
    for u in rows:
        table.add_row(str(u.id), u.name, u.role, u.created_at.isoformat(timespec="seconds"),
                      u.disabled_at.isoformat(timespec="seconds") if u.disabled_at else "")
    console.print(table)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="the user the token acts as")],
    name: Annotated[str, typer.Option(help="a label (where the token is used)")] = "api",
    days: Annotated[int, typer.Option(min=1, max=MAX_TOKEN_DAYS, help="validity")] = DEFAULT_TOKEN_DAYS,
) -> None:
    """Create an API token (printed once; only its hash is stored)."""
    now = datetime.now(UTC)
    with _db() as conn:
        row = operators.find_user(conn, user)
        if row is None:
            err_console.print(f"[bold red]error:[/] no user {user!r} (orderbridge user add)")
            raise typer.Exit(1)
        secret = issue_token(conn, row, name[:200], days, now)
    _show_token(secret, row, days)


@token_app.command("list")
def token_list(user: Annotated[str | None, typer.Option(help="only this user's")] = None,
               as_json: JsonOpt = False) -> None:
    """Tokens (never the tokens themselves): owner, label, prefix, expiry, last use, revoked."""
    with _db(existing=True) as conn:
        users = {u.id: u for u in operators.list_users(conn)}
        owner = operators.find_user(conn, user) if user else None
        if user and owner is None:
            err_console.print(f"[bold red]error:[/] no user {user!r}")
            raise typer.Exit(1)
        rows = operators.list_tokens(conn, owner.id if owner else None)
    if as_json:  # never the hash: the prefix is what identifies a token to a person
        emit([{**row_dict(t, "id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"),
               "user": users[t.user_id].name} for t in rows])
        return
    table = Table(title="API tokens")
    for column in ("id", "user", "label", "prefix", "expires", "last used", "revoked"):
        table.add_column(column)
    for t in rows:
        table.add_row(str(t.id), users[t.user_id].name, t.name, t.prefix + "…",
                      t.expires_at.isoformat(timespec="seconds"),
                      t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never",
                      t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "")
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="id from `token list`")]) -> None:
    """Revoke a token: refused from the next request on."""
    now = datetime.now(UTC)
    with _db() as conn:
        done = operators.revoke_token(conn, token_id, now=now)
        if done:
            _audit(conn, f"token revoke {token_id}", now)
    if not done:
        err_console.print(f"[bold red]error:[/] no active token {token_id}")
        raise typer.Exit(1)
    console.print(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    """Add the ``user`` and ``token`` command groups to ``app``."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
