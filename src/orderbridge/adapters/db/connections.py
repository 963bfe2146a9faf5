"""Connections: one TikTok shop paired with one Shopify store, with their tokens.

Tokens go in as plaintext and are stored only as ``TokenCipher`` ciphertext; rows come
back with plaintext tokens (hidden from ``repr``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypedDict, Unpack

from sqlalchemy import ColumnElement, Connection, select, update

from orderbridge.adapters.db._sql import insert_for, row_dict
from orderbridge.adapters.db.crypto import TokenCipher
from orderbridge.adapters.db.errors import AlreadyExists
from orderbridge.adapters.db.tables import connections as t
from orderbridge.adapters.db.types import ConnectionStatus
from orderbridge.errors import ConfigurationError

__all__ = [
    "ConnectionDetails",
    "ConnectionFields",
    "ConnectionRow",
    "create_connection",
    "find_connection",
    "get_connection",
    "list_connection_ids",
    "list_connections",
    "rotate_tokens",
    "undecryptable",
    "update_connection",
]

# Plaintext field -> ciphertext column.
_SECRETS: Final = {
    "tiktok_access_token": "tiktok_access_token_enc",
    "tiktok_refresh_token": "tiktok_refresh_token_enc",
    "shopify_token": "shopify_token_enc",
    "shopify_refresh_token": "shopify_refresh_token_enc",
}


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    """One connection, tokens decrypted."""

    id: int
    name: str
    tiktok_shop_id: str
    tiktok_shop_cipher: str | None
    tiktok_shop_name: str | None
    tiktok_app_key: str | None
    tiktok_access_token_expires_at: datetime | None
    tiktok_refresh_token_expires_at: datetime | None
    shopify_domain: str
    shopify_scopes: tuple[str, ...]
    shopify_location_id: str | None
    shopify_token_expires_at: datetime | None
    shopify_refresh_token_expires_at: datetime | None
    policy: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime
    tiktok_access_token: str | None = field(default=None, repr=False)
    tiktok_refresh_token: str | None = field(default=None, repr=False)
    shopify_token: str | None = field(default=None, repr=False)
    shopify_refresh_token: str | None = field(default=None, repr=False)


class ConnectionDetails(TypedDict, total=False):
    """Optional fields of ``create_connection`` (tokens as plaintext)."""

    tiktok_shop_cipher: str | None
    tiktok_shop_name: str | None
    tiktok_app_key: str | None
    tiktok_access_token: str | None
    tiktok_access_token_expires_at: datetime | None
    tiktok_refresh_token: str | None
    tiktok_refresh_token_expires_at: datetime | None
    shopify_token: str | None
    shopify_scopes: Sequence[str] | None
    shopify_location_id: str | None
    shopify_token_expires_at: datetime | None
    shopify_refresh_token: str | None
    shopify_refresh_token_expires_at: datetime | None


class ConnectionFields(ConnectionDetails, total=False):
    """What ``update_connection`` may change (tokens as plaintext)."""

    name: str
    shopify_domain: str
    policy: dict[str, Any]
    status: str


def _to_columns(cipher: TokenCipher, fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _SECRETS:
            values[_SECRETS[key]] = cipher.encrypt_optional(value)
        elif key == "shopify_scopes":
            values[key] = None if value is None else ",".join(value)
        elif key == "status":
            values[key] = str(value)
        else:
            values[key] = value
    return values


def _row(cipher: TokenCipher, row: Any) -> ConnectionRow:
    data = row_dict(row)
    for plain, column in _SECRETS.items():
        data[plain] = cipher.decrypt_optional(data.pop(column))
    scopes = data["shopify_scopes"]
    data["shopify_scopes"] = tuple(s for s in scopes.split(",") if s) if scopes else ()
    return ConnectionRow(**data)


def create_connection(
    conn: Connection,
    cipher: TokenCipher,
    *,
    name: str,
    tiktok_shop_id: str,
    shopify_domain: str,
    now: datetime,
    status: str = ConnectionStatus.ACTIVE,
    policy: dict[str, Any] | None = None,
    **fields: Unpack[ConnectionDetails],
) -> ConnectionRow:
    """Store a new connection; ``AlreadyExists`` if the name or TikTok shop is taken."""
    values = _to_columns(cipher, dict(fields))
    values.update(
        name=name,
        tiktok_shop_id=tiktok_shop_id,
        shopify_domain=shopify_domain,
        status=str(status),
        policy=policy or {},
        created_at=now,
        updated_at=now,
    )
    stmt = insert_for(conn, t).values(values).on_conflict_do_nothing().returning(*t.c)
    row = conn.execute(stmt).first()
    if row is None:
        raise AlreadyExists(
            f"a connection named {name!r} or for TikTok shop {tiktok_shop_id} already exists"
        )
    return _row(cipher, row)


def update_connection(
    conn: Connection,
    cipher: TokenCipher,
    connection_id: int,
    *,
    now: datetime,
    **changes: Unpack[ConnectionFields],
) -> ConnectionRow | None:
    """Change fields of a connection (tokens as plaintext); ``None`` if it does not exist."""
    values = _to_columns(cipher, dict(changes))
    values["updated_at"] = now
    stmt = update(t).where(t.c.id == connection_id).values(values).returning(*t.c)
    row = conn.execute(stmt).first()
    return None if row is None else _row(cipher, row)


def set_tiktok_shop_id(conn: Connection, connection_id: int, tiktok_shop_id: str, *, now: datetime) -> None:
    """Give a connection another TikTok shop id (``update_connection`` never changes it: a
    deliberate rename is rare, and only authorising a shop does it)."""
    conn.execute(update(t).where(t.c.id == connection_id)
                 .values(tiktok_shop_id=tiktok_shop_id, updated_at=now))


def get_connection(conn: Connection, cipher: TokenCipher, connection_id: int) -> ConnectionRow | None:
    """The connection with this id, if any."""
    row = conn.execute(select(t).where(t.c.id == connection_id)).first()
    return None if row is None else _row(cipher, row)


def find_connection(
    conn: Connection,
    cipher: TokenCipher,
    *,
    name: str | None = None,
    tiktok_shop_id: str | None = None,
    shopify_domain: str | None = None,
) -> ConnectionRow | None:
    """The connection with this name, TikTok shop id or Shopify domain (first match)."""
    conditions: list[ColumnElement[bool]] = []
    if name is not None:
        conditions.append(t.c.name == name)
    if tiktok_shop_id is not None:
        conditions.append(t.c.tiktok_shop_id == tiktok_shop_id)
    if shopify_domain is not None:
        conditions.append(t.c.shopify_domain == shopify_domain)
    if not conditions:
        raise ValueError("find_connection needs name, tiktok_shop_id or shopify_domain")
    row = conn.execute(select(t).where(*conditions).order_by(t.c.id).limit(1)).first()
    return None if row is None else _row(cipher, row)


def list_connections(
    conn: Connection, cipher: TokenCipher, *, status: str | None = None
) -> list[ConnectionRow]:
    """Every connection (or those with ``status``), by id."""
    stmt = select(t).order_by(t.c.id)
    if status is not None:
        stmt = stmt.where(t.c.status == str(status))
    return [_row(cipher, r) for r in conn.execute(stmt)]


def list_connection_ids(conn: Connection, *, status: str | None = None) -> list[int]:
    """Ids of every connection (or those with ``status``), without decrypting anything:
    the poller reads each connection on its own so one bad token parks only that one."""
    stmt = select(t.c.id).order_by(t.c.id)
    if status is not None:
        stmt = stmt.where(t.c.status == str(status))
    return [int(r.id) for r in conn.execute(stmt)]


def undecryptable(conn: Connection, cipher: TokenCipher, *, status: str | None = None) -> list[int]:
    """Ids of the connections (or those with ``status``) with a token ``cipher`` cannot open."""
    stmt = select(t.c.id, *(t.c[c] for c in _SECRETS.values())).order_by(t.c.id)
    if status is not None:
        stmt = stmt.where(t.c.status == str(status))
    bad: list[int] = []
    for row in conn.execute(stmt):
        try:
            for column in _SECRETS.values():
                cipher.decrypt_optional(row._mapping[column])
        except ConfigurationError:
            bad.append(int(row.id))
    return bad


def rotate_tokens(conn: Connection, cipher: TokenCipher, *, now: datetime) -> int:
    """Re-encrypt every stored token under the cipher's first key; the number of rows changed.

    ``ConfigurationError`` (nothing changed: the caller's transaction rolls back) if a token
    opens with none of the keys.
    """
    changed = 0
    for row in conn.execute(select(t.c.id, *(t.c[c] for c in _SECRETS.values())).order_by(t.c.id)):
        values = {
            column: cipher.rotate(row._mapping[column])
            for column in _SECRETS.values()
            if row._mapping[column] is not None
        }
        if values:
            conn.execute(update(t).where(t.c.id == row.id).values(**values, updated_at=now))
            changed += 1
    return changed
