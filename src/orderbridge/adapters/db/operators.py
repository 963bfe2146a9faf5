"""Operators of the private surface: users with roles, their API tokens, the audit log.

A token is ``obt_`` + 32 random bytes (url-safe base64), shown once when created; only its
SHA-256 is stored. A token is a high-entropy secret, so a fast hash is enough (passwords
need a slow one: ``web_sessions.py``). Checking a token is one indexed lookup by
hash: a token that is unknown, revoked, expired or whose user is disabled gives None.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import Connection, insert, select, update

from orderbridge.adapters.db._sql import row_dict
from orderbridge.adapters.db.errors import AlreadyExists
from orderbridge.adapters.db.tables import api_tokens, audit_log, users

__all__ = [
    "TOKEN_PREFIX",
    "AuditRow",
    "Principal",
    "Role",
    "TokenRow",
    "UserRow",
    "add_user",
    "audit",
    "authenticate",
    "create_token",
    "find_user",
    "hash_token",
    "list_audit",
    "list_tokens",
    "list_users",
    "revoke_token",
    "touch_token",
]

TOKEN_PREFIX: Final = "obt_"
TOKEN_BYTES: Final = 32
# How much of a token is kept in clear to tell tokens apart in listings (never enough to use).
SHOWN_PREFIX_CHARS: Final = 10


class Role(StrEnum):
    """What an operator may do (each role includes the ones above it)."""

    VIEWER = "viewer"  # reads orders, exceptions, connections, SKU links
    OPERATOR = "operator"  # also acts: retry, dismiss, exception actions, SKU links
    ADMIN = "admin"  # also manages users, tokens and connections

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS: Final = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
# A user as listed: never the password hash (web_sessions.py reads it for sign-in only).
_USER_COLUMNS: Final = (users.c.id, users.c.name, users.c.role, users.c.created_at, users.c.disabled_at)


@dataclass(frozen=True, slots=True)
class UserRow:
    """An operator."""

    id: int
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An API token (never the token itself)."""

    id: int
    user_id: int
    name: str
    token_hash: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: the user and the token they presented."""

    user_id: int
    name: str
    role: Role
    token_id: int | None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audited action."""

    id: int
    at: datetime
    actor: str
    user_id: int | None
    token_id: int | None
    method: str
    path: str
    status: int
    client: str | None


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(conn: Connection, name: str, role: Role, *, now: datetime) -> UserRow:
    """Create a user; AlreadyExists if the name is taken."""
    if find_user(conn, name) is not None:
        raise AlreadyExists(f"user {name!r} already exists")
    conn.execute(insert(users).values(name=name, role=role.value, created_at=now))
    found = find_user(conn, name)
    assert found is not None
    return found


def find_user(conn: Connection, name: str) -> UserRow | None:
    """The user named ``name``, or None."""
    row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name)).first()
    return UserRow(**row_dict(row)) if row is not None else None


def list_users(conn: Connection) -> list[UserRow]:
    """Every user, oldest first."""
    return [UserRow(**row_dict(r)) for r in conn.execute(select(*_USER_COLUMNS).order_by(users.c.id))]


def create_token(conn: Connection, user: UserRow, name: str, *, now: datetime,
                 expires_at: datetime) -> tuple[str, TokenRow]:
    """A new token for ``user``: (the token, to show once; its stored row)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    digest = hash_token(token)
    conn.execute(insert(api_tokens).values(
        user_id=user.id, name=name, token_hash=digest, prefix=token[:SHOWN_PREFIX_CHARS],
        created_at=now, expires_at=expires_at))
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest)).one()
    return token, TokenRow(**row_dict(row))


def list_tokens(conn: Connection, user_id: int | None = None) -> list[TokenRow]:
    """Tokens (of one user, or all), oldest first."""
    stmt = select(api_tokens).order_by(api_tokens.c.id)
    if user_id is not None:
        stmt = stmt.where(api_tokens.c.user_id == user_id)
    return [TokenRow(**row_dict(r)) for r in conn.execute(stmt)]


def revoke_token(conn: Connection, token_id: int, *, now: datetime) -> bool:
    """Revoke a token; False if there is no such token or it was already revoked."""
    done = conn.execute(update(api_tokens).where(
        api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
    return bool(done.rowcount)


def authenticate(conn: Connection, token: str, *, now: datetime) -> Principal | None:
    """The principal a presented token stands for, or None (unknown, revoked, expired,
    disabled user). Read-only: ``touch_token`` records the use."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    t, u = api_tokens, users
    row = conn.execute(
        select(t.c.id, t.c.expires_at, t.c.last_used_at, t.c.revoked_at, u.c.id.label("user_id"), u.c.name, u.c.role,
               u.c.disabled_at)
        .join(u, u.c.id == t.c.user_id).where(t.c.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None or row.disabled_at is not None or row.expires_at <= now:
        return None
    return Principal(user_id=int(row.user_id), name=str(row.name), role=Role(row.role),
                     token_id=int(row.id), last_used_at=row.last_used_at)


def touch_token(conn: Connection, token_id: int, *, now: datetime) -> None:
    """Record that a token was used now."""
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def audit(conn: Connection, *, at: datetime, actor: str, method: str, path: str, status: int,
          user_id: int | None = None, token_id: int | None = None, client: str | None = None) -> None:
    """Record one action in the audit log."""
    conn.execute(insert(audit_log).values(
        at=at, actor=actor, user_id=user_id, token_id=token_id, method=method, path=path[:2000],
        status=status, client=client))


def list_audit(conn: Connection, *, limit: int = 100) -> list[AuditRow]:
    """The newest audited actions, newest first."""
    stmt = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    return [AuditRow(**row_dict(r)) for r in conn.execute(stmt)]
